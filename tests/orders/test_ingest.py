from __future__ import annotations

from decimal import Decimal
from itertools import permutations
from typing import Any

import pytest

from crm.models import Customer, Notification
from inventory.models import Reservation
from orders.events import OrderCreated, OrderStatusChanged
from orders.models import Order, OrderEvent, OrderHold, OrderLine
from orders.services import order_ingest
from tests.factories.orders import line_in, order_in
from tests.orders.conftest import level

pytestmark = pytest.mark.django_db


def test_ingest_creates_order_customer_lines_reservations_and_events(
    channel, stock, django_capture_on_commit_callbacks
):
    # given two products in stock
    a, b = stock("CAFE-1", 10), stock("FILTRO-1", 10)
    seen: list[OrderCreated] = []
    from backoffice.events import subscribe, unsubscribe

    subscribe(OrderCreated, seen.append)
    try:
        # when the store sends an order
        with django_capture_on_commit_callbacks(execute=True):
            order = order_ingest(
                channel=channel,
                order_in=order_in(
                    "5001", lines=[line_in("CAFE-1", 2), line_in("FILTRO-1", 1, "12.50")]
                ),
            )
    finally:
        unsubscribe(OrderCreated, seen.append)

    # then everything is there
    order.refresh_from_db()
    assert order.status == "new" and order.payment_status == "pending"
    assert order.total == Decimal("112.30")
    assert order.customer is not None
    assert order.customer.document == "52998224725" and order.customer.document_valid
    assert Customer.objects.count() == 1
    lines = list(order.lines.order_by("sku"))
    assert [(x.sku, x.quantity, x.stock_status) for x in lines] == [
        ("CAFE-1", 2, "reserved"),
        ("FILTRO-1", 1, "reserved"),
    ]
    assert level(a) == (10, 2) and level(b) == (10, 1)
    assert Reservation.objects.filter(order_id=order.pk, status="active").count() == 2
    kinds = list(order.events.values_list("kind", flat=True))
    assert kinds[0] == "created" and "stock" in kinds
    assert not OrderHold.objects.exists()
    assert seen == [OrderCreated(order.pk)]
    assert Notification.objects.filter(order_id=order.pk, kind="order_received").count() == 1


def test_same_order_ingested_five_times_is_one_order_one_reservation_per_line(channel, stock):
    product = stock("CAFE-1", 10)
    payload = order_in("5002", lines=[line_in("CAFE-1", 3)])

    for _ in range(5):
        order_ingest(channel=channel, order_in=payload)

    assert Order.objects.count() == 1
    assert OrderLine.objects.count() == 1
    assert Reservation.objects.count() == 1
    assert level(product) == (10, 3)
    assert OrderEvent.objects.filter(kind="created").count() == 1
    assert Notification.objects.filter(kind="order_received").count() == 1


def test_unknown_sku_keeps_the_line_and_holds_the_order(channel, stock):
    stock("CAFE-1", 10)

    order = order_ingest(channel=channel, order_in=order_in("5003", skus=["CAFE-1", "NAO-EXISTE"]))

    assert order.status == "on_hold"
    statuses = dict(order.lines.values_list("sku", "stock_status"))
    assert statuses == {"CAFE-1": "reserved", "NAO-EXISTE": "unknown_sku"}
    assert list(order.holds.values_list("reason", flat=True)) == ["unknown_sku"]


def test_shortage_backorders_the_line_and_holds_the_order_without_dropping_it(channel, stock):
    product = stock("CAFE-1", 1)

    order = order_ingest(channel=channel, order_in=order_in("5004", lines=[line_in("CAFE-1", 3)]))

    assert order.status == "on_hold"
    assert order.lines.get().stock_status == "backordered"
    assert list(order.holds.values_list("reason", flat=True)) == ["stock_shortage"]
    assert level(product) == (1, 0)


def test_paid_order_without_holds_is_confirmed_and_emails_payment(channel, stock):
    stock("CAFE-1", 5)

    order = order_ingest(
        channel=channel, order_in=order_in("5005", skus=["CAFE-1"], payment_status="paid")
    )

    assert (order.status, order.payment_status) == ("confirmed", "paid")
    assert order.paid_at is not None
    kinds = set(Notification.objects.filter(order_id=order.pk).values_list("kind", flat=True))
    assert kinds == {"order_received", "payment_confirmed"}


def test_stale_pending_after_paid_does_not_move_payment_back(channel, stock):
    stock("CAFE-1", 5)
    order_ingest(channel=channel, order_in=order_in("5006", skus=["CAFE-1"], payment_status="paid"))

    order = order_ingest(
        channel=channel, order_in=order_in("5006", skus=["CAFE-1"], payment_status="pending")
    )

    assert order.payment_status == "paid"
    assert order.status == "confirmed"


def test_empty_order_is_rejected_with_field_errors(channel):
    from backoffice.errors import ApplicationError

    with pytest.raises(ApplicationError) as err:
        order_ingest(channel=channel, order_in=order_in("5007", lines=[]))

    assert err.value.errors[0]["field"] == "lines"
    assert not Order.objects.exists()


