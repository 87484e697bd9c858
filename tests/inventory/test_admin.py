from __future__ import annotations

from typing import cast

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inventory.models import Product, PurchaseOrder, StockLevel, StockMovement
from inventory.selectors import stock_ledger_check
from inventory.services import LineRequest, stock_reserve_lines
from tests.factories import StaffUserFactory
from tests.factories.inventory import (
    PurchaseOrderFactory,
    po_line_make,
    product_make,
    stock_put,
    warehouse_make,
)

pytestmark = pytest.mark.django_db

_line = iter(range(10_000, 99_999))


def _some_rows(n: int) -> None:
    """n products with stock in one warehouse, a reservation and a purchase order each."""
    wh = warehouse_make()
    for _ in range(n):
        product = product_make()
        stock_put(product, wh, 3)
        line_id = next(_line)
        stock_reserve_lines(order_id=line_id, lines=[LineRequest(line_id, product.pk, 1)])
        po_line_make(purchase_order=PurchaseOrderFactory(warehouse=wh), product=product)


@pytest.mark.parametrize(
    "model",
    ["product", "stocklevel", "stockmovement", "reservation", "purchaseorder", "supplier"],
)
def test_changelist_query_count_does_not_grow(admin_client, django_assert_num_queries, model):
    url = reverse(f"admin:inventory_{model}_changelist")
    _some_rows(2)
    with CaptureQueriesContext(connection) as small:
        assert admin_client.get(url).status_code == 200
    _some_rows(10)
    with django_assert_num_queries(len(small.captured_queries)):
        response = admin_client.get(url)
    assert response.status_code == 200


def test_product_page_shows_stock_inline(admin_client):
    product, wh = product_make(sku="CANECA-01"), warehouse_make(code="sp")
    stock_put(product, wh, 4)
    response = admin_client.get(reverse("admin:inventory_product_change", args=[product.pk]))
    assert response.status_code == 200
    assert "CANECA-01" in response.content.decode()


def test_product_search_by_barcode(admin_client):
    product_make(sku="A-1", barcode="7890000000011")
    product_make(sku="B-2", barcode="7890000000099")
    response = admin_client.get(reverse("admin:inventory_product_changelist"), {"q": "0011"})
    body = response.content.decode()
    assert "A-1" in body and "B-2" not in body


