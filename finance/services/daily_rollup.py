"""Fill the daily rollup that the monthly report reads: per day, the sales and margin
parts per channel and campaign (``SalesRollup``) and per SKU (``SkuSalesRollup``) of the
orders paid that day, money in and out per account and kind (``CashRollup``) of the
ledger entries of that day, the net per status of the instalments due that day
(``InstalmentRollup``), the deliveries of that day and how many were on time
(``DeliveryRollup``), and one ``RollupDay`` per day filled.

A day is recomputed whole, in one transaction: its rows are deleted and summed again
from the source tables by the same queries the report runs for the days it sums live
(``_margin_parts``, ``_sku_parts``, ``_cash_parts``, ``_instalment_parts``,
``_delivery_parts`` in ``finance.selectors``), and its ``RollupDay`` is written with ``stale = false``.
Running it twice gives the same rows.

Why a filled day can be trusted (PostgreSQL):

- Whatever changes a figure of a day (an order's paid_at, payment status, totals,
  channel or campaign; a line; the receivable's fee; a shipment's freight; a refund; a
  cash entry; an instalment's status, amount or due date; a shipment's delivery or
  promised date) runs the triggers of migration 0002 inside its own transaction. They
  take a *shared* advisory lock on the UTC date of the order's ``paid_at`` (the entry's
  ``created_at``, the shipment's ``delivered_at``; the instalment's due date) and set
  ``stale`` on the ``RollupDay`` covering it, if there is one.
- The fill takes the same locks *exclusively* for the UTC dates the day spans. So a
  writer that touched the day before is finished (committed or rolled back) when the
  fill reads, and a writer that comes later waits for the fill's commit and then sets
  ``stale`` on the row the fill wrote.
- A writer whose trigger read the order's day while another transaction was moving the
  order to this day could have taken the lock of the old day only. So after taking its
  locks the fill also waits until every transaction of the database that had written
  anything at that moment has ended (``pg_locks``): what they wrote is visible to its
  queries. A transaction that writes later runs its triggers later, when the order's
  move has committed (the fill's lock waited for it), so it locks this day.
- Readers take a day from the rollup only while it is not stale (and was filled in the
  current time zone); the report reads in one REPEATABLE READ snapshot.

Writes that fire no triggers (``session_replication_role = replica`` bulk loads,
``TRUNCATE``) must be followed by ``manage.py finance_rollup --from ... --to ... --force``.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backoffice.errors import ConflictError
from finance.models import (
    CashRollup,
    DeliveryRollup,
    Instalment,
    InstalmentRollup,
    RollupDay,
    SalesRollup,
    SkuSalesRollup,
)
from finance.selectors import (
    _cash_parts,
    _delivery_parts,
    _instalment_parts,
    _margin_parts,
    _sku_parts,
    daily_rollup_enabled,
    day_bounds,
    days_between,
    rollup_days,
)

# First key of the advisory locks (the second is the UTC date as days since 2000-01-01);
# the same constant is in the triggers of migration 0002.
LOCK_CLASS = 74210
LOCK_EPOCH = date(2000, 1, 1)
BATCH = 2000


class DailyRollupBusy(ConflictError):
    """The day could not be locked in time (long transactions): it stays computed live."""


def _lock_keys(lo: datetime, hi: datetime) -> list[int]:
    """The UTC dates [lo, hi) touches, as the triggers number them."""
    first = lo.astimezone(UTC).date()
    last = (hi - timedelta(microseconds=1)).astimezone(UTC).date()
    return [(first - LOCK_EPOCH).days + i for i in range((last - first).days + 1)]


def _lock_day(lo: datetime, hi: datetime, *, timeout: float) -> None:
    """Exclusive advisory locks on the day's UTC dates, then wait until every transaction
    of this database that had written anything at that moment has ended (see the module
    docstring). ``DailyRollupBusy`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{int(timeout * 1000)}"])
        for key in _lock_keys(lo, hi):  # ascending: the same order as any other fill
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_CLASS, key])
        # The transactions of this database that have written something (they hold the
        # lock of their own transaction id): their triggers, if any, have run already.
        cursor.execute(
            "SELECT coalesce(array_agg(l.transactionid::text), '{}') FROM pg_locks l"
            " JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'transactionid' AND l.mode = 'ExclusiveLock' AND l.granted"
            " AND a.datname = current_database() AND l.pid <> pg_backend_pid()"
        )
        running = cursor.fetchone()[0]
        while running:
            cursor.execute(
                "SELECT coalesce(array_agg(transactionid::text), '{}') FROM pg_locks"
                " WHERE locktype = 'transactionid' AND mode = 'ExclusiveLock' AND granted"
                " AND transactionid::text = ANY(%s)",
                [running],
            )
            running = cursor.fetchone()[0]
            if not running:
                return
            if time.monotonic() > deadline:
                raise DailyRollupBusy(
                    _("Transactions older than the rollup of %(day)s are still running.")
                    % {"day": lo.date()}
                )
            time.sleep(0.05)


def daily_rollup_fill(*, day: date) -> RollupDay:
    """Recompute the rollup rows of ``day`` (in ``TIME_ZONE``) from the source tables and mark
    the day valid. Idempotent; PostgreSQL only (``ConflictError`` elsewhere, where the
    report is always computed live)."""
    if not daily_rollup_enabled():
        raise ConflictError(_("The sales rollup needs PostgreSQL."))
    lo, hi = day_bounds(day, day)
    timeout = float(getattr(settings, "FINANCE_DAILY_ROLLUP_LOCK_TIMEOUT", 60))
    with transaction.atomic():
        _lock_day(lo, hi, timeout=timeout)
        SalesRollup.objects.filter(day=day).delete()
        SkuSalesRollup.objects.filter(day=day).delete()
        SalesRollup.objects.bulk_create(
            (
                SalesRollup(day=day, channel_id=channel_id, utm_campaign=campaign, **parts)
                for (channel_id, campaign), parts in _margin_parts([day]).items()
            ),
            batch_size=BATCH,
        )
        SkuSalesRollup.objects.bulk_create(
            (
                SkuSalesRollup(
                    day=day,
                    sku=r["sku"],
                    product_id=r["product_id"],
                    name=r["name"],
                    units=r["units"],
                    revenue=r["revenue"] or Decimal("0.00"),
                    cogs=r["cogs"] or Decimal("0.00"),
                )
                for r in _sku_parts([day])
            ),
            batch_size=BATCH,
        )
        CashRollup.objects.filter(day=day).delete()
        CashRollup.objects.bulk_create(
            CashRollup(
                day=day,
                account_id=r["account_id"],
                kind=r["kind"],
                inflow=r["inflow"],
                outflow=r["outflow"],
            )
            for r in _cash_parts(day)
        )
        InstalmentRollup.objects.filter(day=day).delete()
        InstalmentRollup.objects.bulk_create(
            InstalmentRollup(day=day, status=r["status"], net=r["net"])
            for r in _instalment_parts(day)
        )
        DeliveryRollup.objects.filter(day=day).delete()
        deliveries = _delivery_parts([day])
        if deliveries["delivered"]:
            DeliveryRollup.objects.create(day=day, **deliveries)
        marker, _created = RollupDay.objects.update_or_create(
            day=day,
            defaults={"starts_at": lo, "ends_at": hi, "stale": False, "filled_at": timezone.now()},
        )
    return marker


def daily_rollup_refresh(*, start: date, end: date, force: bool = False) -> list[date]:
    """Fill the days of [start, end] that are missing, stale or of another time zone
    (every day with ``force``), one transaction per day, oldest first. Today is never
    filled: it is still moving, and the report sums it from the source tables. Days to
    come can be (instalments fall due on them). Returns the days filled; on SQLite,
    none."""
    if not daily_rollup_enabled():
        return []
    today = timezone.localdate()
    valid = set() if force else rollup_days(start=start, end=end)
    filled = []
    for day in days_between(start, end):
        if day != today and day not in valid:
            daily_rollup_fill(day=day)
            filled.append(day)
    return filled


def daily_rollup_nightly(*, days: int = 40) -> list[date]:
    """The nightly run: fill the last ``days`` days (up to yesterday) and the days to
    come on which an open instalment falls due (up to two years), when missing or stale,
    and refill every older stale day (a late refund of an order paid months ago).
    Returns the days filled."""
    if not daily_rollup_enabled():
        return []
    today = timezone.localdate()
    start = today - timedelta(days=days)
    last_due = (
        Instalment.objects.filter(status=Instalment.Status.OPEN, due_date__gt=today)
        .order_by("-due_date")
        .values_list("due_date", flat=True)
        .first()
    )
    end = min(last_due, today + timedelta(days=730)) if last_due else today - timedelta(days=1)
    filled = daily_rollup_refresh(start=start, end=end)
    older = RollupDay.objects.filter(stale=True, day__lt=start).values_list("day", flat=True)
    for day in sorted(older):
        daily_rollup_fill(day=day)
        filled.append(day)
    return filled
