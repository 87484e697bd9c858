from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from logistics import services
from logistics.models import ReturnRequest
from tests.factories.core import StaffUserFactory
from tests.factories.logistics import ready_order

pytestmark = pytest.mark.django_db


def _client(*perms):
    user: Any = StaffUserFactory()
    user.user_permissions.set(Permission.objects.filter(codename__in=perms))
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_list_needs_view_permission_and_filters_by_order(sedex):
    ro = ready_order(quantities=(1, 1))
    other = ready_order(quantities=(1,))
    services.shipment_create(order_id=ro.order.pk)
    services.shipment_create(order_id=other.order.pk)
    assert _client().get("/api/logistics/shipments/").status_code == 403
    client = _client("view_shipment")
    response = client.get(f"/api/logistics/shipments/?order={ro.order.pk}")
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert (
        row["order_id"] == ro.order.pk and len(row["lines"]) == 2 and row["carrier"] == "Correios"
    )


def test_ship_and_open_a_return_through_the_api(sedex):
    ro = ready_order(quantities=(2,))
    shipment = services.shipment_create(order_id=ro.order.pk)
    services.parcel_add(shipment_id=shipment.pk, tracking_code="API1BR")
    assert (
        _client("view_shipment").post(f"/api/logistics/shipments/{shipment.pk}/ship/").status_code
        == 403
    )
    shipper = _client("change_shipment")
    bad = shipper.post(
        f"/api/logistics/shipments/{shipment.pk}/ship/", {"freight_cost": "-1"}, format="json"
    )
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "freight_cost"
    response = shipper.post(
        f"/api/logistics/shipments/{shipment.pk}/ship/", {"freight_cost": "23.45"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "shipped" and response.json()["freight_cost"] == "23.45"

    client = _client("add_returnrequest")
    bad = client.post(
        "/api/logistics/returns/",
        {
            "order_id": ro.order.pk,
            "lines": [{"order_line_id": ro.lines[0].pk, "quantity": 3, "reason": "regret"}],
        },
        format="json",
    )
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "lines[0].quantity"
    assert not ReturnRequest.objects.exists()
    ok = client.post(
        "/api/logistics/returns/",
        {
            "order_id": ro.order.pk,
            "lines": [{"order_line_id": ro.lines[0].pk, "quantity": 1, "reason": "regret"}],
        },
        format="json",
    )
    assert ok.status_code == 201 and ok.json()["status"] == "requested"
