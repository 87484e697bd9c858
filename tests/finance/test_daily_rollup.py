# mypy: disable-error-code="attr-defined,misc,operator,return-value"
# (factory_boy calls are typed as the factory class, not the model they return)
"""The daily sales rollup: the report's figures from the rollup equal the live ones on
varied data; a late change to a rolled-up day (refund, cancellation, freight, a line, a
moved or deleted order) makes the day stale and shows in the next report; days never
filled are summed live; the backfill command and the nightly task; the locking."""

from __future__ import annotations

import random
import threading
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from finance.models import (
    CashEntry,
    CashRollup,
    DeliveryRollup,
    Instalment,
    InstalmentRollup,
    Receivable,
    Refund,
    RollupDay,
    SalesRollup,
    SkuSalesRollup,
)
from finance.reports import report_data
from finance.selectors import (
    account_balances,
    cashflow_actual,
    cashflow_projected,
    margin_by_campaign,
    margin_by_channel,
    margin_by_sku,
    margin_groups,
    margin_totals,
    receivables_summary,
    rollup_days,
    sales_daily,
)
from finance.services import (
    cash_entry_record,
    cash_transfer,
    daily_rollup_fill,
    daily_rollup_refresh,
    instalment_settle,
    receivable_create_for_order,
    refund_record,
)
from finance.tasks import daily_rollup_nightly_task
from logistics.models import Shipment
from orders.models import Order, OrderLine
from orders.status import Payment
from tests.factories.core import (
    ChannelFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    StockLevelFactory,
    WarehouseFactory,
)
from tests.factories.finance import CampaignCostFactory, CashAccountFactory

D = Decimal
OCT = date(2026, 10, 1)
OCT_END = date(2026, 10, 31)
pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("the sales rollup is PostgreSQL only (SQLite sums every day live)")


def _tz():
    return timezone.get_current_timezone()


