from __future__ import annotations

from typing import cast

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import include, path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from inventory.services import LineRequest, stock_reserve_lines
from tests.factories import StaffUserFactory
from tests.factories.inventory import product_make, stock_put, warehouse_make

pytestmark = pytest.mark.django_db


def _client(*perms: str) -> APIClient:
    user = cast(User, StaffUserFactory())
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="inventory", codename__in=perms)
    )
    token = Token.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def api() -> APIClient:
    return _client("view_product", "view_stocklevel")


@pytest.fixture
def catalog():
    online, offline = warehouse_make(priority=1), warehouse_make(sells_online=False)
    mug = product_make(sku="CANECA-01", name="Caneca azul", barcode="7890000000011")
    tee = product_make(sku="CAMISETA-P", name="Camiseta preta")
    old = product_make(sku="VELHO-1", name="Produto antigo", is_active=False)
    stock_put(mug, online, 5)
    stock_put(mug, offline, 7)
    stock_put(tee, online, 2)
    stock_reserve_lines(order_id=1, lines=[LineRequest(1, mug.pk, 2)])
    return {"mug": mug, "tee": tee, "old": old, "online": online, "offline": offline}


def test_needs_token_and_view_permission(catalog):
    assert APIClient().get("/api/products/").status_code == 401
    assert _client().get("/api/products/").status_code == 403
    assert _client("view_product").get("/api/stock-levels/").status_code == 403


def test_product_list_shows_stock_totals(api, catalog):
    response = api.get("/api/products/")

    assert response.status_code == 200
    rows = {row["sku"]: row for row in response.json()["results"]}
    assert set(rows) == {"CANECA-01", "CAMISETA-P", "VELHO-1"}
    assert (rows["CANECA-01"]["on_hand"], rows["CANECA-01"]["available"]) == (12, 3)
    assert rows["VELHO-1"]["available"] == 0


@pytest.mark.parametrize(
    ("params", "skus"),
    [
        ({"sku": "CANECA-01"}, {"CANECA-01"}),
        ({"active": "false"}, {"VELHO-1"}),
        ({"search": "camiseta"}, {"CAMISETA-P"}),
        ({"search": "7890000000011"}, {"CANECA-01"}),
    ],
)
def test_product_filters(api, catalog, params, skus):
    response = api.get("/api/products/", params)

    assert response.status_code == 200
    assert {row["sku"] for row in response.json()["results"]} == skus


def test_product_detail(api, catalog):
    response = api.get(f"/api/products/{catalog['tee'].pk}/")

    assert response.status_code == 200
    assert response.json()["sku"] == "CAMISETA-P"
    assert api.get("/api/products/999999/").status_code == 404


def test_product_list_is_paginated_by_cursor(api):
    for i in range(55):
        product_make(sku=f"P-{i:03d}")

    first = api.get("/api/products/").json()
    second = api.get(first["next"]).json()

    skus = [row["sku"] for row in first["results"] + second["results"]]
    assert len(first["results"]) == 50
    assert sorted(skus) == [f"P-{i:03d}" for i in range(55)]
    assert second["next"] is None


def test_product_list_query_count_is_constant(api, catalog, django_assert_max_num_queries):
    for _ in range(5):
        stock_put(product_make(), catalog["online"], 1)
    # auth token + user perms + group perms + the page: never one per product
    with django_assert_max_num_queries(4):
        assert api.get("/api/products/").status_code == 200


def test_stock_level_list_and_filters(api, catalog):
    rows = api.get("/api/stock-levels/").json()["results"]
    assert len(rows) == 3
    by_sku = api.get("/api/stock-levels/", {"sku": "CANECA-01"}).json()["results"]
    assert {(r["warehouse"], r["on_hand"], r["reserved"], r["available"]) for r in by_sku} == {
        (catalog["online"].code, 5, 2, 3),
        (catalog["offline"].code, 7, 0, 7),
    }
    by_wh = api.get("/api/stock-levels/", {"warehouse": catalog["offline"].code}).json()
    assert [r["sku"] for r in by_wh["results"]] == ["CANECA-01"]


urlpatterns = [path("api/", include("inventory.urls"))]


def test_schema_has_no_warnings():
    GENERATOR_STATS.reset()
    schema = SchemaGenerator(patterns=urlpatterns).get_schema(request=None, public=True)

    assert {"/api/products/", "/api/products/{id}/", "/api/stock-levels/"} <= set(schema["paths"])
    assert not GENERATOR_STATS._warn_cache and not GENERATOR_STATS._error_cache
