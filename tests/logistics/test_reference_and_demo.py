from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from logistics.demo import demo_ship
from logistics.models import Shipment, TransitTime
from logistics.reference import logistics_reference_seed
from logistics.services import method_resolve
from orders.models import Order
from tests.factories.logistics import ready_order

pytestmark = pytest.mark.django_db


def test_seed_is_idempotent_and_resolves_the_demo_method_names():
    first = logistics_reference_seed()
    call_command("logistics_seed", verbosity=0)
    assert first["transit_ranges"] == 30 and TransitTime.objects.count() == 30
    assert logistics_reference_seed()["transit_ranges"] == 0
    for name, code in [("PAC", "pac"), ("SEDEX", "sedex"), ("Jadlog .Package", "package")]:
        method = method_resolve(name)
        assert method is not None and method.code == code


def test_demo_ship_goes_through_the_services():
    logistics_reference_seed()
    ro = ready_order(quantities=(1, 2), shipping_method="SEDEX")
    shipped = timezone.now() - timedelta(days=10)
    assert (
        demo_ship(
            order_id=ro.order.pk, shipped_at=shipped, delivered_at=shipped + timedelta(days=3)
        )
        == 1
    )
    shipment = Shipment.objects.get(order=ro.order)
    assert shipment.status == "delivered" and shipment.shipped_at == shipped
    assert shipment.parcels.get().events.count() == 4
    assert Order.objects.get(pk=ro.order.pk).fulfillment_status == "delivered"
