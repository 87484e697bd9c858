from __future__ import annotations

from decimal import Decimal
from typing import cast

import pytest

from backoffice.errors import ConflictError, NotFoundError
from crm.models import Notification
from inventory.models import Reservation
from orders.models import Order, OrderEvent
from orders.services import (
    order_cancel,
    order_confirm,
    order_fulfillment_set,
    order_ingest,
    order_payment_set,
)
from orders.status import (
    FULFILLMENT_TRANSITIONS,
    LIFECYCLE_TRANSITIONS,
    PAYMENT_TRANSITIONS,
    Payment,
)
from tests.factories import OrderFactory, StaffUserFactory
from tests.factories.orders import line_in, order_in
from tests.orders.conftest import level

pytestmark = pytest.mark.django_db


def _ingested(channel, stock, external_id="8001", **kw):
    stock("CAFE-1", 10)
    return order_ingest(
        channel=channel, order_in=order_in(external_id, lines=[line_in("CAFE-1", 2)], **kw)
    )


def test_cancel_releases_reservations_and_writes_who_and_why(channel, stock):
    order = _ingested(channel, stock)
    product = order.lines.get().product
    staff = StaffUserFactory()
    assert level(product) == (10, 2)

    order_cancel(order_id=order.pk, actor=staff, reason="cliente desistiu")

    order.refresh_from_db()
    assert order.status == "cancelled" and order.cancelled_at is not None
    assert level(product) == (10, 0)
    assert Reservation.objects.get(order_id=order.pk).status == "released"
    assert order.lines.get().stock_status == "released"
    event = order.events.get(kind="status", to_value="cancelled")
    assert (event.from_value, event.actor, event.message, event.source) == (
        "new",
        staff,
        "cliente desistiu",
        "admin",
    )
    assert Notification.objects.filter(order_id=order.pk, kind="cancelled").count() == 1


def test_cancelling_twice_is_a_conflict_and_changes_nothing(channel, stock):
    order = _ingested(channel, stock)
    order_cancel(order_id=order.pk)
    events = OrderEvent.objects.count()

    with pytest.raises(ConflictError):
        order_cancel(order_id=order.pk)

    assert OrderEvent.objects.count() == events


def test_shipped_order_cannot_be_cancelled(channel, stock):
    order = _ingested(channel, stock, payment_status="paid")
    order_fulfillment_set(order_id=order.pk, status="shipped")

    with pytest.raises(ConflictError):
        order_cancel(order_id=order.pk)

    order.refresh_from_db()
    assert order.status == "processing"
    assert level(order.lines.get().product) == (10, 2)


def test_confirm_new_order_but_not_one_on_hold(channel, stock):
    order = _ingested(channel, stock)
    held = order_ingest(channel=channel, order_in=order_in("8002", skus=["NOPE"]))

    order_confirm(order_id=order.pk)
    with pytest.raises(ConflictError):
        order_confirm(order_id=held.pk)
    with pytest.raises(ConflictError):
        order_confirm(order_id=order.pk)  # already confirmed

    order.refresh_from_db()
    held.refresh_from_db()
    assert order.status == "confirmed" and held.status == "on_hold"


def test_missing_order_is_not_found():
    with pytest.raises(NotFoundError):
        order_cancel(order_id=999_999)


def _all_pairs(table):
    states = list(table)
    return [(a, b) for a in states for b in states if a != b]


@pytest.mark.parametrize(("current", "target"), _all_pairs(PAYMENT_TRANSITIONS))
def test_payment_axis_follows_its_table(current, target):
    order = cast(Order, OrderFactory(payment_status=current, status="confirmed"))
    legal = target in PAYMENT_TRANSITIONS[current]

    if legal:
        order_payment_set(order_id=order.pk, status=target, amount=Decimal("10.00"))
    else:
        with pytest.raises(ConflictError):
            order_payment_set(order_id=order.pk, status=target)

    order.refresh_from_db()
    assert order.payment_status == (target if legal else current)
    assert order.events.filter(kind="payment").count() == (1 if legal else 0)


@pytest.mark.parametrize(("current", "target"), _all_pairs(FULFILLMENT_TRANSITIONS))
def test_fulfillment_axis_follows_its_table(current, target):
    order = cast(
        Order, OrderFactory(fulfillment_status=current, status="processing", payment_status="paid")
    )
    legal = target in FULFILLMENT_TRANSITIONS[current]

    if legal:
        order_fulfillment_set(order_id=order.pk, status=target)
    else:
        with pytest.raises(ConflictError):
            order_fulfillment_set(order_id=order.pk, status=target)

    order.refresh_from_db()
    assert order.fulfillment_status == (target if legal else current)


@pytest.mark.parametrize("current", list(LIFECYCLE_TRANSITIONS))
def test_lifecycle_cancel_follows_its_table(current):
    order = cast(Order, OrderFactory(status=current))
    legal = "cancelled" in LIFECYCLE_TRANSITIONS[current]

    if legal:
        order_cancel(order_id=order.pk)
    else:
        with pytest.raises(ConflictError):
            order_cancel(order_id=order.pk)

    order.refresh_from_db()
    assert order.status == ("cancelled" if legal else current)


def test_payment_paid_confirms_and_refund_queues_refund_email(channel, stock):
    order = _ingested(channel, stock, "8003")

    order_payment_set(order_id=order.pk, status=Payment.PAID)
    order_payment_set(order_id=order.pk, status=Payment.PARTIALLY_REFUNDED, amount=Decimal("5.00"))
    order_payment_set(order_id=order.pk, status=Payment.PARTIALLY_REFUNDED, amount=Decimal("7.00"))

    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("confirmed", "partially_refunded")
    refunds = Notification.objects.filter(order_id=order.pk, kind="refund_issued")
    assert refunds.count() == 2


def test_delivery_completes_the_order(channel, stock):
    order = _ingested(channel, stock, "8004", payment_status="paid")

    order_fulfillment_set(order_id=order.pk, status="shipped")
    order_fulfillment_set(order_id=order.pk, status="delivered")

    order.refresh_from_db()
    assert (order.status, order.fulfillment_status) == ("completed", "delivered")
    assert order.lines.get().stock_status == "shipped"
