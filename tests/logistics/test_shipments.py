from __future__ import annotations

from datetime import date, datetime
from typing import cast
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Sum

from backoffice.errors import ApplicationError, ConflictError
from crm.models import Notification
from inventory.models import Reservation, StockLevel, StockMovement
from logistics import services
from logistics.events import ShipmentShipped
from logistics.models import Holiday, Shipment
from logistics.services import ShipmentLineIn
from orders.models import Order, OrderEvent
from tests.factories.logistics import TransitTimeFactory, ready_order

pytestmark = pytest.mark.django_db
SP = ZoneInfo("America/Sao_Paulo")


def _ship(shipment: Shipment, code: str) -> Shipment:
    services.parcel_add(shipment_id=shipment.pk, tracking_code=code)
    return services.shipment_ship(shipment_id=shipment.pk)


def test_two_partial_shipments_move_order_to_partially_shipped_then_shipped(
    sedex, django_capture_on_commit_callbacks
):
    # given an order of two lines (2 + 1 units)
    ro = ready_order(quantities=(2, 1))
    first = services.shipment_create(
        order_id=ro.order.pk, lines=[ShipmentLineIn(ro.lines[0].pk, 2)]
    )
    # when the first shipment leaves
    with django_capture_on_commit_callbacks(execute=True):
        _ship(first, "AA000000001BR")
    ro.order.refresh_from_db()
    # then the order is partially shipped and processing
    assert ro.order.fulfillment_status == "partially_shipped"
    assert ro.order.status == "processing"
    # when the rest leaves in a second shipment (default = everything left)
    second = services.shipment_create(order_id=ro.order.pk)
    assert [(sl.order_line_id, sl.quantity) for sl in second.lines.all()] == [(ro.lines[1].pk, 1)]
    with django_capture_on_commit_callbacks(execute=True):
        _ship(second, "AA000000002BR")
    ro.order.refresh_from_db()
    assert ro.order.fulfillment_status == "shipped"
    events = OrderEvent.objects.filter(order=ro.order, kind="fulfillment").order_by("id")
    assert [e.to_value for e in events] == ["partially_shipped", "shipped"]
    # one 'shipped' e-mail per shipment, with tracking
    mails = Notification.objects.filter(order_id=ro.order.pk, kind="shipped").order_by("id")
    assert [m.dedupe_key for m in mails] == [
        f"order:{ro.order.pk}:shipped:{first.pk}",
        f"order:{ro.order.pk}:shipped:{second.pk}",
    ]
    assert mails[0].context["tracking_code"] == "AA000000001BR"
    assert mails[0].context["carrier"] == "Correios"
    assert mails[0].context["order_number"] == ro.order.number


def test_ship_consumes_the_reservation_and_keeps_the_ledger_consistent(sedex):
    ro = ready_order(quantities=(3,), on_hand=10)
    line, product = ro.lines[0], ro.products[0]
    level = StockLevel.objects.get(product=product, warehouse=ro.warehouse)
    assert (level.on_hand, level.reserved) == (10, 3)
    shipment = services.shipment_create(order_id=ro.order.pk)

    _ship(shipment, "BB1")

    level.refresh_from_db()
    assert (level.on_hand, level.reserved) == (7, 0)
    reservation = Reservation.objects.get(order_line_id=line.pk)
    assert reservation.status == "consumed" and reservation.shipped_quantity == 3
    ship_moves = StockMovement.objects.filter(order_line_id=line.pk, reason="ship")
    assert list(ship_moves.values_list("on_hand_delta", "reserved_delta", "reference")) == [
        (-3, -3, f"shipment:{shipment.pk}")
    ]
    # the ledger (sum of movements, from the StockLevelFactory's starting 10) matches
    sums = StockMovement.objects.filter(product=product, warehouse=ro.warehouse).aggregate(
        on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta")
    )
    assert 10 + sums["on_hand"] == level.on_hand
    assert sums["reserved"] == level.reserved


def test_shipping_twice_consumes_once(sedex):
    ro = ready_order(quantities=(1,))
    shipment = services.shipment_create(order_id=ro.order.pk)
    _ship(shipment, "CC1")
    services.shipment_ship(shipment_id=shipment.pk)
    assert StockMovement.objects.filter(order_line_id=ro.lines[0].pk, reason="ship").count() == 1


def test_ship_without_parcel_or_on_an_unconfirmed_order_changes_nothing(sedex):
    ro = ready_order(quantities=(1,))
    shipment = services.shipment_create(order_id=ro.order.pk)
    with pytest.raises(ApplicationError):
        services.shipment_ship(shipment_id=shipment.pk)
    services.parcel_add(shipment_id=shipment.pk, tracking_code="DD1")
    Order.objects.filter(pk=ro.order.pk).update(status="on_hold")
    with pytest.raises(ConflictError):
        services.shipment_ship(shipment_id=shipment.pk)
    shipment.refresh_from_db()
    assert shipment.status == "draft"
    assert not StockMovement.objects.filter(reason="ship").exists()


def test_cannot_plan_more_than_ordered(sedex):
    ro = ready_order(quantities=(2,))
    services.shipment_create(order_id=ro.order.pk, lines=[ShipmentLineIn(ro.lines[0].pk, 2)])
    with pytest.raises(ApplicationError) as exc:
        services.shipment_create(order_id=ro.order.pk, lines=[ShipmentLineIn(ro.lines[0].pk, 1)])
    assert exc.value.errors[0]["field"] == "lines[0].quantity"


