from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from logistics import services
from logistics.models import DelayAlert, Shipment
from logistics.selectors import carrier_scorecard, delivery_on_time_rate
from logistics.services import ReturnLineIn
from tests.factories.logistics import ShippingMethodFactory, ready_order

pytestmark = pytest.mark.django_db
SP = ZoneInfo("America/Sao_Paulo")


def _shipment(method, *, shipped, delivered=None, promised=None, code):
    ro = ready_order(quantities=(1,))
    shipment = services.shipment_create(order_id=ro.order.pk, method_id=method.pk)
    services.parcel_add(shipment_id=shipment.pk, tracking_code=code)
    services.shipment_ship(shipment_id=shipment.pk)
    if delivered:
        services.shipment_deliver(shipment_id=shipment.pk, delivered_at=delivered)
    Shipment.objects.filter(pk=shipment.pk).update(shipped_at=shipped, promised_date=promised)
    return ro, shipment


def test_scorecard_per_carrier_and_month(sedex):
    jadlog = ShippingMethodFactory(carrier__slug="jadlog", carrier__name="Jadlog", code="package")
    d = lambda day, month=10, hour=12: datetime(2026, month, day, hour, tzinfo=SP)  # noqa: E731
    # Correios, October: one on time (2 days), one late (4 days) with a delay alert and a return
    _shipment(sedex, shipped=d(1), delivered=d(3), promised=date(2026, 10, 5), code="S1")
    late_ro, late = _shipment(
        sedex, shipped=d(10), delivered=d(14), promised=date(2026, 10, 12), code="S2"
    )
    DelayAlert.objects.create(shipment=late, kind="past_promise")
    ret = services.return_request_create(
        order_id=late_ro.order.pk, lines=[ReturnLineIn(late_ro.lines[0].pk, 1, "damaged")]
    )
    # Correios, October: still in transit
    _shipment(sedex, shipped=d(20), promised=date(2026, 10, 27), code="S3")
    # Jadlog, November: on time; and one shipped outside the window
    _shipment(jadlog, shipped=d(2, 11), delivered=d(3, 11), promised=date(2026, 11, 6), code="J1")
    _shipment(jadlog, shipped=d(2, 12), delivered=d(3, 12), promised=date(2026, 12, 6), code="J2")

    rows = carrier_scorecard(month_start=date(2026, 10, 1), month_end=date(2026, 12, 1))

    assert [(r["month"], r["carrier"]) for r in rows] == [
        (date(2026, 10, 1), "Correios"),
        (date(2026, 11, 1), "Jadlog"),
    ]
    correios, jad = rows
    assert (correios["shipped"], correios["delivered"], correios["on_time"]) == (3, 2, 1)
    assert correios["on_time_rate"] == Decimal("0.5000")
    assert correios["avg_days_to_deliver"] == Decimal("3.0")
    assert (correios["delays"], correios["returns"]) == (1, 1)
    assert (jad["shipped"], jad["on_time_rate"], jad["delays"], jad["returns"]) == (
        1,
        Decimal("1.0000"),
        0,
        0,
    )
    assert ret.pk


def test_on_time_rate_over_deliveries_in_the_period(sedex):
    d = lambda day: datetime(2026, 10, day, 12, tzinfo=SP)  # noqa: E731
    _shipment(sedex, shipped=d(1), delivered=d(3), promised=date(2026, 10, 3), code="T1")
    _shipment(sedex, shipped=d(1), delivered=d(9), promised=date(2026, 10, 5), code="T2")
    _shipment(sedex, shipped=d(1), delivered=d(4), promised=date(2026, 10, 8), code="T3")
    assert delivery_on_time_rate(start=date(2026, 10, 1), end=date(2026, 11, 1)) == Decimal(
        "0.6667"
    )
    assert delivery_on_time_rate(start=date(2026, 10, 5), end=date(2026, 11, 1)) == Decimal(
        "0.0000"
    )
    assert delivery_on_time_rate(start=date(2026, 11, 1), end=date(2026, 12, 1)) is None


def test_scorecard_query_count_does_not_grow(sedex, django_assert_num_queries):
    d = lambda day: datetime(2026, 10, day, 12, tzinfo=SP)  # noqa: E731
    for i in range(4):
        _shipment(
            sedex, shipped=d(1 + i), delivered=d(5 + i), promised=date(2026, 10, 6), code=f"Q{i}"
        )
    with django_assert_num_queries(3):
        carrier_scorecard(month_start=date(2026, 10, 1), month_end=date(2026, 11, 1))
