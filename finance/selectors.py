"""Read API of finance: balances, cash flow, receivables, default rate, margins.

Everything is aggregated in SQL (``values().annotate()``, ``Trunc*``, subqueries): the
number of queries of each selector does not depend on how many orders or entries exist.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import reduce
from itertools import pairwise
from operator import or_
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connection, models
from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Trunc, TruncDate
from django.utils import timezone

from finance.models import (
    CampaignCost,
    CashAccount,
    CashEntry,
    CashRollup,
    DeliveryRollup,
    Instalment,
    InstalmentRollup,
    MonthlyGoal,
    Payable,
    Refund,
    RollupDay,
    SalesRollup,
    SkuSalesRollup,
)
from orders.models import Channel, Order, OrderLine
from orders.status import Payment

MONEY: DecimalField[Decimal, Decimal] = DecimalField(max_digits=14, decimal_places=2)
ZERO = Value(Decimal("0.00"), output_field=MONEY)
PERIODS = ("day", "week", "month")
SALE_STATUSES = [
    Payment.PAID,
    Payment.PARTIALLY_REFUNDED,
    Payment.REFUNDED,
    Payment.CHARGEBACK,
]
TRANSFER_KINDS = [CashEntry.Kind.TRANSFER_IN, CashEntry.Kind.TRANSFER_OUT]


# --- time helpers ---------------------------------------------------------------------------


def month_start(value: date) -> date:
    return value.replace(day=1)


def month_end(value: date) -> date:
    """Last day of ``value``'s month."""
    return value.replace(day=calendar.monthrange(value.year, value.month)[1])


def next_month(value: date) -> date:
    return month_end(value) + timedelta(days=1)


def parse_month(text: str) -> date:
    """``"2026-10"`` -> ``date(2026, 10, 1)``."""
    year, _, month = text.strip().partition("-")
    return date(int(year), int(month), 1)


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """Aware datetimes [start 00:00, end+1 00:00) in the current time zone."""
    tz = timezone.get_current_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=tz),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
    )


def _money(value: Any) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


# --- optional sources from apps built separately ------------------------------------------


def optional_model(app_label: str, model_name: str) -> type[models.Model] | None:
    """A model of another app if that app defines it (logistics and parts of crm are
    being built alongside finance); None otherwise."""
    try:
        return apps.get_model(app_label, model_name)
    except LookupError:
        return None


def first_field(model: type[models.Model] | None, *names: str) -> str | None:
    """The first of ``names`` that ``model`` has as a concrete field."""
    if model is None:
        return None
    fields = {f.name for f in model._meta.concrete_fields}
    return next((n for n in names if n in fields), None)


def shipment_cost_field() -> str | None:
    return first_field(
        optional_model("logistics", "Shipment"),
        "cost",
        "freight_cost",
        "shipping_cost",
        "carrier_cost",
        "price",
    )


# --- cash -------------------------------------------------------------------------------------


def cash_balances() -> QuerySet[CashAccount]:
    """Accounts with ``balance`` = SUM of their ledger (one query)."""
    return CashAccount.objects.annotate(
        balance=Coalesce(Sum("entries__amount"), ZERO, output_field=MONEY)
    ).order_by("name")


def cash_account_balance(*, account_id: int) -> Decimal:
    total = CashEntry.objects.filter(account_id=account_id).aggregate(s=Sum("amount"))["s"]
    return _money(total)


def _trunc(field: str, period: str, output: models.Field) -> Trunc:
    if period not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS}")
    return Trunc(field, period, output_field=output)


def _in_out(amount: str = "amount") -> dict[str, Coalesce]:
    return {
        "inflow": Coalesce(
            Sum(Case(When(**{f"{amount}__gt": 0}, then=F(amount)), default=ZERO)),
            ZERO,
            output_field=MONEY,
        ),
        "outflow": Coalesce(
            Sum(Case(When(**{f"{amount}__lt": 0}, then=-F(amount)), default=ZERO)),
            ZERO,
            output_field=MONEY,
        ),
    }