def test_shipments_plan_splits_by_warehouse(sedex):
    from inventory.models import Warehouse
    from tests.factories.core import WarehouseFactory

    ro = ready_order(quantities=(1, 1))
    other = cast(Warehouse, WarehouseFactory())
    Reservation.objects.filter(order_line_id=ro.lines[1].pk).update(warehouse=other)
    created = services.shipments_plan(order_id=ro.order.pk, wave="W1")
    assert sorted(s.warehouse_id for s in created) == sorted([ro.warehouse.pk, other.pk])
    assert all(s.wave == "W1" for s in created)
    assert Warehouse.objects.count() >= 2


def test_promise_counts_business_days_from_payment_skipping_weekends_and_holidays(sedex):
    # paid on Friday 2026-11-13; handling 1 + transit 3 business days; Monday 16th is a holiday
    TransitTimeFactory(method=sedex, cep_from="01000000", cep_to="05999999", business_days=3)
    TransitTimeFactory(method=sedex, cep_from="69000000", cep_to="69999999", business_days=9)
    Holiday.objects.create(date=date(2026, 11, 16), name="test holiday")
    ro = ready_order(quantities=(1,))
    paid = datetime(2026, 11, 13, 15, 0, tzinfo=SP)
    Order.objects.filter(pk=ro.order.pk).update(paid_at=paid, ship_postal_code="01310-100")
    shipment = services.shipment_create(order_id=ro.order.pk)
    Shipment.objects.filter(pk=shipment.pk).update(promised_date=None)

    promised = services.shipment_promise_compute(order_id=ro.order.pk)

    # Tue 17, Wed 18, Thu 19, Fri 20
    assert promised == date(2026, 11, 20)
    shipment.refresh_from_db()
    assert shipment.promised_date == promised
    # a CEP in another range takes that range's days; unknown method -> None
    Order.objects.filter(pk=ro.order.pk).update(ship_postal_code="69005-000")
    assert services.shipment_promise_compute(order_id=ro.order.pk) == date(
        2026, 11, 30
    )  # 1 + 9 business days
    Order.objects.filter(pk=ro.order.pk).update(shipping_method="carrier pigeon")
    assert services.shipment_promise_compute(order_id=ro.order.pk) is None


def test_shipped_event_is_published_on_commit(sedex, django_capture_on_commit_callbacks):
    from backoffice.events import subscribe, unsubscribe

    seen: list[ShipmentShipped] = []
    subscribe(ShipmentShipped, seen.append)
    try:
        ro = ready_order(quantities=(1,))
        shipment = services.shipment_create(order_id=ro.order.pk)
        with django_capture_on_commit_callbacks(execute=True):
            _ship(shipment, "EE1")
    finally:
        unsubscribe(ShipmentShipped, seen.append)
    assert seen == [ShipmentShipped(shipment_id=shipment.pk, order_id=ro.order.pk)]


def test_pack_verify_reports_missing_and_extra_and_packs_on_match(sedex):
    ro = ready_order(quantities=(2, 1))
    ro.products[1].barcode = "7891234567895"
    ro.products[1].save()
    shipment = services.shipment_create(order_id=ro.order.pk)
    sku_a = ro.lines[0].sku

    # one unit short of A, B scanned by barcode, and a stray SKU
    result = services.pack_verify(
        shipment_id=shipment.pk, scanned=[(sku_a, 1), ("7891234567895", 1), ("STRAY-1", 1)]
    )
    assert not result.ok
    assert result.missing == {sku_a: 1}
    assert result.extra == {"STRAY-1": 1}
    shipment.refresh_from_db()
    assert shipment.status == "draft"

    # too many of B is extra
    result = services.pack_verify(
        shipment_id=shipment.pk, scanned=[(sku_a, 2), (ro.lines[1].sku, 2)]
    )
    assert result.extra == {ro.lines[1].sku: 1} and not result.missing

    result = services.pack_verify(
        shipment_id=shipment.pk,
        scanned=[(sku_a.lower(), 1), (sku_a, 1), ("7891234567895", 1)],
    )
    assert result.ok
    shipment.refresh_from_db()
    assert shipment.status == "packed" and shipment.packed_at is not None
    with pytest.raises(ApplicationError):
        services.pack_verify(shipment_id=shipment.pk, scanned=[(sku_a, 0)])


def test_cancelling_the_order_cancels_shipments_not_yet_shipped(
    sedex, django_capture_on_commit_callbacks
):
    from orders.services import order_cancel

    ro = ready_order(quantities=(1,))
    shipment = services.shipment_create(order_id=ro.order.pk)
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order_id=ro.order.pk, reason="customer gave up")
    shipment.refresh_from_db()
    assert shipment.status == "cancelled"


def test_dashboard_shows_logistics_numbers(sedex, admin_client):
    from logistics.selectors import logistics_kpis

    ro = ready_order(quantities=(1,))
    services.shipment_create(order_id=ro.order.pk)
    assert logistics_kpis() == {"to_ship": 1, "in_transit": 0, "open_delay_alerts": 0}
    response = admin_client.get("/admin/")
    assert response.status_code == 200
