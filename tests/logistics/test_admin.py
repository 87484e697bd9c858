from __future__ import annotations

import pytest
from django.urls import reverse

from logistics import services
from logistics.models import ReturnRequest, Shipment
from tests.factories.logistics import ready_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, admin_user):
    client.force_login(admin_user)
    return client


def _shipments(n):
    ids = []
    for _ in range(n):
        ro = ready_order(quantities=(1, 1))
        shipment = services.shipment_create(order_id=ro.order.pk, wave="W1")
        services.parcel_add(shipment_id=shipment.pk, tracking_code=f"ADM{shipment.pk}BR")
        ids.append(shipment.pk)
    return ids


def _changelist_queries(staff_client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert staff_client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "name",
    [
        "shipment",
        "trackingevent",
        "delayalert",
        "returnrequest",
        "outboundwebhook",
        "logisticsaudit",
        "carrier",
        "shippingmethod",
    ],
)
def test_changelists_query_count_does_not_grow_with_rows(staff_client, sedex, name):
    url = reverse(f"admin:logistics_{name}_changelist")
    _shipments(1)
    few = _changelist_queries(staff_client, url)
    _shipments(4)
    many = _changelist_queries(staff_client, url)
    assert many == few


def test_bulk_pdf_actions_return_pdfs(staff_client, sedex):
    ids = _shipments(2)
    url = reverse("admin:logistics_shipment_changelist")
    for action in ("print_pick_list", "print_packing_slips"):
        response = staff_client.post(url, {"action": action, "_selected_action": ids})
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")


def test_ship_action_and_pack_view(staff_client, sedex):
    ids = _shipments(1)
    shipment = Shipment.objects.get(pk=ids[0])
    pack_url = reverse("admin:logistics_shipment_pack", args=[shipment.pk])
    assert staff_client.get(pack_url).status_code == 200
    skus = [line.order_line.sku for line in shipment.lines.select_related("order_line")]

    response = staff_client.post(pack_url, {"scanned": skus[0]})
    assert response.status_code == 200
    assert skus[1] in response.content.decode()  # reported missing
    shipment.refresh_from_db()
    assert shipment.status == "draft"

    response = staff_client.post(
        pack_url, {"scanned": f"{skus[0]}\n{skus[1]} 1", "tracking_code": "PK2BR"}
    )
    shipment.refresh_from_db()
    assert shipment.status == "packed"
    assert shipment.parcels.count() == 2

    staff_client.post(
        reverse("admin:logistics_shipment_changelist"),
        {"action": "ship_selected", "_selected_action": [shipment.pk]},
    )
    shipment.refresh_from_db()
    assert shipment.status == "shipped"


def test_scorecard_plan_and_return_views(staff_client, sedex):
    assert staff_client.get(reverse("admin:logistics_carrier_scorecard")).status_code == 200
    assert (
        staff_client.get(
            reverse("admin:logistics_carrier_scorecard") + "?start=2026-01-01&end=2026-12-01"
        ).status_code
        == 200
    )
    ro = ready_order(quantities=(1,))
    response = staff_client.post(
        reverse("admin:logistics_shipment_plan"), {"order_number": ro.order.number}
    )
    assert response.status_code == 302
    shipment = Shipment.objects.get(order=ro.order)
    services.parcel_add(shipment_id=shipment.pk, tracking_code="VW1BR")
    services.shipment_ship(shipment_id=shipment.pk)

    new_url = reverse("admin:logistics_return_new")
    assert staff_client.get(new_url + f"?order={ro.order.number}").status_code == 200
    line = ro.lines[0]
    staff_client.post(
        new_url,
        {"order": ro.order.number, f"qty_{line.pk}": "1", f"reason_{line.pk}": "regret"},
    )
    ret = ReturnRequest.objects.get(order=ro.order)
    staff_client.post(
        reverse("admin:logistics_returnrequest_changelist"),
        {"action": "approve", "_selected_action": [ret.pk]},
    )
    receive_url = reverse("admin:logistics_return_receive", args=[ret.pk])
    assert staff_client.get(receive_url).status_code == 200
    rl = ret.lines.get()
    staff_client.post(receive_url, {f"grading_{rl.pk}": "resell", f"received_{rl.pk}": "1"})
    ret.refresh_from_db()
    assert ret.status == "received"


def test_tracking_import_page_renders(staff_client):
    assert staff_client.get(reverse("admin:logistics_trackingevent_import")).status_code == 200


def test_csv_tracking_import_through_the_admin(staff_client, sedex):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from logistics.models import TrackingEvent

    ids = _shipments(1)
    code = Shipment.objects.get(pk=ids[0]).parcels.get().tracking_code
    services.shipment_ship(shipment_id=ids[0])
    csv_bytes = (
        "tracking_code,code,occurred_at,kind,description,location\n"
        f"{code},PO01,2026-11-20T09:00:00-03:00,,Postado,São Paulo/SP\n"
        f"{code},BDE01,2026-11-21T15:00:00-03:00,,Entregue,Campinas/SP\n"
    ).encode()
    url = reverse("admin:logistics_trackingevent_import")
    page = staff_client.get(url)
    formats = page.context["form"].fields["format"].choices
    csv_index = next(value for value, label in formats if "csv" in str(label).lower())
    preview = staff_client.post(
        url,
        {
            "import_file": SimpleUploadedFile("tracking.csv", csv_bytes, "text/csv"),
            "format": csv_index,
            "resource": 0,
        },
    )
    assert preview.status_code == 200
    assert not TrackingEvent.objects.exists()  # the preview is a dry run
    confirm = preview.context["confirm_form"]
    done = staff_client.post(
        reverse("admin:logistics_trackingevent_process_import"),
        {name: confirm[name].value() for name in confirm.fields},
    )
    assert done.status_code == 302
    assert TrackingEvent.objects.filter(source="csv").count() == 2
    assert Shipment.objects.get(pk=ids[0]).status == "delivered"