def cashflow_actual(*, start: date, end: date, period: str = "day") -> list[dict[str, Any]]:
    """Money in and out of all accounts per period, from the ledger (transfers between
    our own accounts are not cash flow and are left out): the days of the daily rollup
    from ``CashRollup``, the others from the entries. Two queries at most."""
    cached, live = _split_days(start, end)
    table: dict[date, dict[str, Decimal]] = {}

    def add(rows: Iterable[dict[str, Any]]) -> None:
        for r in rows:
            row = table.setdefault(
                r["period"], {"inflow": Decimal("0.00"), "outflow": Decimal("0.00")}
            )
            row["inflow"] += _money(r["inflow"])
            row["outflow"] += _money(r["outflow"])

    if live:
        add(
            CashEntry.objects.filter(at_days_filter("created_at", live))
            .exclude(kind__in=TRANSFER_KINDS)
            .annotate(period=_trunc("created_at", period, models.DateField()))
            .values("period")
            .annotate(**_in_out())
            .order_by()
        )
    if cached:
        add(
            CashRollup.objects.filter(day__in=cached)
            .exclude(kind__in=TRANSFER_KINDS)
            .annotate(period=_trunc("day", period, models.DateField()))
            .values("period")
            .annotate(inflow=_money_sum("inflow"), outflow=_money_sum("outflow"))
            .order_by()
        )
    return [
        {
            "period": p,
            "inflow": v["inflow"],
            "outflow": v["outflow"],
            "net": v["inflow"] - v["outflow"],
        }
        for p, v in sorted(table.items())
    ]


def account_balances() -> list[dict[str, Any]]:
    """Every account (by name) with its balance, the SUM of its whole ledger: the days
    of the daily rollup from ``CashRollup``, every other entry (today, stale or never
    filled days) from the ledger. Three queries, whatever the ledger's length."""
    runs = rollup_runs()
    balances: dict[int, Decimal] = {}
    live = CashEntry.objects.all()
    if runs:
        live = live.filter(outside_runs_filter("created_at", runs))
        rolled = (
            CashRollup.objects.filter(inside_runs_filter("day", runs, dates=True))
            .values("account_id")
            .annotate(s=_money_sum(F("inflow") - F("outflow")))
            .values_list("account_id", "s")
        )
        for account_id, total in rolled:
            balances[account_id] = balances.get(account_id, Decimal("0.00")) + _money(total)
    for account_id, total in (
        live.values("account_id").annotate(s=Sum("amount")).values_list("account_id", "s")
    ):
        balances[account_id] = balances.get(account_id, Decimal("0.00")) + _money(total)
    return [
        {"name": a.name, "currency": a.currency, "balance": balances.get(a.pk, Decimal("0.00"))}
        for a in CashAccount.objects.order_by("name")
    ]


def cashflow_projected(*, start: date, end: date, period: str = "day") -> list[dict[str, Any]]:
    """Expected money in (open instalments, net of fees) and out (open payables) per
    period by due date; the instalments of the daily rollup's days from
    ``InstalmentRollup``. Four queries at most."""
    cached, live = _split_days(start, end)
    inflows: list[dict[str, Any]] = []
    if live:
        inflows += (
            Instalment.objects.filter(
                inside_runs_filter("due_date", day_runs(live), dates=True),
                status=Instalment.Status.OPEN,
            )
            .annotate(period=_trunc("due_date", period, models.DateField()))
            .values("period")
            .annotate(total=Sum("net"))
            .order_by()
        )
    if cached:
        inflows += (
            InstalmentRollup.objects.filter(day__in=cached, status=Instalment.Status.OPEN)
            .annotate(period=_trunc("day", period, models.DateField()))
            .values("period")
            .annotate(total=Sum("net"))
            .order_by()
        )
    outflows = (
        Payable.objects.filter(status=Payable.Status.OPEN, due_date__gte=start, due_date__lte=end)
        .annotate(period=_trunc("due_date", period, models.DateField()))
        .values("period")
        .annotate(total=Sum("amount"))
    )
    table: dict[date, dict[str, Any]] = {}
    for r in inflows:
        table.setdefault(r["period"], {"inflow": Decimal("0.00"), "outflow": Decimal("0.00")})
        table[r["period"]]["inflow"] += _money(r["total"])
    for r in outflows:
        table.setdefault(r["period"], {"inflow": Decimal("0.00"), "outflow": Decimal("0.00")})
        table[r["period"]]["outflow"] += _money(r["total"])
    return [
        {
            "period": p,
            "inflow": v["inflow"],
            "outflow": v["outflow"],
            "net": v["inflow"] - v["outflow"],
        }
        for p, v in sorted(table.items())
    ]


# --- receivables and payables -----------------------------------------------------------


