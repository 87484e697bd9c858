# mypy: disable-error-code="attr-defined,misc,operator"
# (factory_boy calls are typed as the factory class, not the model they return)
"""Margins by channel, SKU and campaign equal the sums computed here from the test data."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from finance.models import Receivable
from finance.selectors import margin_by_campaign, margin_by_channel, margin_by_sku, margin_totals
from finance.services import receivable_create_for_order, refund_record
from orders.status import Payment
from tests.factories.core import ChannelFactory, OrderFactory, OrderLineFactory, ProductFactory
from tests.factories.finance import CampaignCostFactory

pytestmark = pytest.mark.django_db
D = Decimal


def build_month(tz, n_orders: int = 6):
    """Orders over two channels, three SKUs, two campaigns (+ none), with refunds."""
    channels = [ChannelFactory(slug="web"), ChannelFactory(slug="marketplace")]
    products = [
        ProductFactory(sku="A", cost=D("10.00")),
        ProductFactory(sku="B", cost=D("25.50")),
        ProductFactory(sku="C", cost=D("3.33")),
    ]
    campaigns = ["bf", "natal", ""]
    orders = []
    for i in range(n_orders):
        lines_spec = [
            (products[i % 3], 1 + i % 2, D("40.00") + i),
            (products[(i + 1) % 3], 2, D("15.90")),
        ]
        subtotal = sum((price * qty for _, qty, price in lines_spec), D("0"))
        shipping, discount = D("12.00") if i % 2 else D("0.00"), D(i)
        order = OrderFactory(
            channel=channels[i % 2],
            utm_campaign=campaigns[i % 3],
            subtotal=subtotal,
            shipping_total=shipping,
            discount_total=discount,
            total=subtotal + shipping - discount,
            payment_method=["pix", "credit_card", "boleto"][i % 3],
            installments=1 + i % 3,
            payment_status=Payment.PAID,
            paid_at=datetime(2026, 10, 3 + i, 15, tzinfo=tz),
        )
        for product, qty, price in lines_spec:
            OrderLineFactory(
                order=order,
                product=product,
                quantity=qty,
                unit_price=price,
                unit_cost=product.cost,
                total=price * qty,
                discount=D("0"),
            )
        receivable_create_for_order(order_id=order.pk)
        if i % 4 == 0:
            refund_record(order_id=order.pk, amount=D("5.00") + i)
        orders.append(order)
    # an unpaid order and one paid the next month: neither counts
    OrderFactory(channel=channels[0], total=D("999.00"), subtotal=D("999.00"))
    OrderFactory(
        channel=channels[0],
        total=D("999.00"),
        subtotal=D("999.00"),
        payment_status=Payment.PAID,
        paid_at=datetime(2026, 11, 1, 0, 30, tzinfo=tz),
    )
    return orders


def expected_margins(orders):
    """Plain Python over the test's own rows."""
    fees = dict(Receivable.objects.values_list("order_id", "fee"))
    from finance.models import Refund

    refunds: dict[int, Decimal] = defaultdict(Decimal)
    for order_id, amount in Refund.objects.values_list("order_id", "amount"):
        refunds[order_id] += amount
    out = {}
    for o in orders:
        cogs = sum((line.unit_cost * line.quantity for line in o.lines.all()), D("0"))
        out[o.pk] = {
            "revenue": o.total,
            "cogs": cogs,
            "fee": fees[o.pk],
            "refunds": refunds[o.pk],
            "margin": o.subtotal
            + o.shipping_total
            - o.discount_total
            - cogs
            - fees[o.pk]
            - refunds[o.pk],
        }
    return out