def build_orders(rng: random.Random, n: int, *, days: range = range(1, 32)) -> list[Order]:
    """``n`` orders over October and its edges, 3 channels, 4 campaigns (+ none), 1-3
    lines over 6 SKUs (one line without product), receivables, refunds, shipments, and
    orders that do not count (unpaid, failed, paid in September or November)."""
    tz = _tz()
    channels = [ChannelFactory(slug=f"ch{i}", name=f"Canal {i}") for i in range(3)]
    products = [ProductFactory(sku=f"S{i}", cost=D(rng.randint(100, 5000)) / 100) for i in range(6)]
    warehouse = WarehouseFactory()
    orders = []
    for i in range(n):
        status = rng.choice([Payment.PAID] * 5 + [Payment.PENDING, Payment.FAILED])
        day = rng.choice(list(days))
        # around midnight too: the day is the local (São Paulo) date of paid_at
        moment = datetime(2026, 10, day, rng.choice([0, 1, 12, 23]), rng.randint(0, 59), tzinfo=tz)
        if i % 17 == 0:
            moment = datetime(2026, 9, 30, 23, 59, tzinfo=tz)
        if i % 19 == 0:
            moment = datetime(2026, 11, 1, 0, 0, tzinfo=tz)
        lines = []
        for _ in range(rng.randint(1, 3)):
            product = rng.choice([*products, None])
            qty = rng.randint(1, 4)
            price = D(rng.randint(990, 29990)) / 100
            lines.append((product, qty, price))
        subtotal = sum((p * q for _, q, p in lines), D("0"))
        shipping = rng.choice([D("0"), D("12.90"), D("19.90")])
        discount = rng.choice([D("0"), D("5.00")])
        order = OrderFactory(
            channel=rng.choice(channels),
            utm_campaign=rng.choice(["", "bf", "natal", "verao", "x" * 100]),
            subtotal=subtotal,
            shipping_total=shipping,
            discount_total=discount,
            total=subtotal + shipping - discount,
            payment_method=rng.choice(["pix", "credit_card", "boleto"]),
            installments=rng.randint(1, 3),
            payment_status=status,
            paid_at=moment if status == Payment.PAID else None,
        )
        for product, qty, price in lines:
            OrderLineFactory(
                order=order,
                product=product,
                sku=product.sku if product else "AVULSO",
                name=product.name if product else "Item avulso",
                quantity=qty,
                unit_price=price,
                unit_cost=product.cost if product else D("0"),
                discount=D("0"),
            )
        if status == Payment.PAID:
            receivable_create_for_order(order_id=order.pk)
            if rng.random() < 0.25:
                refund_record(order_id=order.pk, amount=D(rng.randint(100, 2000)) / 100)
            if rng.random() < 0.6:
                delivered = moment + timedelta(days=rng.randint(1, 6), hours=rng.randint(0, 23))
                Shipment.objects.create(
                    order=order,
                    warehouse=warehouse,
                    freight_cost=D(rng.randint(500, 3000)) / 100,
                    promised_date=rng.choice([None, moment.date() + timedelta(days=4)]),
                    delivered_at=rng.choice([None, delivered, delivered]),
                )
        orders.append(order)
    # the ledger: some instalments received, entries on October days (and a transfer)
    bank = CashAccountFactory(name="Banco")
    gateway = CashAccountFactory(name="Gateway", kind="gateway")
    for instalment in Instalment.objects.order_by("pk")[: n // 3]:
        instalment_settle(instalment_id=instalment.pk, account_id=gateway.pk)
    for i, entry in enumerate(CashEntry.objects.order_by("pk")):
        CashEntry.objects.filter(pk=entry.pk).update(
            created_at=datetime(2026, 10, 1 + i % 31, rng.choice([0, 9, 23]), tzinfo=tz)
        )
    for day in (2, 9, 16, 28):
        cash_entry_record(account_id=bank.pk, amount=-D(rng.randint(100, 900)), kind="payment")
        cash_transfer(from_account_id=gateway.pk, to_account_id=bank.pk, amount=D("10.00"))
        CashEntry.objects.filter(created_at__gte=timezone.now() - timedelta(minutes=5)).update(
            created_at=datetime(2026, 10, day, 12, tzinfo=tz)
        )
    cash_entry_record(account_id=bank.pk, amount=D("55.00"), kind="receipt")  # today
    # products with stock: some never sell (the report's dead products)
    for product in products:
        StockLevelFactory(product=product, warehouse=warehouse, on_hand=5)
    for i in range(3):
        StockLevelFactory(
            product=ProductFactory(sku=f"DEAD{i}", cost=D("9.00")),
            warehouse=warehouse,
            on_hand=i + 1,
        )
    CampaignCostFactory(campaign="bf", date=date(2026, 10, 5), amount=D("30.00"))
    CampaignCostFactory(campaign="mudo", date=date(2026, 10, 6), amount=D("7.00"))
    return orders


def figures(start: date = OCT, end: date = OCT_END) -> dict[str, Any]:
    """Everything the report sums from the rollup's sources, plus the report itself."""
    data = report_data(start, today=date(2026, 11, 1))
    data.pop("generated_at")
    return {
        "balances": account_balances(),
        "cash_days": cashflow_actual(start=start, end=end, period="day"),
        "cash_months": cashflow_actual(
            start=date(2026, 9, 1), end=date(2026, 12, 31), period="month"
        ),
        "projected": cashflow_projected(start=start, end=date(2027, 3, 31), period="day"),
        "receivables": receivables_summary(start=start, end=end, as_of=date(2026, 10, 20)),
        "receivables_nov": receivables_summary(
            start=date(2026, 11, 1), end=date(2026, 11, 30), as_of=date(2026, 11, 15)
        ),
        "groups": margin_groups(start=start, end=end),
        "totals": margin_totals(start=start, end=end),
        "channels": margin_by_channel(start=start, end=end),
        "campaigns": margin_by_campaign(start=start, end=end),
        "campaigns_top": margin_by_campaign(start=start, end=end, limit=2),
        "skus": margin_by_sku(start=start, end=end),
        "skus_top": margin_by_sku(start=start, end=end, limit=3),
        "daily": sales_daily(start=start, end=end),
        "report": data,
    }


def live_figures(settings, **kw: Any) -> dict[str, Any]:
    settings.FINANCE_DAILY_ROLLUP = False
    try:
        return figures(**kw)
    finally:
        settings.FINANCE_DAILY_ROLLUP = True


def fill_october() -> None:
    """October to December: the sales, and most days on which instalments fall due
    (the later ones stay live)."""
    daily_rollup_refresh(start=OCT, end=date(2026, 12, 31), force=True)


def order_tables_read(queries: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if '"orders_order"' in q["sql"] or '"orders_orderline"' in q["sql"]
    ]


# --- equal to the live figures -----------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rollup_figures_equal_live_figures(settings, seed):
    # given varied orders, summed live
    build_orders(random.Random(seed), 60)
    live = live_figures(settings)
    assert live["totals"]["orders"] > 10

    # when every day of October is rolled up
    fill_october()

    # then the report reads no order or line for October's sales, and every figure is equal
    assert rollup_days(start=OCT, end=OCT_END) == {OCT + timedelta(days=i) for i in range(31)}
    with CaptureQueriesContext(connection) as queries:
        margin_groups(start=OCT, end=OCT_END)
        margin_by_sku(start=OCT, end=OCT_END)
        sales_daily(start=OCT, end=OCT_END)
    assert order_tables_read(queries) == []
    assert figures() == live
    assert CashRollup.objects.exists() and InstalmentRollup.objects.exists()
    assert DeliveryRollup.objects.exists() and live["report"]["delivery"]["delivered"] > 0


def _without_ids(model, day: date) -> list[tuple[Any, ...]]:
    return sorted(row[1:] for row in model.objects.filter(day=day).values_list())


def test_filling_is_idempotent_and_empty_days_are_rolled_up_as_empty():
    build_orders(random.Random(4), 20, days=range(10, 13))
    daily_rollup_fill(day=date(2026, 10, 11))
    rows = _without_ids(SalesRollup, date(2026, 10, 11))
    skus = _without_ids(SkuSalesRollup, date(2026, 10, 11))
    assert rows and skus

    daily_rollup_fill(day=date(2026, 10, 11))
    daily_rollup_fill(day=date(2026, 10, 20))  # nothing sold

    assert _without_ids(SalesRollup, date(2026, 10, 11)) == rows
    assert _without_ids(SkuSalesRollup, date(2026, 10, 11)) == skus
    assert not SalesRollup.objects.filter(day=date(2026, 10, 20)).exists()
    assert date(2026, 10, 20) in rollup_days(start=OCT, end=OCT_END)


def test_days_never_filled_are_summed_live(settings):
    build_orders(random.Random(5), 40)
    live = live_figures(settings)
    for day in (2, 3, 4, 15, 30):  # the others are missing
        daily_rollup_fill(day=date(2026, 10, day))

    assert rollup_days(start=OCT, end=OCT_END) == {date(2026, 10, d) for d in (2, 3, 4, 15, 30)}
    assert figures() == live


def test_a_day_filled_in_another_time_zone_is_not_read(settings):
    build_orders(random.Random(6), 30)
    live = live_figures(settings)
    with timezone.override("UTC"):
        fill_october()

    assert rollup_days(start=OCT, end=OCT_END) == set()
    assert figures() == live


# --- late changes ------------------------------------------------------------------------


def _paid_on(day: int, **kw: Any) -> Order:
    order = OrderFactory(
        payment_status=Payment.PAID,
        paid_at=datetime(2026, 10, day, 15, tzinfo=_tz()),
        payment_method="pix",
        **kw,
    )
    OrderLineFactory(order=order, unit_price=order.subtotal, discount=D("0"))
    receivable_create_for_order(order_id=order.pk)
    return order


def _late_changes() -> list[tuple[str, Any]]:
    def refund(order):
        refund_record(order_id=order.pk, amount=D("10.00"))

    def refund_in_full(order):
        Order.objects.filter(pk=order.pk).update(payment_status=Payment.REFUNDED)
        refund_record(order_id=order.pk, amount=order.total)

    def cancel_payment(order):
        # a payment the gateway reverses: no longer a sale at all
        Order.objects.filter(pk=order.pk).update(payment_status=Payment.FAILED)

    def freight(order):
        Shipment.objects.create(order=order, warehouse=WarehouseFactory(), freight_cost=D("21.00"))

    def freight_changed(order):
        Shipment.objects.filter(order=order).update(freight_cost=D("3.00"))

    def line_cost(order):
        OrderLine.objects.filter(order=order).update(unit_cost=D("77.00"))

    def line_added(order):
        OrderLineFactory(order=order, unit_price=D("5.00"), discount=D("0"))

    def fee(order):
        Receivable.objects.filter(order=order).update(fee=D("9.99"))

    def campaign(order):
        Order.objects.filter(pk=order.pk).update(utm_campaign="outra")

    def totals(order):
        Order.objects.filter(pk=order.pk).update(total=D("1.00"), subtotal=D("1.00"))

    def moved(order):
        Order.objects.filter(pk=order.pk).update(paid_at=datetime(2026, 10, 25, 9, tzinfo=_tz()))

    def deleted(order):
        Refund.objects.filter(order=order).delete()
        Shipment.objects.filter(order=order).delete()
        order.receivable.delete()
        OrderLine.objects.filter(order=order).delete()
        Order.objects.filter(pk=order.pk).delete()

    return [
        ("refund", refund),
        ("refund_in_full", refund_in_full),
        ("cancel_payment", cancel_payment),
        ("freight", freight),
        ("freight_changed", freight_changed),
        ("line_cost", line_cost),
        ("line_added", line_added),
        ("fee", fee),
        ("campaign", campaign),
        ("totals", totals),
        ("moved", moved),
        ("deleted", deleted),
    ]


@pytest.mark.parametrize("change", _late_changes(), ids=lambda c: c[0])
def test_a_late_change_to_a_rolled_up_day_shows_in_the_next_report(settings, change):
    # given a rolled-up October with an order paid on the 3rd
    _name, apply = change
    build_orders(random.Random(7), 15)
    order = _paid_on(3, total=D("120.00"), subtotal=D("120.00"))
    Shipment.objects.create(order=order, warehouse=WarehouseFactory(), freight_cost=D("8.00"))
    fill_october()
    before = figures()

    # when it changes weeks later
    apply(order)

    # then the 3rd (and the day it moved to) is stale, and the report equals the live sums
    stale = set(RollupDay.objects.filter(stale=True).values_list("day", flat=True))
    assert date(2026, 10, 3) in stale
    assert stale <= {date(2026, 10, 3), date(2026, 10, 25)}
    after = figures()
    assert after == live_figures(settings)
    assert after != before

    # and filling the stale days again gives the same figures from the rollup
    assert set(daily_rollup_refresh(start=OCT, end=OCT_END)) == stale
    assert figures() == after


def test_a_settled_instalment_and_a_backdated_entry_show_in_the_next_report(settings):
    # given a rolled-up autumn with an open instalment due on 10 October
    build_orders(random.Random(10), 12)
    order = _paid_on(3)
    instalment = Instalment.objects.get(receivable__order=order)
    Instalment.objects.filter(pk=instalment.pk).update(due_date=date(2026, 10, 10))
    bank = CashAccountFactory(name="Outro banco")
    fill_october()
    before = figures()

    # when it is received today, and an entry is booked on 12 October afterwards
    instalment_settle(instalment_id=instalment.pk, account_id=bank.pk)
    entry = cash_entry_record(account_id=bank.pk, amount=D("-70.00"), kind="payment")
    CashEntry.objects.filter(pk=entry.pk).update(created_at=datetime(2026, 10, 12, 8, tzinfo=_tz()))

    # then both days are stale, and the report equals the live sums
    stale = set(RollupDay.objects.filter(stale=True).values_list("day", flat=True))
    assert stale == {date(2026, 10, 10), date(2026, 10, 12)}
    after = figures()
    assert after == live_figures(settings) and after != before
    assert daily_rollup_refresh(start=OCT, end=OCT_END) == [date(2026, 10, 10), date(2026, 10, 12)]
    assert figures() == after


def test_a_late_delivery_shows_in_the_next_report(settings):
    # given a rolled-up October with a shipment in transit, promised for the 19th
    build_orders(random.Random(11), 15)
    shipment = Shipment.objects.create(
        order=_paid_on(3), warehouse=WarehouseFactory(), promised_date=date(2026, 10, 19)
    )
    fill_october()
    before = figures()

    # when the carrier reports, weeks later, that it was delivered on the 20th at 01:30
    Shipment.objects.filter(pk=shipment.pk).update(
        delivered_at=datetime(2026, 10, 20, 1, 30, tzinfo=_tz())
    )

    # then the 20th is stale, and the report counts one more late delivery
    assert set(RollupDay.objects.filter(stale=True).values_list("day", flat=True)) == {
        date(2026, 10, 20)
    }
    after = figures()
    assert after == live_figures(settings)
    assert after["report"]["delivery"]["delivered"] == before["report"]["delivery"]["delivered"] + 1
    assert after["report"]["delivery"]["on_time"] == before["report"]["delivery"]["on_time"]


def test_changes_that_touch_no_figure_leave_the_day_valid():
    order = _paid_on(3)
    fill_october()

    Order.objects.filter(pk=order.pk).update(
        status="processing", fulfillment_status="shipped", note="x"
    )
    Shipment.objects.create(order=OrderFactory(), warehouse=WarehouseFactory())  # unpaid order

    assert not RollupDay.objects.filter(stale=True).exists()


def test_a_campaign_cost_added_later_shows_in_the_next_report():
    build_orders(random.Random(8), 20)
    fill_october()
    before = {r["campaign"]: r for r in margin_by_campaign(start=OCT, end=OCT_END)}

    CampaignCostFactory(campaign="natal", date=date(2026, 10, 9), amount=D("50.00"))
    CampaignCostFactory(campaign="nova", date=date(2026, 10, 9), amount=D("4.00"))

    after = {r["campaign"]: r for r in margin_by_campaign(start=OCT, end=OCT_END)}
    assert after["natal"]["cost"] == before.get("natal", {"cost": D("0")})["cost"] + D("50.00")
    assert after["nova"]["cost"] == D("4.00") and after["nova"]["orders"] == 0


# --- filling: command, task, schedule ------------------------------------------------------


def test_backfill_command_fills_missing_and_stale_days_and_force_refills(capsys):
    build_orders(random.Random(9), 20)

    call_command("finance_rollup", "--from", "2026-10-01", "--to", "2026-10-31")
    assert "filled 31 day(s), 2026-10-01..2026-10-31" in capsys.readouterr().out
    assert len(rollup_days(start=OCT, end=OCT_END)) == 31

    call_command("finance_rollup", "--from", "2026-10-01", "--to", "2026-10-31")
    assert "nothing to fill" in capsys.readouterr().out

    RollupDay.objects.filter(day=date(2026, 10, 7)).update(stale=True)
    call_command("finance_rollup", "--from", "2026-10-01", "--to", "2026-10-31")
    assert "filled 1 day(s), 2026-10-07..2026-10-07" in capsys.readouterr().out

    call_command("finance_rollup", "--from", "2026-10-01", "--to", "2026-10-02", "--force")
    assert "filled 2 day(s)" in capsys.readouterr().out


def test_backfill_never_fills_today():
    today = timezone.localdate()
    filled = daily_rollup_refresh(start=today - timedelta(days=2), end=today)
    assert filled == [today - timedelta(days=2), today - timedelta(days=1)]
    assert not RollupDay.objects.filter(day=today).exists()


def test_nightly_task_fills_recent_days_and_older_stale_days():
    today = timezone.localdate()
    tz = _tz()
    OrderFactory(
        payment_status=Payment.PAID,
        paid_at=datetime.combine(today - timedelta(days=3), datetime.min.time(), tzinfo=tz)
        + timedelta(hours=10),
    )
    daily_rollup_fill(day=OCT)
    RollupDay.objects.filter(day=OCT).update(stale=True)

    filled = daily_rollup_nightly_task.delay(days=5).get()

    assert filled == [f"{today - timedelta(days=d)}" for d in range(5, 0, -1)] + [f"{OCT}"]
    assert SalesRollup.objects.get(day=today - timedelta(days=3)).orders == 1
    assert not RollupDay.objects.filter(stale=True).exists()
    assert daily_rollup_nightly_task.delay(days=5).get() == []


def test_beat_fills_the_rollup_every_night_before_the_report():
    entry = django_settings.CELERY_BEAT_SCHEDULE["finance-daily-rollup"]
    assert entry["task"] == "finance.daily_rollup_nightly"
    report = django_settings.CELERY_BEAT_SCHEDULE["finance-management-report"]["schedule"]
    assert entry["schedule"].hour == {2} and max(report.hour) > 2


# --- concurrency: a change in flight while a day is filled ----------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_fill_waits_for_a_change_in_flight_and_a_change_during_a_fill_marks_the_day():
    order = _paid_on(3, total=D("100.00"), subtotal=D("100.00"))
    day = date(2026, 10, 3)
    daily_rollup_fill(day=day)
    writing, release = threading.Event(), threading.Event()
    done: list[Any] = []

    def writer() -> None:
        try:
            with transaction.atomic():
                refund_record(order_id=order.pk, amount=D("40.00"))  # trigger: shared lock
                writing.set()
                release.wait(10)
        finally:
            connection.close()

    def filler() -> None:
        try:
            done.append(daily_rollup_fill(day=day))
        finally:
            connection.close()

    # a refund is being written (not committed) when the fill starts: the fill waits
    w = threading.Thread(target=writer)
    w.start()
    assert writing.wait(10)
    f = threading.Thread(target=filler)
    f.start()
    time.sleep(0.5)
    assert f.is_alive() and not done
    release.set()
    w.join(10)
    f.join(10)
    # the fill ran after the refund committed, so it counts it and the day is valid
    assert SalesRollup.objects.get(day=day).refunds == D("40.00")
    assert not RollupDay.objects.get(day=day).stale

    # a refund written after the fill: the day is stale again
    refund_record(order_id=order.pk, amount=D("1.00"))
    assert RollupDay.objects.get(day=day).stale
