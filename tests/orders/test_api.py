from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from orders.services import order_ingest
from tests.factories.orders import (
    line_in,
    make_channel,
    make_staff,
    order_in,
)

pytestmark = pytest.mark.django_db


def _client(*perms: str) -> APIClient:
    user = make_staff()
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="orders", codename__in=perms)
    )
    token = Token.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def api():
    return _client("view_order", "change_order")


@pytest.fixture
def orders(channel, stock):
    stock("CAFE-1", 10)
    other = make_channel(slug="outra-loja")
    now = timezone.now()
    new = order_ingest(
        channel=channel,
        order_in=order_in("9001", skus=["CAFE-1"], placed_at=now - timedelta(days=1)),
    )
    paid = order_ingest(
        channel=other,
        order_in=order_in(
            "9002", skus=["CAFE-1"], payment_status="paid", placed_at=now - timedelta(hours=2)
        ),
    )
    held = order_ingest(
        channel=channel,
        order_in=order_in(
            "9003", lines=[line_in("SEM-CADASTRO", 1)], placed_at=now - timedelta(days=10)
        ),
    )
    return {"new": new, "paid": paid, "held": held}


def _numbers(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["number"] for row in response.json()["results"]]


def test_list_needs_a_token_and_the_view_permission(orders):
    assert APIClient().get("/api/orders/").status_code == 401
    assert _client().get("/api/orders/").status_code == 403


def test_list_is_newest_first_with_hold_reasons(api, orders):
    response = api.get("/api/orders/")

    assert _numbers(response) == ["9002", "9001", "9003"]
    rows = {row["number"]: row for row in response.json()["results"]}
    assert rows["9003"]["hold_reasons"] == ["unknown_sku"]
    assert rows["9002"]["channel"] == "outra-loja"
    assert rows["9002"]["status"] == "confirmed"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=on_hold", ["9003"]),
        ("status=new&status=confirmed", ["9002", "9001"]),
        ("payment_status=paid", ["9002"]),
        ("fulfillment_status=shipped", []),
        ("channel=outra-loja", ["9002"]),
        ("hold_reason=unknown_sku", ["9003"]),
        ("hold_reason=risk", []),
        ("search=9001", ["9001"]),
        ("search=%239001", ["9001"]),
        ("search=maria@example.com", ["9002", "9001", "9003"]),
        ("search=MARIA@EXAMPLE.COM", ["9002", "9001", "9003"]),
        ("search=52998224725", ["9002", "9001", "9003"]),
        ("search=529.982.247-25", ["9002", "9001", "9003"]),
        ("search=da silva", ["9002", "9001", "9003"]),
        ("search=maria silva", ["9002", "9001", "9003"]),
        ("search=maria souza", []),
        ("search=nobody", []),
        ("status=on_hold&search=maria@example.com", ["9003"]),
    ],
)
def test_list_filters(api, orders, query, expected):
    assert _numbers(api.get(f"/api/orders/?{query}")) == expected


def test_list_filters_by_placed_at_range(api, orders):
    since = (timezone.now() - timedelta(days=2)).isoformat()
    response = api.get("/api/orders/", {"placed_after": since})
    assert _numbers(response) == ["9002", "9001"]


def test_list_rejects_a_bad_filter_value_with_a_400_body(api, orders):
    response = api.get("/api/orders/?status=shipped-to-mars")

    assert response.status_code == 400
    body = response.json()
    assert body["errors"][0]["field"] == "status"


def test_detail_has_lines_holds_and_events(api, orders):
    order = orders["held"]

    body = api.get(f"/api/orders/{order.pk}/").json()

    assert body["lines"][0]["stock_status"] == "unknown_sku"
    assert body["holds"][0]["reason"] == "unknown_sku"
    assert body["events"][0]["kind"] == "created"
    assert api.get("/api/orders/999999/").status_code == 404


def test_cancel_action_cancels_and_a_second_cancel_is_409(api, orders):
    order = orders["new"]

    response = api.post(f"/api/orders/{order.pk}/cancel/", {"reason": "fraude"}, format="json")
    again = api.post(f"/api/orders/{order.pk}/cancel/", {}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert order.events.get(to_value="cancelled").source == "api"
    assert again.status_code == 409
    assert set(again.json()) == {"detail", "errors"}
    assert "já está cancelado" in again.json()["detail"]  # pt-BR, the default language


def test_cancel_with_invalid_input_is_400_naming_the_field(api, orders):
    order = orders["new"]

    response = api.post(f"/api/orders/{order.pk}/cancel/", {"reason": "x" * 600}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "reason"
    order.refresh_from_db()
    assert order.status == "new"


def test_confirm_action_and_its_conflict_for_held_orders(api, orders):
    ok = api.post(f"/api/orders/{orders['new'].pk}/confirm/", {}, format="json")
    held = api.post(f"/api/orders/{orders['held'].pk}/confirm/", {}, format="json")

    assert ok.status_code == 200 and ok.json()["status"] == "confirmed"
    assert held.status_code == 409
    assert "unknown_sku" in held.json()["detail"]


def test_actions_need_the_change_permission(orders):
    viewer = _client("view_order")

    response = viewer.post(f"/api/orders/{orders['new'].pk}/cancel/", {}, format="json")

    assert response.status_code == 403
    orders["new"].refresh_from_db()
    assert orders["new"].status == "new"


def test_schema_documents_the_order_endpoints(admin_client):
    response = admin_client.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/orders/", "/api/orders/{id}/", "/api/orders/{id}/cancel/"} <= set(paths)


@pytest.mark.parametrize(
    "query",
    ["", "?status=new", "?channel=loja-teste", "?hold_reason=unknown_sku", "?search=Maria"],
)
def test_list_query_count_does_not_grow_with_orders(api, channel, stock, query):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    stock("CAFE-1", 500)

    def add(start: int, n: int) -> None:
        for i in range(start, start + n):
            sku = "CAFE-1" if i % 3 else "SEM-CADASTRO"
            order_ingest(channel=channel, order_in=order_in(f"Q{i}", skus=[sku]))

    add(0, 3)
    with CaptureQueriesContext(connection) as few:
        assert api.get(f"/api/orders/{query}").status_code == 200
    add(3, 60)
    with CaptureQueriesContext(connection) as many:
        response = api.get(f"/api/orders/{query}")
    assert response.status_code == 200
    assert len(few) == len(many)
    # one query for the page (channel and customer joined), one for its open holds
    sql = [q["sql"] for q in many.captured_queries]
    assert sum(s.startswith('SELECT "orders_order"."id"') for s in sql) == 1
    assert sum(s.startswith('SELECT "orders_orderhold"."id"') for s in sql) == 1
    next_url = response.json()["next"]
    if next_url:  # a later page costs the same
        with CaptureQueriesContext(connection) as next_page:
            assert api.get(next_url).status_code == 200
        assert len(next_page) == len(many)