def test_margin_by_channel_sku_and_campaign_equal_independent_sums():
    tz = timezone.get_current_timezone()
    orders = build_month(tz)
    CampaignCostFactory(campaign="bf", date=date(2026, 10, 1), amount=D("20.00"))
    CampaignCostFactory(campaign="bf", date=date(2026, 10, 20), amount=D("10.00"))
    CampaignCostFactory(campaign="natal", date=date(2026, 9, 30), amount=D("99.00"))  # other month
    CampaignCostFactory(campaign="silent", date=date(2026, 10, 2), amount=D("7.00"))
    exp = expected_margins(orders)
    start, end = date(2026, 10, 1), date(2026, 10, 31)

    totals = margin_totals(start=start, end=end)
    assert totals["orders"] == len(orders)
    assert totals["revenue"] == sum(e["revenue"] for e in exp.values())
    assert totals["cogs"] == sum(e["cogs"] for e in exp.values())
    assert totals["fees"] == sum(e["fee"] for e in exp.values())
    assert totals["refunds"] == sum(e["refunds"] for e in exp.values())
    assert totals["margin"] == sum(e["margin"] for e in exp.values())

    by_channel = {r["channel__name"]: r["margin"] for r in margin_by_channel(start=start, end=end)}
    want_channel: dict[str, Decimal] = defaultdict(Decimal)
    for o in orders:
        want_channel[o.channel.name] += exp[o.pk]["margin"]
    assert by_channel == dict(want_channel)

    campaigns = {r["campaign"]: r for r in margin_by_campaign(start=start, end=end)}
    want_campaign: dict[str, Decimal] = defaultdict(Decimal)
    for o in orders:
        want_campaign[o.utm_campaign] += exp[o.pk]["margin"]
    assert {k: v["margin"] for k, v in campaigns.items() if k != "silent"} == dict(want_campaign)
    assert campaigns["bf"]["cost"] == D("30.00")
    assert campaigns["bf"]["roi"] == (want_campaign["bf"] - D("30.00")) / D("30.00")
    assert campaigns["natal"]["cost"] == D("0.00") and campaigns["natal"]["roi"] is None
    assert campaigns["silent"]["cost"] == D("7.00") and campaigns["silent"]["orders"] == 0

    by_sku = {r["sku"]: r for r in margin_by_sku(start=start, end=end)}
    want_sku: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for o in orders:
        for line in o.lines.all():
            want_sku[line.sku]["quantity"] += line.quantity
            want_sku[line.sku]["revenue"] += line.total
            want_sku[line.sku]["cogs"] += line.unit_cost * line.quantity
    assert set(by_sku) == set(want_sku)
    for sku, want in want_sku.items():
        assert by_sku[sku]["quantity"] == want["quantity"]
        assert by_sku[sku]["revenue"] == want["revenue"]
        assert by_sku[sku]["margin"] == want["revenue"] - want["cogs"]


def test_campaigns_beyond_the_limit_are_summed_into_one_row():
    """The report lists the best campaigns and one row for all the others, so its length
    does not grow with the number of campaigns; nothing is lost from the sums."""
    tz = timezone.get_current_timezone()
    channel = ChannelFactory(slug="web")
    product = ProductFactory(sku="P", cost=D("4.00"))
    for i in range(7):
        order = OrderFactory(
            channel=channel,
            utm_campaign=f"c{i}",
            subtotal=D(10 * (i + 1)),
            total=D(10 * (i + 1)),
            payment_status=Payment.PAID,
            paid_at=datetime(2026, 10, 5 + i, 12, tzinfo=tz),
        )
        OrderLineFactory(
            order=order,
            product=product,
            quantity=1,
            unit_price=D(10 * (i + 1)),
            unit_cost=D("4.00"),
            total=D(10 * (i + 1)),
            discount=D("0"),
        )
        CampaignCostFactory(campaign=f"c{i}", date=date(2026, 10, 1), amount=D("3.00"))
    CampaignCostFactory(campaign="silent", date=date(2026, 10, 2), amount=D("9.00"))
    start, end = date(2026, 10, 1), date(2026, 10, 31)
    everything = margin_by_campaign(start=start, end=end)

    rows = margin_by_campaign(start=start, end=end, limit=3)

    assert len(everything) == 8
    assert [r["campaign"] for r in rows[:3]] == ["c6", "c5", "c4"]  # best margin first
    others = rows[3]
    assert len(rows) == 4 and others["campaign"] is None and others["others"] == 5
    assert others["orders"] == 4  # c0..c3; "silent" sold nothing
    assert others["revenue"] == D("100.00")  # 10 + 20 + 30 + 40
    assert others["margin"] == D("100.00") - 4 * D("4.00")
    assert others["cost"] == 4 * D("3.00") + D("9.00")
    assert others["roi"] == (others["margin"] - others["cost"]) / others["cost"]
    for part in ("orders", "revenue", "margin", "cost"):
        assert sum(r[part] for r in rows) == sum(r[part] for r in everything)
    assert sum(r["margin"] for r in rows) == margin_totals(start=start, end=end)["margin"]
    # a limit that leaves a single row out keeps it as itself
    assert margin_by_campaign(start=start, end=end, limit=7) == everything


def test_margin_totals_of_a_month_without_sales_are_zero():
    totals = margin_totals(start=date(2026, 10, 1), end=date(2026, 10, 31))

    assert totals["orders"] == 0
    assert totals["revenue"] == totals["margin"] == D("0.00")
    assert totals["margin_pct"] is None
