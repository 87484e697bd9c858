"""Each platform's documented example body, signed with the test secret, becomes the
right order through the real view (DESIGN.md "real payloads")."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from inventory.models import Reservation
from orders.models import Order, WebhookDelivery
from tests.orders.webhooks.conftest import (
    dumps,
    fixture_bytes,
    fixture_json,
    generic_order,
    post_webhook,
)

pytestmark = pytest.mark.django_db


def _lines(order: Order) -> list[tuple[str, int, Decimal]]:
    return [(x.sku, x.quantity, x.unit_price) for x in order.lines.order_by("id")]


def test_generic_order(client, make_channel, in_stock):
    channel = make_channel("generic")
    in_stock("CAFE-500G", 10)
    response = post_webhook(client, channel, dumps(generic_order()), topic="order.created")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "processed"
    order = Order.objects.get(pk=body["order_id"])
    assert (order.external_id, order.number, order.channel_id) == ("G-1001", "1001", channel.pk)
    assert order.total == Decimal("114.80") and order.shipping_total == Decimal("15.00")
    assert order.payment_status == "paid"
    assert order.customer is not None and order.customer.document == "52998224725"
    assert (order.ship_postal_code, order.ship_state, order.ship_city) == (
        "01310-100",
        "SP",
        "São Paulo",
    )
    assert order.utm_campaign == "black-friday"
    assert _lines(order) == [("CAFE-500G", 2, Decimal("49.90"))]
    assert Reservation.objects.filter(order_id=order.pk).count() == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.order_id, delivery.topic) == (
        "processed",
        order.pk,
        "order.created",
    )
    assert delivery.headers["x-retaguarda-event"] == "order.created"
    assert bytes(delivery.body) == dumps(generic_order())


@pytest.mark.parametrize(
    ("fixture", "number", "total", "skus"),
    [
        (
            "shopify_order_created.json",
            "9999",
            "404.95",
            ["SKU2006-001", "LENS-PROTECT-2YR", "CASE-LEATHER-PREM", "SKU2006-020", "SKU2006-035"],
        ),
        ("shopify_order_created_2024-10.json", "9999", "388.00", ["IPOD2008PINK", "IPOD2008PINK"]),
    ],
)
def test_shopify_documented_order(client, make_channel, in_stock, fixture, number, total, skus):
    channel = make_channel("shopify")
    for sku in set(skus):
        in_stock(sku, 10)
    captured = fixture_json(fixture)
    body = json.dumps(captured["body"]).encode()  # re-signed below with the test secret
    response = post_webhook(
        client,
        channel,
        body,
        topic=captured["headers"]["x-shopify-topic"],
        delivery_id=captured["headers"]["x-shopify-webhook-id"],
        extra_headers={"X-Shopify-Event-Id": captured["headers"].get("x-shopify-event-id", "")},
    )
    assert response.status_code == 200, response.content
    order = Order.objects.get(pk=response.json()["order_id"])
    assert order.external_id == "820982911946154508"  # exact 64-bit id, not the rounded one
    assert order.number == number and order.currency == "USD"
    assert order.total == Decimal(total) and isinstance(order.total, Decimal)
    assert order.discount_total == Decimal("20.00") and order.shipping_total == Decimal("10.00")
    assert order.placed_at == datetime(2022, 1, 1, 0, 0, tzinfo=UTC)
    assert order.email == "jon@example.com"
    assert order.customer is not None and order.customer.name == "John Smith"
    assert [x[0] for x in _lines(order)] == skus
    assert (order.ship_name, order.ship_postal_code, order.ship_city) == (
        "Steve Shipper",
        "40003",
        "Shippington",
    )
    assert (order.ship_state, order.ship_country) == ("KY", "US")
    assert order.shipping_method == "Generic Shipping"
    # the canned test order is voided and cancelled
    assert order.status == "cancelled" and order.payment_status == "failed"
    delivery = WebhookDelivery.objects.get()
    assert delivery.delivery_id == captured["headers"]["x-shopify-webhook-id"]
    assert delivery.topic == "orders/create"


def test_woocommerce_documented_order(client, make_channel, in_stock):
    channel = make_channel("woocommerce")
    in_stock("93", 10)
    in_stock("Bar3", 10)
    body = fixture_bytes("woocommerce_order_created.json")  # the file IS the body
    response = post_webhook(client, channel, body, topic="order.created", delivery_id="wc-d-1")
    assert response.status_code == 200, response.content
    order = Order.objects.get(pk=response.json()["order_id"])
    assert (order.external_id, order.number, order.currency) == ("727", "727", "USD")
    assert order.placed_at == datetime(2017, 3, 22, 19, 28, 2, tzinfo=UTC)
    assert order.payment_status == "paid" and order.payment_method == "Direct Bank Transfer"
    assert (order.subtotal, order.shipping_total, order.tax_total, order.total) == (
        Decimal("18.00"),
        Decimal("10.00"),
        Decimal("1.35"),
        Decimal("29.35"),
    )
    assert order.email == "john.doe@example.com"
    assert order.customer is not None and order.customer.name == "John Doe"
    assert _lines(order) == [("93", 2, Decimal("3.00")), ("Bar3", 1, Decimal("12.00"))]
    names = list(order.lines.order_by("id").values_list("name", flat=True))
    assert names[1] == "Ship Your Idea – Color: Black, Size: M Test"
    assert (order.ship_postal_code, order.ship_street, order.ship_state) == (
        "94103",
        "969 Market",
        "CA",
    )
    assert Reservation.objects.filter(order_id=order.pk).count() == 2


def test_nuvemshop_notice_fetches_the_order(client, make_channel, in_stock, nuvemshop_recordings):
    channel = make_channel("nuvemshop", store_external_id="123456", api_token="tok-test")
    in_stock("101", 10)
    notice = fixture_json("nuvemshop_order_created.json")
    nuvemshop_recordings(notice["body"]["id"], fixture_bytes("nuvemshop_order_get.json"))
    response = post_webhook(client, channel, json.dumps(notice["body"]).encode())
    assert response.status_code == 200, response.content
    order = Order.objects.get(pk=response.json()["order_id"])
    assert order.number == "101"  # duplicate "number" key: the last one wins
    assert (order.external_id, order.currency) == ("450789469", "USD")
    assert (order.subtotal, order.shipping_total, order.total) == (
        Decimal("38.00"),
        Decimal("20.00"),
        Decimal("58.00"),
    )
    assert order.customer is not None and order.customer.email == "john.doe@example.com"
    assert _lines(order) == [("101", 2, Decimal("19.00"))]
    assert (order.ship_street, order.ship_number, order.ship_postal_code) == (
        "Evergreen Terrace",
        "742",
        "97475",
    )
    assert order.coupon_code == "SUPERDISCOUNT" and order.payment_method == "PayPal"
    delivery = WebhookDelivery.objects.get()
    assert delivery.delivery_id == "123456:order/created:999888"
    assert delivery.topic == "order/created"