def receivables_overdue(*, as_of: date | None = None) -> QuerySet[Instalment]:
    as_of = as_of or timezone.localdate()
    return (
        Instalment.objects.filter(status=Instalment.Status.OPEN, due_date__lt=as_of)
        .select_related("receivable__order")
        .order_by("due_date", "pk")
    )


def payables_overdue(*, as_of: date | None = None) -> QuerySet[Payable]:
    as_of = as_of or timezone.localdate()
    return (
        Payable.objects.filter(status=Payable.Status.OPEN, due_date__lt=as_of)
        .select_related("supplier")
        .order_by("due_date", "pk")
    )


def receivables_summary(*, start: date, end: date, as_of: date | None = None) -> dict[str, Any]:
    """Receivables due in [start, end], how much of it is overdue at ``as_of`` and the
    default rate (inadimplência = overdue amount / amount due in the period), plus
    everything still open. The due days of the daily rollup are summed from
    ``InstalmentRollup``, the other instalments one by one: three queries at most."""
    as_of = as_of or timezone.localdate()
    runs = rollup_runs()

    def sums(qs: QuerySet[Any], day: str) -> dict[str, Any]:
        in_period = Q(**{f"{day}__gte": start, f"{day}__lte": end}) & ~Q(
            status=Instalment.Status.CANCELLED
        )
        open_ = Q(status=Instalment.Status.OPEN)
        overdue_all = open_ & Q(**{f"{day}__lt": as_of})
        return qs.aggregate(
            due=_money_sum_if("net", in_period),
            overdue=_money_sum_if("net", in_period & overdue_all),
            received=_money_sum_if("net", in_period & Q(status=Instalment.Status.PAID)),
            open_total=_money_sum_if("net", open_),
            overdue_all=_money_sum_if("net", overdue_all),
        )

    live = Instalment.objects.all()
    parts = []
    if runs:
        live = live.filter(outside_runs_filter("due_date", runs, dates=True))
        parts.append(
            sums(
                InstalmentRollup.objects.filter(inside_runs_filter("day", runs, dates=True)), "day"
            )
        )
    parts.append(sums(live, "due_date"))
    row = {k: sum((_money(p[k]) for p in parts), Decimal("0.00")) for k in parts[0]}
    due, late = row["due"], row["overdue"]
    return {
        "due": due,
        "overdue": late,
        "received": row["received"],
        "open_total": row["open_total"],
        "overdue_all": row["overdue_all"],
        "default_rate": (late / due) if due else None,
    }


def _money_sum_if(field: str, condition: Q) -> Coalesce:
    return Coalesce(Sum(field, filter=condition), ZERO, output_field=MONEY)


def payables_summary(*, as_of: date | None = None) -> dict[str, Decimal]:
    as_of = as_of or timezone.localdate()
    open_q = Q(status=Payable.Status.OPEN)
    row = Payable.objects.aggregate(
        open_total=Coalesce(Sum("amount", filter=open_q), ZERO, output_field=MONEY),
        overdue=Coalesce(
            Sum("amount", filter=open_q & Q(due_date__lt=as_of)), ZERO, output_field=MONEY
        ),
    )
    return {k: _money(v) for k, v in row.items()}


# --- sales and margin ---------------------------------------------------------------------


def sales_filter(*, start: date, end: date, prefix: str = "") -> Q:
    """The condition of :func:`sales_orders`, on ``prefix`` (``"order__"`` from a model
    that points at the order), so a grouped query joins the order once."""
    lo, hi = day_bounds(start, end)
    return Q(
        **{
            f"{prefix}paid_at__gte": lo,
            f"{prefix}paid_at__lt": hi,
            f"{prefix}payment_status__in": SALE_STATUSES,
        }
    )


def sales_orders(*, start: date, end: date) -> QuerySet[Order]:
    """Orders that count as sales of [start, end]: paid in that window (refunds and
    chargebacks later are subtracted as refunds, not by dropping the sale)."""
    return Order.objects.filter(sales_filter(start=start, end=end))