EVENTS: dict[str, dict[str, Any]] = {
    "created": {"payment_status": "pending"},
    "paid": {"payment_status": "paid"},
    "cancelled": {"payment_status": "pending", "cancelled": True},
}


def _final_state(order: Order) -> dict:
    order.refresh_from_db()
    lines = order.lines.order_by("sku")
    return {
        "status": order.status,
        "payment": order.payment_status,
        "fulfillment": order.fulfillment_status,
        "lines": [(x.sku, x.stock_status) for x in lines],
        "open_holds": sorted(
            order.holds.filter(cleared_at__isnull=True).values_list("reason", flat=True)
        ),
        "active_reservations": Reservation.objects.filter(
            order_id=order.pk, status="active"
        ).count(),
        "reserved": [level(x.product)[1] for x in lines if x.product],
    }


@pytest.mark.parametrize("sequence", list(permutations(EVENTS)), ids="-".join)
def test_created_paid_cancelled_in_any_order_converge(channel, stock, sequence):
    stock("CAFE-1", 5)
    stock("FILTRO-1", 0)  # short: the created path puts a stock hold that cancel must close

    for name in sequence:
        order = order_ingest(
            channel=channel,
            order_in=order_in("6000", skus=["CAFE-1", "FILTRO-1"], **EVENTS[name]),
        )

    assert _final_state(order) == {
        "status": "cancelled",
        "payment": "paid",
        "fulfillment": "unfulfilled",
        "lines": [("CAFE-1", "released"), ("FILTRO-1", "released")],
        "open_holds": [],
        "active_reservations": 0,
        "reserved": [0, 0],
    }


@pytest.mark.parametrize("sequence", list(permutations(["created", "paid"])), ids="-".join)
def test_created_and_paid_in_any_order_converge_to_confirmed(channel, stock, sequence):
    product = stock("CAFE-1", 5)

    for name in sequence:
        order = order_ingest(
            channel=channel, order_in=order_in("6001", skus=["CAFE-1"], **EVENTS[name])
        )

    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("confirmed", "paid")
    assert level(product) == (5, 1)


def test_status_changes_publish_events_on_commit(
    channel, stock, django_capture_on_commit_callbacks
):
    stock("CAFE-1", 5)
    seen: list = []
    from backoffice.events import subscribe, unsubscribe

    subscribe(OrderStatusChanged, seen.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            order = order_ingest(
                channel=channel, order_in=order_in("6002", skus=["CAFE-1"], payment_status="paid")
            )
    finally:
        unsubscribe(OrderStatusChanged, seen.append)

    assert OrderStatusChanged(order.pk, "payment", "pending", "paid") in seen
    assert OrderStatusChanged(order.pk, "lifecycle", "new", "confirmed") in seen


def test_ingest_queries_do_not_grow_with_the_lines(channel, stock):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    skus = [f"Q-{i}" for i in range(5)]
    for sku in skus:
        stock(sku, 10)

    def count(external_id: str, n: int) -> int:
        with CaptureQueriesContext(connection) as ctx:
            order_ingest(channel=channel, order_in=order_in(external_id, skus=skus[:n]))
        return len(ctx)

    count("warm-up", 1)
    one, five = count("Q1", 1), count("Q5", 5)

    # lines, reservations, movements, holds, events and e-mails are written in bulk, and
    # inventory locks the levels and reserves every line with one UPDATE: no query per line
    assert five == one


def test_newer_update_fixes_the_address_and_clears_the_address_hold(channel, stock):
    from datetime import timedelta

    from orders.adapters.base import AddressIn
    from tests.factories.orders import ADDRESS

    stock("CAFE-1", 5)
    t0 = order_in("X").placed_at
    broken = AddressIn(**{**ADDRESS.__dict__, "number": ""})
    order = order_ingest(
        channel=channel,
        order_in=order_in("6100", skus=["CAFE-1"], address=broken, updated_at=t0),
    )
    assert order.status == "on_hold"

    # an older copy arriving late changes nothing
    fixed = AddressIn(**{**ADDRESS.__dict__, "number": "1500"})
    order = order_ingest(
        channel=channel,
        order_in=order_in(
            "6100", skus=["CAFE-1"], address=fixed, updated_at=t0 - timedelta(minutes=1)
        ),
    )
    assert (order.ship_number, order.status) == ("", "on_hold")

    # the newer description with the number fixes it
    order = order_ingest(
        channel=channel,
        order_in=order_in(
            "6100", skus=["CAFE-1"], address=fixed, updated_at=t0 + timedelta(minutes=5)
        ),
    )

    order.refresh_from_db()
    assert (order.ship_number, order.status) == ("1500", "new")
    hold = order.holds.get()
    assert hold.cleared_at is not None and hold.cleared_by is None
    updated = order.events.get(kind="updated")
    assert updated.data == {"before": {"ship_number": ""}}
