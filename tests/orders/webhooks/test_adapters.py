"""Adapters on their own: body -> OrderIn, every problem listed, ids and amounts exact."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from orders.adapters import UnsupportedPlatform, get_adapter
from orders.adapters._common import split_street_number, state_code, utm_from_url
from orders.adapters.base import Delivery, PayloadError
from orders.adapters.generic import order_in_from_dict
from orders.adapters.nuvemshop import NuvemshopAdapter, order_in_from_nuvemshop
from orders.adapters.shopify import order_in_from_shopify
from orders.adapters.woocommerce import WooCommerceAdapter, order_in_from_woocommerce
from orders.clients import ClientError, RecordedNuvemshopClient, decode
from orders.models import Channel
from tests.orders.webhooks.conftest import dumps, fixture_bytes, fixture_json, generic_order


def _errors(exc: pytest.ExceptionInfo[PayloadError]) -> dict[str, str]:
    return {e["field"]: e["message"] for e in exc.value.errors}


# --- generic ---------------------------------------------------------------------------


def test_generic_maps_one_to_one():
    order = order_in_from_dict(json.loads(dumps(generic_order()), parse_float=Decimal))
    assert order.external_id == "G-1001" and order.number == "1001"
    assert order.placed_at == datetime(2026, 11, 20, 17, 3, tzinfo=UTC)
    assert order.customer.document == "529.982.247-25" and order.customer.language == "pt-br"
    assert order.shipping_address.postal_code == "01310-100"
    assert order.lines[0].unit_price == Decimal("49.90") and order.lines[0].quantity == 2
    assert order.total == Decimal("114.80") and order.payment_status == "paid"
    assert (order.utm_source, order.utm_campaign) == ("instagram", "black-friday")


def test_generic_lists_every_problem_at_once():
    data = generic_order(
        id="",
        placed_at="yesterday",
        total="12,50",
        payment_status="maybe",
        lines=[
            {"sku": "A", "quantity": 0, "unit_price": "1.00"},
            {"sku": "B", "quantity": 1.5, "unit_price": "-3"},
            {"quantity": 1, "unit_price": "abc"},
        ],
    )
    with pytest.raises(PayloadError) as exc:
        order_in_from_dict(data)
    errors = _errors(exc)
    assert errors["id"] == "is required"
    assert "not a date" in errors["placed_at"]
    assert "not an amount" in errors["total"]
    assert "payment_status" in errors
    assert errors["lines[0].quantity"] == "must be greater than zero"
    assert "whole number" in errors["lines[1].quantity"]
    assert errors["lines[1].unit_price"] == "must not be negative"
    assert errors["lines[2].sku"] == "is required"
    assert "not an amount" in errors["lines[2].unit_price"]


def test_generic_rejects_missing_and_empty_lines_and_naive_dates():
    with pytest.raises(PayloadError) as exc:
        order_in_from_dict(generic_order(lines=[], placed_at="2026-11-20T14:03:00"))
    errors = _errors(exc)
    assert errors["lines"] == "must have at least one line"
    assert "UTC offset" in errors["placed_at"]
    data = generic_order()
    del data["lines"]
    with pytest.raises(PayloadError) as exc:
        order_in_from_dict(data)
    assert _errors(exc)["lines"] == "is required"


def test_generic_parse_ignores_pings_and_rejects_non_json():
    adapter = get_adapter("generic")
    assert adapter.parse(Delivery("ping", "d1", {}, b"{}")) is None
    with pytest.raises(PayloadError) as exc:
        adapter.parse(Delivery("order.created", "d1", {}, b"{not json"))
    assert exc.value.errors[0]["field"] == "body"
    with pytest.raises(PayloadError):
        adapter.parse(Delivery("order.created", "d1", {}, b"[1, 2]"))


def test_unknown_platform_has_no_adapter():
    with pytest.raises(UnsupportedPlatform):
        get_adapter("vtex")


# --- Shopify -----------------------------------------------------------------------------


def test_shopify_ids_come_exact_from_the_graphql_ids():
    body = fixture_json("shopify_order_created.json")["body"]
    assert body["id"] == 820982911946154500  # the capture rounded it (SOURCES.md)
    order = order_in_from_shopify(json.loads(json.dumps(body), parse_float=Decimal))
    assert order.external_id == "820982911946154508"
    assert order.lines[0].external_id == "487817672276298554"


def test_shopify_int64_id_without_graphql_id_stays_exact():
    # Python's json keeps integers exact: a real (unrounded) body needs no gid.
    raw = fixture_json("shopify_order_created.json")["body"]
    raw.pop("admin_graphql_api_id")
    text = json.dumps(raw).replace("820982911946154500", "9223372036854775807", 1)
    order = order_in_from_shopify(json.loads(text, parse_float=Decimal))
    assert order.external_id == "9223372036854775807"


def test_shopify_brazilian_order_details():
    raw = fixture_json("shopify_order_created.json")["body"]
    raw.update(
        cancelled_at=None,
        financial_status="paid",
        landing_site="/produtos?utm_source=google&utm_medium=cpc&utm_campaign=bf26",
        note_attributes=[
            {"name": "utm_campaign", "value": "override"},
            {"name": "CPF", "value": "529.982.247-25"},
        ],
        discount_codes=[{"code": "BEMVINDO", "amount": "20.00", "type": "fixed_amount"}],
        customer_locale="pt-BR",
    )
    raw["shipping_address"].update(
        address1="Avenida Paulista, 1000",
        address2="apto 12",
        zip="01310100",
        province="São Paulo",
        province_code="SP",
        country_code="BR",
        city="São Paulo",
    )
    raw["line_items"][0]["sku"] = ""
    raw["line_items"][0]["variant_id"] = 44012345678901
    raw["line_items"][1]["discount_allocations"] = [{"amount": "5.00"}, {"amount": "1.50"}]
    order = order_in_from_shopify(json.loads(json.dumps(raw), parse_float=Decimal))
    assert order.payment_status == "paid" and not order.cancelled
    assert (order.utm_source, order.utm_medium, order.utm_campaign) == ("google", "cpc", "override")
    assert order.coupon_code == "BEMVINDO"
    assert order.customer.document == "529.982.247-25" and order.customer.language == "pt-br"
    a = order.shipping_address
    assert (a.street, a.number, a.complement) == ("Avenida Paulista", "1000", "apto 12")
    assert (a.postal_code, a.state, a.country) == ("01310-100", "SP", "BR")
    assert order.lines[0].sku == "44012345678901"  # missing SKU -> variant id
    assert order.lines[1].discount == Decimal("6.50")


@pytest.mark.parametrize(
    ("financial", "expected"),
    [
        ("pending", "pending"),
        ("authorized", "authorized"),
        ("paid", "paid"),
        ("partially_refunded", "partially_refunded"),
        ("refunded", "refunded"),
        ("voided", "failed"),
    ],
)
def test_shopify_financial_status_mapping(financial, expected):
    raw = fixture_json("shopify_order_created_2024-10.json")["body"]
    raw["financial_status"] = financial
    assert order_in_from_shopify(raw).payment_status == expected


def test_shopify_lists_every_problem():
    raw = {"line_items": [{"quantity": "x", "price": None}], "created_at": "nope"}
    with pytest.raises(PayloadError) as exc:
        order_in_from_shopify(raw)
    errors = _errors(exc)
    assert {
        "id",
        "created_at",
        "customer",
        "line_items[0].sku",
        "line_items[0].quantity",
        "line_items[0].price",
        "total_price",
    } <= set(errors)


def test_shopify_topics_that_need_no_action_are_ignored():
    adapter = get_adapter("shopify")
    assert adapter.parse(Delivery("orders/delete", "d", {}, b'{"id": 1}')) is None
    assert adapter.parse(Delivery("app/uninstalled", "d", {}, b"{}")) is None


def test_shopify_delivery_id_prefers_webhook_id_then_event_id():
    adapter = get_adapter("shopify")
    both = {"x-shopify-webhook-id": "w-1", "x-shopify-event-id": "e-1"}
    assert adapter.delivery_id(headers=both, body=b"{}") == "w-1"
    assert adapter.delivery_id(headers={"x-shopify-event-id": "e-1"}, body=b"{}") == "e-1"


# --- WooCommerce -------------------------------------------------------------------------


def test_woocommerce_documented_order():
    order = order_in_from_woocommerce(
        json.loads(fixture_bytes("woocommerce_order_created.json"), parse_float=Decimal)
    )
    assert (order.external_id, order.number) == ("727", "727")
    assert order.placed_at == datetime(2017, 3, 22, 19, 28, 2, tzinfo=UTC)
    assert order.payment_status == "paid"  # processing
    assert [(x.sku, x.quantity, x.unit_price) for x in order.lines] == [
        ("93", 2, Decimal("3.00")),  # no SKU: product id (no variation)
        ("Bar3", 1, Decimal("12.00")),
    ]
    assert order.lines[1].name == "Ship Your Idea – Color: Black, Size: M Test"
    assert order.subtotal == Decimal("18.00") and order.total == Decimal("29.35")


def test_woocommerce_brazilian_market_fields_and_status_mapping():
    raw = json.loads(fixture_bytes("woocommerce_order_created.json"))
    raw["status"] = "on-hold"
    raw["meta_data"] += [
        {"id": 1, "key": "_billing_cnpj", "value": "11.222.333/0001-81"},
        {"id": 2, "key": "_billing_persontype", "value": "2"},
        {"id": 3, "key": "_shipping_number", "value": "742"},
        {"id": 4, "key": "_shipping_neighborhood", "value": "Centro"},
        {"id": 5, "key": "_wc_order_attribution_utm_source", "value": "google"},
    ]
    raw["billing"]["first_name"] = "Jo&atilde;o"
    raw["line_items"][0]["subtotal"] = "10.00"
    raw["line_items"][0]["total"] = "8.00"
    order = order_in_from_woocommerce(raw)
    assert order.payment_status == "pending" and not order.cancelled
    assert order.customer.document == "11.222.333/0001-81"
    assert order.customer.name == "João Doe"
    assert (order.shipping_address.number, order.shipping_address.district) == ("742", "Centro")
    assert order.utm_source == "google"
    assert (order.lines[0].unit_price, order.lines[0].discount) == (
        Decimal("5.00"),
        Decimal("2.00"),
    )

    raw["meta_data"] = [{"id": 9, "key": "billing_cpf", "value": "529.982.247-25"}]
    for status, payment, cancelled in [
        ("processing", "paid", False),
        ("completed", "paid", False),
        ("pending", "pending", False),
        ("refunded", "refunded", False),
        ("failed", "failed", False),
        ("cancelled", "paid", True),
    ]:
        raw["status"] = status
        order = order_in_from_woocommerce(raw)
        assert (order.payment_status, order.cancelled) == (payment, cancelled), status
    assert order.customer.document == "529.982.247-25"


def test_woocommerce_ping_is_recognised_only_unsigned():
    adapter = WooCommerceAdapter()
    assert adapter.unsigned_ping(headers={}, body=b"webhook_id=15")
    assert not adapter.unsigned_ping(headers={"x-wc-webhook-signature": "x"}, body=b"webhook_id=15")
    assert not adapter.unsigned_ping(headers={}, body=b'{"id": 15}')


def test_woocommerce_ignores_drafts_and_deletes():
    adapter = WooCommerceAdapter()
    assert adapter.parse(Delivery("order.deleted", "d", {}, b'{"id": 1}')) is None
    body = json.dumps({"id": 5, "status": "checkout-draft"}).encode()
    assert adapter.parse(Delivery("order.created", "d", {}, body)) is None


# --- Nuvemshop ---------------------------------------------------------------------------


def test_nuvemshop_duplicate_number_key_last_wins():
    order = order_in_from_nuvemshop(decode(fixture_bytes("nuvemshop_order_get.json")))
    assert order.number == "101"  # the doc repeats "number": 1 then 101
    assert order.external_id == "450789469"
    assert order.lines[0].sku == "101" and order.lines[0].quantity == 2  # no SKU: variant id
    assert order.total == Decimal("58.00") and order.coupon_code == "SUPERDISCOUNT"


def test_nuvemshop_brazilian_state_names_become_ufs():
    assert state_code("São Paulo") == "SP" and state_code("rio grande do sul") == "RS"
    assert state_code("Oregon", "US") == "" and state_code("ky", "US") == "KY"


def test_nuvemshop_delivery_id_one_shot_vs_repeatable_events():
    adapter = NuvemshopAdapter()
    created = b'{"store_id": 1, "event": "order/created", "id": 7}'
    updated = b'{"store_id": 1, "event": "order/updated", "id": 7}'
    assert adapter.delivery_id(headers={}, body=created) == "1:order/created:7"
    assert adapter.delivery_id(headers={}, body=updated).startswith("1:order/updated:7:")
    assert adapter.topic(headers={}, body=updated) == "order/updated"


def test_nuvemshop_notice_for_another_store_is_a_payload_error():
    channel = Channel(slug="nuvem", platform="nuvemshop", store_external_id="555", api_token="t")
    body = b'{"store_id": 123456, "event": "order/created", "id": 1}'
    with pytest.raises(PayloadError) as exc:
        NuvemshopAdapter().parse(Delivery("order/created", "d", {}, body, channel=channel))
    assert "store_id" in _errors(exc)


def test_recorded_client_needs_the_same_credentials_as_the_real_api():
    client = RecordedNuvemshopClient(responses={"1": b'{"id": 1}'})
    with pytest.raises(ClientError, match="API token"):
        client.order_get(channel=Channel(slug="n", store_external_id="9"), order_id="1")
    ok = Channel(slug="n", store_external_id="9", api_token="tok")
    assert client.order_get(channel=ok, order_id="1") == {"id": 1}
    with pytest.raises(ClientError, match="404"):
        client.order_get(channel=ok, order_id="2")


# --- helpers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Avenida Paulista, 1000", ("Avenida Paulista", "1000")),
        ("Rua Augusta 250", ("Rua Augusta", "250")),
        ("Rua sem número", ("Rua sem número", "")),
        ("Rua X, s/n", ("Rua X", "s/n")),
    ],
)
def test_split_street_number(line, expected):
    assert split_street_number(line) == expected


def test_utm_from_url():
    assert utm_from_url("/?utm_source=a&utm_medium=b&utm_campaign=c&x=1") == {
        "utm_source": "a",
        "utm_medium": "b",
        "utm_campaign": "c",
    }
    assert utm_from_url("http://www.example.com?source=abc") == {}
    assert utm_from_url(None) == {}
