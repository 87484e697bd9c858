"""An order's life against real stock: backordered, restocked, paid, shipped, delivered."""

from __future__ import annotations

import pytest

from crm.models import Notification
from inventory.models import Reservation, StockLevel, StockMovement
from inventory.services import stock_consume, stock_receive
from orders.services import order_fulfillment_set, order_ingest, order_payment_set
from tests.factories.orders import line_in, make_channel, make_product, make_warehouse, order_in

pytestmark = pytest.mark.django_db


def test_backordered_order_is_released_by_a_receipt_then_ships_and_completes(
    django_capture_on_commit_callbacks,
):
    # given a product with 1 unit and an order for 3
    warehouse = make_warehouse(code="cd", priority=1)
    product = make_product(sku="CAFE-500")
    channel = make_channel(slug="fluxo")
    with django_capture_on_commit_callbacks(execute=True):
        stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=1)
        order = order_ingest(
            channel=channel, order_in=order_in("F1", lines=[line_in("CAFE-500", 3)])
        )
    assert order.status == "on_hold"

    # when a purchase arrives (StockIncreased -> orders retries the backorder on commit)
    with django_capture_on_commit_callbacks(execute=True):
        stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=5)
    order.refresh_from_db()
    line = order.lines.get()

    # then the line is reserved and the shortage hold cleared by the system
    assert (order.status, line.stock_status) == ("new", "reserved")
    hold = order.holds.get()
    assert hold.cleared_at is not None and hold.cleared_by is None

    # and paying, shipping and delivering move the axes and the stock
    with django_capture_on_commit_callbacks(execute=True):
        order_payment_set(order_id=order.pk, status="paid")
        stock_consume(order_line_id=line.pk, quantity=3, reference="NF 123")
        order_fulfillment_set(order_id=order.pk, status="shipped")
        order_fulfillment_set(order_id=order.pk, status="delivered")

    order.refresh_from_db()
    assert (order.status, order.payment_status, order.fulfillment_status) == (
        "completed",
        "paid",
        "delivered",
    )
    level = StockLevel.objects.get(product=product, warehouse=warehouse)
    assert (level.on_hand, level.reserved) == (3, 0)
    assert Reservation.objects.get(order_line_id=line.pk).status == "consumed"
    moves = StockMovement.objects.filter(product=product)
    assert sum(m.on_hand_delta for m in moves) == level.on_hand
    assert sum(m.reserved_delta for m in moves) == level.reserved
    kinds = list(order.events.order_by("id").values_list("kind", flat=True))
    assert kinds[0] == "created"
    assert {"hold_placed", "hold_cleared", "payment", "fulfillment", "status"} <= set(kinds)
    assert set(Notification.objects.filter(order_id=order.pk).values_list("kind", flat=True)) >= {
        "order_received",
        "payment_confirmed",
    }
