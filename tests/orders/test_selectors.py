from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from backoffice.dashboard import _kpis
from backoffice.errors import NotFoundError
from orders.selectors import order_get, order_kpis, order_list, order_notification_context
from orders.services import order_cancel, order_ingest
from tests.factories.orders import line_in, order_in

pytestmark = pytest.mark.django_db


def test_order_list_filters_and_keeps_queries_constant(channel, stock, django_assert_num_queries):
    stock("CAFE-1", 100)
    for i in range(6):
        order_ingest(
            channel=channel,
            order_in=order_in(f"S{i}", lines=[line_in("CAFE-1" if i % 2 else "NOVO", 1)]),
        )

    with django_assert_num_queries(2):  # orders with channel/customer + open holds
        rows = list(order_list(filters={"status": ["on_hold"]}))

    assert sorted(o.number for o in rows) == ["S0", "S2", "S4"]
    assert [h.reason for h in getattr(rows[0], "open_holds")] == ["unknown_sku"]  # noqa: B009
    assert [
        o.number for o in order_list(filters={"hold_reason": "unknown_sku", "search": "S2"})
    ] == ["S2"]


def test_order_get_and_not_found(channel, stock):
    stock("CAFE-1")
    order = order_ingest(channel=channel, order_in=order_in("S10", skus=["CAFE-1"]))

    assert order_get(order_id=order.pk).lines.count() == 1
    with pytest.raises(NotFoundError):
        order_get(order_id=order.pk + 1000)


def test_notification_context_has_what_the_templates_need(channel, stock):
    stock("CAFE-1", consumption_days=30)
    order = order_ingest(
        channel=channel, order_in=order_in("S11", lines=[line_in("CAFE-1", 2, "54.90")])
    )

    context = order_notification_context(order_id=order.pk)

    assert context["order_number"] == "S11"
    assert context["customer_name"] == "Maria da Silva"
    assert context["total"] == "109.80" and context["currency"] == "BRL"
    assert context["lines"] == [
        {
            "sku": "CAFE-1",
            "name": "Produto CAFE-1",
            "quantity": 2,
            "unit_price": "54.90",
            "consumption_days": 30,
        }
    ]


def test_kpis_count_today_holds_backorders_and_paid_revenue(channel, stock):
    # "today" is a day of the shop's time zone: a fixed noon, not now -- an order placed
    # minutes ago belongs to yesterday just after midnight there (the test failed then).
    noon = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    noon -= timedelta(days=10)
    stock("CAFE-1", 1)
    order_ingest(
        channel=channel,
        order_in=order_in(
            "K1", lines=[line_in("CAFE-1", 1, "100.00")], payment_status="paid", placed_at=noon
        ),
    )
    order_ingest(
        channel=channel, order_in=order_in("K2", lines=[line_in("CAFE-1", 1)], placed_at=noon)
    )  # short
    cancelled = order_ingest(
        channel=channel,
        order_in=order_in(
            "K3", lines=[line_in("CAFE-1", 1)], payment_status="paid", placed_at=noon
        ),
    )
    order_cancel(order_id=cancelled.pk)
    order_ingest(
        channel=channel,
        order_in=order_in("K4", skus=["CAFE-1"], placed_at=noon - timedelta(days=3)),
    )

    kpis = order_kpis(now=noon + timedelta(hours=11, minutes=59))

    assert kpis["orders_today"] == 3
    assert kpis["revenue_today"] == Decimal("100.00")
    assert kpis["on_hold"] == 2  # K2 and K4 wait for stock
    assert kpis["backordered_lines"] == 2
    titles = [k["title"] for k in _kpis()]
    assert len(titles) >= 4