def test_stock_level_list_shows_available(admin_client):
    product, wh = product_make(sku="CANECA-01"), warehouse_make()
    stock_put(product, wh, 7)
    stock_reserve_lines(order_id=1, lines=[LineRequest(1, product.pk, 3)])
    response = admin_client.get(reverse("admin:inventory_stocklevel_changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_list[0].available_units == 4


def test_ledger_admin_is_read_only(admin_client):
    product, wh = product_make(), warehouse_make()
    movement = stock_put(product, wh, 1)
    assert admin_client.get(reverse("admin:inventory_stockmovement_add")).status_code == 403
    delete = reverse("admin:inventory_stockmovement_delete", args=[movement.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert StockMovement.objects.count() == 1
    level = StockLevel.objects.get()
    change = reverse("admin:inventory_stocklevel_change", args=[level.pk])
    admin_client.post(change, {"on_hand": 99})
    level.refresh_from_db()
    assert level.on_hand == 1


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_adjust_form_calls_the_service(admin_client):
    product, wh = product_make(sku="CANECA-01"), warehouse_make()
    stock_put(product, wh, 5)
    url = reverse("admin:inventory_stocklevel_adjust")
    assert admin_client.get(url, {"sku": "CANECA-01", "warehouse": wh.pk}).status_code == 200

    response = admin_client.post(
        url, {"sku": "CANECA-01", "warehouse": wh.pk, "new_on_hand": 8, "note": "count"}
    )

    assert response.status_code == 302
    assert StockLevel.objects.get().on_hand == 8
    count = StockMovement.objects.get(reason="count")
    assert (count.on_hand_delta, count.actor_id, count.note) == (
        3,
        response.wsgi_request.user.pk,
        "count",
    )
    assert stock_ledger_check() == []


def test_adjust_below_reserved_reports_the_error(admin_client):
    product, wh = product_make(sku="CANECA-01"), warehouse_make()
    stock_put(product, wh, 5)
    stock_reserve_lines(order_id=1, lines=[LineRequest(1, product.pk, 4)])

    response = admin_client.post(
        reverse("admin:inventory_stocklevel_adjust"),
        {"sku": "CANECA-01", "warehouse": wh.pk, "delta": -3},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    assert any("reserved" in m for m in _messages(response))
    assert StockLevel.objects.get().on_hand == 5


def test_adjust_form_needs_stock_permission(client):
    user = cast(User, StaffUserFactory())
    user.user_permissions.add(Permission.objects.get(codename="view_stocklevel"))
    client.force_login(user)
    assert client.get(reverse("admin:inventory_stocklevel_adjust")).status_code == 403


def test_transfer_form(admin_client):
    product = product_make(sku="CANECA-01")
    src, dst = warehouse_make(), warehouse_make()
    stock_put(product, src, 5)
    url = reverse("admin:inventory_stocklevel_transfer")

    too_many = admin_client.post(
        url,
        {"sku": "CANECA-01", "from_warehouse": src.pk, "to_warehouse": dst.pk, "quantity": 6},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert any("available" in m for m in _messages(too_many))
    ok = admin_client.post(
        url,
        {"sku": "CANECA-01", "from_warehouse": src.pk, "to_warehouse": dst.pk, "quantity": 2},
    )

    assert ok.status_code == 302
    assert StockLevel.objects.get(warehouse=src).on_hand == 3
    assert StockLevel.objects.get(warehouse=dst).on_hand == 2


def test_row_action_redirects_to_prefilled_form(admin_client):
    product, wh = product_make(sku="CANECA-01"), warehouse_make()
    stock_put(product, wh, 5)
    level = StockLevel.objects.get()
    response = admin_client.get(reverse("admin:inventory_stocklevel_adjust_row", args=[level.pk]))
    assert response.status_code == 302
    assert "sku=CANECA-01" in response["Location"]


def _import_preview(admin_client, csv: str):
    upload = SimpleUploadedFile("counts.csv", csv.encode(), content_type="text/csv")
    return admin_client.post(
        reverse("admin:inventory_stocklevel_import"),
        {"import_file": upload, "format": "0", "resource": "0"},
    )


def test_stock_count_import_goes_through_stock_adjust(admin_client):
    product, wh = product_make(sku="CANECA-01"), warehouse_make(code="sp")
    stock_put(product, wh, 5)
    preview = _import_preview(admin_client, "sku,warehouse,on_hand\nCANECA-01,sp,9\n")
    assert not preview.context["result"].has_errors()
    assert StockLevel.objects.get().on_hand == 5  # the dry run changed nothing

    confirm = admin_client.post(
        reverse("admin:inventory_stocklevel_process_import"),
        preview.context["confirm_form"].initial,
    )

    assert confirm.status_code == 302
    assert StockLevel.objects.get().on_hand == 9
    assert StockMovement.objects.get(reason="count").on_hand_delta == 4
    assert stock_ledger_check() == []


def test_stock_count_import_below_reserved_is_an_invalid_row(admin_client):
    product, wh = product_make(sku="CANECA-01"), warehouse_make(code="sp")
    stock_put(product, wh, 5)
    stock_reserve_lines(order_id=1, lines=[LineRequest(1, product.pk, 4)])
    preview = _import_preview(admin_client, "sku,warehouse,on_hand\nCANECA-01,sp,2\n")
    result = preview.context["result"]
    assert result.has_validation_errors()
    assert "confirm_form" not in preview.context or preview.context["confirm_form"] is None
    assert StockLevel.objects.get().on_hand == 5


def test_purchase_order_receive_action(admin_client):
    line = po_line_make(quantity=4)
    po = line.purchase_order
    response = admin_client.post(
        reverse("admin:inventory_purchaseorder_changelist"),
        {"action": "receive_selected", "_selected_action": [po.pk]},
    )
    assert response.status_code == 302
    po.refresh_from_db()
    assert po.status == PurchaseOrder.Status.RECEIVED
    assert StockLevel.objects.get(product=line.product).on_hand == 4


def test_product_import_upserts_by_sku(admin_client):
    product_make(sku="CANECA-01", name="Old name")
    upload = SimpleUploadedFile(
        "products.csv",
        b"sku,name,price,cost,is_active\nCANECA-01,Caneca azul,39.90,12.00,1\nNOVO-1,Novo,10.00,4.00,1\n",
        content_type="text/csv",
    )
    preview = admin_client.post(
        reverse("admin:inventory_product_import"),
        {"import_file": upload, "format": "0", "resource": "0"},
    )
    assert not preview.context["result"].has_errors()
    admin_client.post(
        reverse("admin:inventory_product_process_import"),
        preview.context["confirm_form"].initial,
    )

    assert dict(Product.objects.values_list("sku", "name")) == {
        "CANECA-01": "Caneca azul",
        "NOVO-1": "Novo",
    }