def with_margin(orders: QuerySet[Order]) -> QuerySet[Order]:
    """Annotate each order with its margin parts, each one correlated subquery or join:

    margin = subtotal + shipping charged - discounts - cost of goods (unit_cost × qty)
             - freight paid (logistics shipments, 0 when unknown) - gateway fee - refunds

    For a few orders (one order's page, an export of a selection). Totals over a period
    use :func:`margin_groups`, which does not run a subquery per order.
    """
    cogs = (
        OrderLine.objects.filter(order=OuterRef("pk"))
        .values("order")
        .annotate(s=Sum(F("unit_cost") * F("quantity"), output_field=MONEY))
        .values("s")
    )
    refunds = (
        Refund.objects.filter(order=OuterRef("pk"))
        .values("order")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    qs = orders.annotate(
        m_cogs=Coalesce(Subquery(cogs, output_field=MONEY), ZERO, output_field=MONEY),
        m_fee=Coalesce(F("receivable__fee"), ZERO, output_field=MONEY),
        m_refunds=Coalesce(Subquery(refunds, output_field=MONEY), ZERO, output_field=MONEY),
    )
    shipment = optional_model("logistics", "Shipment")
    cost_field = shipment_cost_field()
    if shipment is not None and cost_field:
        freight = (
            shipment.objects.filter(order=OuterRef("pk"))  # type: ignore[attr-defined]
            .values("order")
            .annotate(s=Sum(cost_field))
            .values("s")
        )
        qs = qs.annotate(
            m_freight=Coalesce(Subquery(freight, output_field=MONEY), ZERO, output_field=MONEY)
        )
    else:
        qs = qs.annotate(m_freight=ZERO)
    return qs.annotate(
        m_margin=ExpressionWrapper(
            F("subtotal")
            + F("shipping_total")
            - F("discount_total")
            - F("m_cogs")
            - F("m_freight")
            - F("m_fee")
            - F("m_refunds"),
            output_field=MONEY,
        )
    )


MARGIN_PARTS = (
    "revenue",
    "subtotal",
    "shipping",
    "discounts",
    "cogs",
    "freight",
    "fees",
    "refunds",
)
GroupKey = tuple[int, str, str]  # (channel id, channel name, utm_campaign)


def _money_sum(expression: Any) -> Coalesce:
    return Coalesce(Sum(expression, output_field=MONEY), ZERO, output_field=MONEY)


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def day_runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive days merged into (first, last) runs: [1, 2, 3, 7] -> [(1, 3), (7, 7)]."""
    runs: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def sales_days_filter(days: Sequence[date], *, prefix: str = "") -> Q:
    """:func:`sales_filter` for a set of days (not empty): one ``paid_at`` range per run of
    consecutive days, OR-ed, so it is one query however the days are spread."""
    if not days:
        raise ValueError("sales_days_filter needs at least one day")
    return reduce(or_, (sales_filter(start=a, end=b, prefix=prefix) for a, b in day_runs(days)))


def at_days_filter(field: str, days: Sequence[date]) -> Q:
    """``field`` (a datetime) on one of ``days`` (not empty): one range per run."""
    return inside_runs_filter(field, day_runs(days))


def inside_runs_filter(field: str, runs: Sequence[tuple[date, date]], *, dates: bool = False) -> Q:
    """``field`` inside one of the runs of days (not empty); ``dates``: a DateField,
    otherwise a datetime compared with the runs' bounds in the current time zone."""
    terms = []
    for first, last in runs:
        if dates:
            terms.append(Q(**{f"{field}__gte": first, f"{field}__lte": last}))
        else:
            lo, hi = day_bounds(first, last)
            terms.append(Q(**{f"{field}__gte": lo, f"{field}__lt": hi}))
    return reduce(or_, terms)


def outside_runs_filter(field: str, runs: Sequence[tuple[date, date]], *, dates: bool = False) -> Q:
    """``field`` outside every run (not empty), as ranges between them, so that an index
    on ``field`` reads only the rows outside."""
    bounds = [
        ((first, last + timedelta(days=1)) if dates else day_bounds(first, last))
        for first, last in runs
    ]
    terms = [Q(**{f"{field}__lt": bounds[0][0]})]
    for (_, hi), (lo, _) in pairwise(bounds):
        terms.append(Q(**{f"{field}__gte": hi, f"{field}__lt": lo}))
    terms.append(Q(**{f"{field}__gte": bounds[-1][1]}))
    return reduce(or_, terms)


# --- the daily sales rollup ---------------------------------------------------------------
#
# finance.services.daily_rollup fills SalesRollup / SkuSalesRollup one day at a time with
# the queries below (_margin_parts, _sku_parts) and marks the day valid in RollupDay.
# Readers take a day from the rollup only while its RollupDay says it holds; every
# other day of the period (today, a day never filled, a day some change has made stale)
# is summed live from the orders by the same queries. The PostgreSQL triggers of
# finance migration 0002 set ``stale`` in the transaction of any change to what these
# queries read (finance/services/daily_rollup.py has the argument in full).


def daily_rollup_enabled() -> bool:
    """The rollup is kept exact by PostgreSQL triggers; elsewhere (the SQLite demo and
    test runs) every figure is computed live. ``FINANCE_DAILY_ROLLUP = False`` turns it
    off on PostgreSQL too."""
    return connection.vendor == "postgresql" and getattr(settings, "FINANCE_DAILY_ROLLUP", True)


_valid_days: ContextVar[set[date] | None] = ContextVar("finance_rollup_valid_days", default=None)


@contextmanager
def rollup_snapshot() -> Iterator[None]:
    """Read the valid days once for everything inside (the report: one query instead of
    one per section). Use it inside one transaction (the report's REPEATABLE READ
    snapshot), so the days stay valid for every read."""
    token = _valid_days.set(_load_valid_days() if daily_rollup_enabled() else set())
    try:
        yield
    finally:
        _valid_days.reset(token)


def _load_valid_days(*, start: date | None = None, end: date | None = None) -> set[date]:
    rows = RollupDay.objects.filter(stale=False)
    if start is not None and end is not None:
        rows = rows.filter(day__gte=start, day__lte=end)
    return {
        day
        for day, lo, hi in rows.values_list("day", "starts_at", "ends_at")
        if (lo, hi) == day_bounds(day, day)
    }


def rollup_days(*, start: date, end: date) -> set[date]:
    """The days of [start, end] whose rollup rows can be read: filled, not stale since,
    and filled in the current time zone (the bounds match). One query (none inside
    :func:`rollup_snapshot`)."""
    if not daily_rollup_enabled():
        return set()
    known = _valid_days.get()
    if known is not None:
        return {day for day in known if start <= day <= end}
    return _load_valid_days(start=start, end=end)


def rollup_runs() -> list[tuple[date, date]]:
    """Every valid day of the rollup (as in :func:`rollup_days`), as runs of consecutive
    days: the sums over all time (cash balances, open receivables) read these from the
    rollup and the rest from the source. One query (none inside
    :func:`rollup_snapshot`)."""
    if not daily_rollup_enabled():
        return []
    known = _valid_days.get()
    return day_runs(known if known is not None else _load_valid_days())


def _cash_parts(day: date) -> QuerySet[Any]:
    """Money in and out per (account, kind) of the entries of ``day``. One query; the
    daily rollup's fill."""
    return (
        CashEntry.objects.filter(at_days_filter("created_at", [day]))
        .values("account_id", "kind")
        .annotate(**_in_out())
        .order_by()
    )


def _delivery_parts(days: Sequence[date]) -> dict[str, int]:
    """Shipments delivered on ``days`` with a promised date, and how many of them by
    that date (the local date of ``delivered_at``). One query; live and to fill the
    rollup."""
    from logistics.models import Shipment

    on_time = Q(delivered_at__date__lte=F("promised_date"))
    return Shipment.objects.filter(
        at_days_filter("delivered_at", days), promised_date__isnull=False
    ).aggregate(delivered=Count("pk"), on_time=Count("pk", filter=on_time))


def delivery_on_time(*, start: date, end: date) -> dict[str, int]:
    """Shipments delivered in [start, end] that had a promised date, and how many
    arrived by it: from ``DeliveryRollup`` for the rollup's days, live for the others.
    Two queries at most."""
    cached, live = _split_days(start, end)
    row = {"delivered": 0, "on_time": 0}
    parts = [_delivery_parts(live)] if live else []
    if cached:
        parts.append(
            DeliveryRollup.objects.filter(day__in=cached).aggregate(
                delivered=Sum("delivered"), on_time=Sum("on_time")
            )
        )
    for part in parts:
        row["delivered"] += part["delivered"] or 0
        row["on_time"] += part["on_time"] or 0
    return row


def _instalment_parts(day: date) -> QuerySet[Any]:
    """Net amount per status of the instalments due on ``day``. One query; the daily
    rollup's fill."""
    return (
        Instalment.objects.filter(due_date=day)
        .values("status")
        .annotate(net=_money_sum("net"))
        .order_by()
    )


def _split_days(start: date, end: date) -> tuple[list[date], list[date]]:
    """(days read from the rollup, days computed live) of [start, end]."""
    cached = rollup_days(start=start, end=end)
    every = days_between(start, end)
    return [d for d in every if d in cached], [d for d in every if d not in cached]


GroupParts = dict[tuple[int, str], dict[str, Any]]  # (channel id, utm_campaign) -> parts


def _margin_parts(days: Sequence[date]) -> GroupParts:
    """Orders and margin parts of the sales paid on ``days``, per (channel, campaign).

    Every part of the margin is additive, so each is summed by its own grouped join
    (orders with their gateway fee, lines for the cost of goods, shipments for the
    freight, refunds) instead of a correlated subquery per order: four queries, one pass
    over each table's rows of those days. Used live and to fill the rollup."""
    on_sale = sales_days_filter(days)
    on_order = sales_days_filter(days, prefix="order__")
    groups: GroupParts = {}
    rows = (
        Order.objects.filter(on_sale)
        .values("channel_id", "utm_campaign")
        .annotate(
            orders=Count("pk"),
            revenue=_money_sum("total"),
            subtotal=_money_sum("subtotal"),
            shipping=_money_sum("shipping_total"),
            discounts=_money_sum("discount_total"),
            fees=_money_sum("receivable__fee"),
        )
        .order_by()
    )
    for r in rows:
        groups[(r["channel_id"], r["utm_campaign"])] = {
            "orders": r["orders"],
            **{k: _money(r[k]) for k in ("revenue", "subtotal", "shipping", "discounts", "fees")},
            "cogs": Decimal("0.00"),
            "freight": Decimal("0.00"),
            "refunds": Decimal("0.00"),
        }

    def add(part: str, qs: QuerySet[Any], expression: Any) -> None:
        rows = (
            qs.filter(on_order)
            .values("order__channel_id", "order__utm_campaign")
            .annotate(s=_money_sum(expression))
            .order_by()
        )
        for r in rows:
            group = groups.get((r["order__channel_id"], r["order__utm_campaign"]))
            if group is not None:  # always: the same orders
                group[part] += _money(r["s"])

    add("cogs", OrderLine.objects.all(), F("unit_cost") * F("quantity"))
    add("refunds", Refund.objects.all(), F("amount"))
    shipment = optional_model("logistics", "Shipment")
    cost_field = shipment_cost_field()
    if shipment is not None and cost_field:
        add("freight", shipment._default_manager.all(), F(cost_field))
    return groups


def _sku_parts(days: Sequence[date]) -> QuerySet[Any]:
    """Per (SKU, product) of the sales paid on ``days``: name, units, line totals and
    cost of goods. One query; used live and to fill the rollup."""
    return (
        OrderLine.objects.filter(sales_days_filter(days, prefix="order__"))
        .values("sku", "product_id")
        .annotate(
            name=models.Max("name"),
            units=Sum("quantity"),
            revenue=_money_sum("total"),
            cogs=_money_sum(F("unit_cost") * F("quantity")),
        )
        .order_by()
    )


def margin_groups(*, start: date, end: date) -> dict[GroupKey, dict[str, Any]]:
    """Sales and margin parts of the period per (channel, utm_campaign).

    Days whose rollup holds are summed from ``SalesRollup`` (one query over at most
    days x groups rows); the others by :func:`_margin_parts` from the orders. Plus one
    query for the valid days and one for the channel names. The result has one entry per
    channel and campaign that sold (not per order)."""
    cached, live = _split_days(start, end)
    groups: GroupParts = _margin_parts(live) if live else {}
    if cached:
        rows = (
            SalesRollup.objects.filter(day__in=cached)
            .values("channel_id", "utm_campaign")
            .annotate(
                n=Sum("orders"),
                **{f"s_{part}": _money_sum(part) for part in MARGIN_PARTS},
            )
            .order_by()
        )
        for r in rows:
            group = groups.setdefault((r["channel_id"], r["utm_campaign"]), _empty())
            group["orders"] += r["n"]
            for part in MARGIN_PARTS:
                group[part] += _money(r[f"s_{part}"])
    names = dict(
        Channel.objects.filter(pk__in={cid for cid, _ in groups}).values_list("pk", "name")
    )
    return {(cid, names.get(cid, ""), campaign): g for (cid, campaign), g in groups.items()}


def sales_daily(*, start: date, end: date) -> dict[date, Decimal]:
    """Revenue of the sales paid on each day of [start, end] (days without sales left
    out): from the rollup where it holds, live otherwise. Two queries at most."""
    cached, live = _split_days(start, end)
    daily: dict[date, Decimal] = {}
    if live:
        sold = (
            Order.objects.filter(sales_days_filter(live))
            .annotate(day=TruncDate("paid_at"))
            .values("day")
            .annotate(s=Sum("total"))
            .values_list("day", "s")
        )
        daily.update((day, _money(s)) for day, s in sold)
    if cached:
        rows = (
            SalesRollup.objects.filter(day__in=cached)
            .values("day")
            .annotate(s=Sum("revenue"))
            .values_list("day", "s")
        )
        daily.update((day, _money(s)) for day, s in rows)
    return dict(sorted(daily.items()))


def _finish(row: dict[str, Any]) -> dict[str, Any]:
    row["margin"] = (
        row["subtotal"]
        + row["shipping"]
        - row["discounts"]
        - row["cogs"]
        - row["freight"]
        - row["fees"]
        - row["refunds"]
    )
    row["margin_pct"] = (row["margin"] / row["revenue"] * 100) if row["revenue"] else None
    return row


def _empty() -> dict[str, Any]:
    return {"orders": 0, **{p: Decimal("0.00") for p in MARGIN_PARTS}}


def _rollup(groups: dict[GroupKey, dict[str, Any]], keep: Any) -> dict[Any, dict[str, Any]]:
    """Sum the groups of :func:`margin_groups` by ``keep(key)`` (one row per channel and
    campaign that sold, never per order) and derive margin and margin %."""
    out: dict[Any, dict[str, Any]] = {}
    for key, g in groups.items():
        row = out.setdefault(keep(key), _empty())
        row["orders"] += g["orders"]
        for part in MARGIN_PARTS:
            row[part] += g[part]
    return {k: _finish(row) for k, row in out.items()}


def margin_totals(
    *, start: date, end: date, groups: dict[GroupKey, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Sales and margin of the period in one row. Pass ``groups`` (from
    :func:`margin_groups`) to reuse them instead of querying again."""
    groups = margin_groups(start=start, end=end) if groups is None else groups
    return _rollup(groups, lambda k: None).get(None) or _finish(_empty())


def margin_by_channel(
    *, start: date, end: date, groups: dict[GroupKey, dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    groups = margin_groups(start=start, end=end) if groups is None else groups
    rows = [
        {"channel_id": cid, "channel__name": name, **row}
        for (cid, name), row in _rollup(groups, lambda k: (k[0], k[1])).items()
    ]
    return sorted(rows, key=lambda r: (-r["margin"], r["channel__name"]))


def margin_by_campaign(
    *,
    start: date,
    end: date,
    limit: int | None = None,
    groups: dict[GroupKey, dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Margin per utm_campaign, with the campaign's costs in the period and its ROI
    ((margin - cost) / cost), best margin first, then campaigns that cost money and sold
    nothing. With ``limit``, the first ``limit`` rows and one more row (``others``: how
    many) summing all the rest, so the list does not grow with the number of campaigns."""
    groups = margin_groups(start=start, end=end) if groups is None else groups
    costs = {
        campaign: _money(total)
        for campaign, total in CampaignCost.objects.filter(date__gte=start, date__lte=end)
        .values("campaign")
        .annotate(total=Sum("amount"))
        .values_list("campaign", "total")
    }
    sold = sorted(
        _rollup(groups, lambda k: k[2]).items(), key=lambda item: (-item[1]["margin"], item[0])
    )
    out = []
    for campaign, row in sold:
        cost = costs.pop(campaign, Decimal("0.00")) if campaign else Decimal("0.00")
        out.append({"campaign": campaign, **row, "cost": cost, "roi": _roi(row["margin"], cost)})
    # Campaigns that cost money and sold nothing.
    for campaign, cost in sorted(costs.items()):
        out.append({"campaign": campaign, **_finish(_empty()), "cost": cost, "roi": Decimal("-1")})
    if limit is None or len(out) <= limit + 1:
        return out
    rest = out[limit:]
    others: dict[str, Any] = {**_empty(), "cost": Decimal("0.00")}
    for row in rest:
        others["orders"] += row["orders"]
        for part in (*MARGIN_PARTS, "cost"):
            others[part] += row[part]
    others = _finish(others)
    others.update(campaign=None, others=len(rest), roi=_roi(others["margin"], others["cost"]))
    return [*out[:limit], others]


def _roi(margin: Decimal, cost: Decimal) -> Decimal | None:
    return ((margin - cost) / cost) if cost else None


def margin_by_sku(*, start: date, end: date, limit: int | None = None) -> list[dict[str, Any]]:
    """Per SKU: units, revenue (line totals), cost of goods and gross margin, best
    revenue first. Order-level costs (freight, fees, refunds) are not spread over SKUs;
    see docs/finance.md. From the rollup where it holds, live otherwise (two queries at
    most, each at most one row per SKU and day)."""
    cached, live = _split_days(start, end)
    sources: list[QuerySet[Any]] = []
    if live:
        sources.append(_sku_parts(live))
    if cached:
        sources.append(
            SkuSalesRollup.objects.filter(day__in=cached)
            .values("sku", "product_id")
            .annotate(
                name=models.Max("name"),
                units=Sum("units"),
                revenue=_money_sum("revenue"),
                cogs=_money_sum("cogs"),
            )
            .order_by()
        )
    per_sku: dict[str, dict[str, Any]] = {}
    for source in sources:
        for r in source:
            row = per_sku.setdefault(
                r["sku"],
                {
                    "sku": r["sku"],
                    "name": r["name"],
                    "quantity": 0,
                    "revenue": Decimal("0.00"),
                    "cogs": Decimal("0.00"),
                },
            )
            row["name"] = max(row["name"], r["name"])
            row["quantity"] += r["units"]
            row["revenue"] += _money(r["revenue"])
            row["cogs"] += _money(r["cogs"])
    rows = sorted(per_sku.values(), key=lambda r: (-r["revenue"], r["sku"]))
    if limit:
        rows = rows[:limit]
    for row in rows:
        row["margin"] = row["revenue"] - row["cogs"]
    return rows


def products_sold(*, start: date, end: date) -> list[Q]:
    """Conditions on ``Product`` (as ``Exists`` terms) true when the product was sold in
    [start, end]: one over the rollup's days, one over the live days' order lines."""
    cached, live = _split_days(start, end)
    terms: list[Q] = []
    if cached:
        terms.append(
            Q(Exists(SkuSalesRollup.objects.filter(product_id=OuterRef("pk"), day__in=cached)))
        )
    if live:
        terms.append(
            Q(
                Exists(
                    OrderLine.objects.filter(
                        sales_days_filter(live, prefix="order__"), product_id=OuterRef("pk")
                    )
                )
            )
        )
    return terms


# --- goals ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoalProgress:
    month: date
    goal: Decimal | None
    actual: Decimal
    days_elapsed: int
    days_in_month: int
    projection: Decimal
    attainment: Decimal | None  # actual / goal
    projected_attainment: Decimal | None


def goal_progress(*, month: date, today: date | None = None) -> GoalProgress:
    """Revenue so far against the month's goal, and a linear projection from the
    month-to-date daily rate. Two queries."""
    month = month_start(month)
    today = today or timezone.localdate()
    last = month_end(month)
    cutoff = min(today, last)
    days_in_month = last.day
    days_elapsed = 0 if cutoff < month else (cutoff - month).days + 1
    actual = _money(sales_orders(start=month, end=last).aggregate(s=Sum("total"))["s"])
    goal_row = (
        MonthlyGoal.objects.filter(month=month).values_list("revenue_goal", flat=True).first()
    )
    goal = _money(goal_row) if goal_row is not None else None
    projection = _money(actual / days_elapsed * days_in_month) if days_elapsed else Decimal("0.00")
    return GoalProgress(
        month=month,
        goal=goal,
        actual=actual,
        days_elapsed=days_elapsed,
        days_in_month=days_in_month,
        projection=projection,
        attainment=(actual / goal) if goal else None,
        projected_attainment=(projection / goal) if goal else None,
    )


def finance_kpis(*, today: date | None = None) -> dict[str, Any]:
    """Figures for the admin dashboard (three queries)."""
    today = today or timezone.localdate()
    progress = goal_progress(month=today, today=today)
    receivables = receivables_summary(start=month_start(today), end=today, as_of=today)
    payables = Payable.objects.filter(
        status=Payable.Status.OPEN, due_date__lte=today + timedelta(days=7)
    ).aggregate(s=Sum("amount"))["s"]
    return {
        "revenue_month": progress.actual,
        "goal_attainment": progress.attainment,
        "receivables_overdue": receivables["overdue_all"],
        "payables_next_7_days": _money(payables),
    }
