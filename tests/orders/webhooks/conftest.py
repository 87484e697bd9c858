"""Helpers for the webhook intake tests: the shared platform fixtures, signing, posting."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from pathlib import Path
from typing import Any, cast

import pytest
from django.conf import settings
from django.test import Client

from inventory.models import Product, Warehouse
from orders.models import Channel
from tests.factories import ChannelFactory, ProductFactory, WarehouseFactory

SECRET = "test-secret-not-for-production"
FIXTURES = Path(settings.BASE_DIR).parent / "shared" / "fixtures" / "platform-payloads"


def fixture_path(name: str) -> Path:
    if not FIXTURES.is_dir():
        pytest.skip(
            f"platform payload fixtures not found at {FIXTURES}: check out ../shared next to "
            "the repository to run the real-payload tests"
        )
    return FIXTURES / name


def fixture_bytes(name: str) -> bytes:
    return fixture_path(name).read_bytes()


def fixture_json(name: str) -> Any:
    return json.loads(fixture_bytes(name))


def sign(platform: str, body: bytes, secret: str = SECRET) -> dict[str, str]:
    """The signature header a platform would send for ``body``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256)
    if platform == "shopify":
        return {"X-Shopify-Hmac-Sha256": base64.b64encode(digest.digest()).decode()}
    if platform == "woocommerce":
        return {"X-WC-Webhook-Signature": base64.b64encode(digest.digest()).decode()}
    if platform == "nuvemshop":
        return {"X-Linkedstore-HMAC-SHA256": digest.hexdigest()}
    return {"X-Retaguarda-Signature": f"sha256={digest.hexdigest()}"}


def meta_headers(platform: str, topic: str, delivery_id: str | None) -> dict[str, str]:
    """Topic and delivery-id headers (Nuvemshop has neither: both come from the body)."""
    delivery_id = delivery_id or str(uuid.uuid4())
    if platform == "shopify":
        return {"X-Shopify-Topic": topic, "X-Shopify-Webhook-Id": delivery_id}
    if platform == "woocommerce":
        return {"X-WC-Webhook-Topic": topic, "X-WC-Webhook-Delivery-ID": delivery_id}
    if platform == "nuvemshop":
        return {}
    return {"X-Retaguarda-Event": topic, "X-Retaguarda-Delivery": delivery_id}


def post_webhook(
    client: Client,
    channel: Channel,
    body: bytes,
    *,
    topic: str = "",
    delivery_id: str | None = None,
    secret: str = SECRET,
    signed: bool = True,
    content_type: str = "application/json",
    extra_headers: dict[str, str] | None = None,
):
    headers = meta_headers(channel.platform, topic, delivery_id)
    if signed:
        headers.update(sign(channel.platform, body, secret))
    headers.update(extra_headers or {})
    return client.post(
        f"/api/webhooks/{channel.slug}/", data=body, content_type=content_type, headers=headers
    )


def generic_order(external_id: str = "G-1001", **overrides: Any) -> dict[str, Any]:
    """A valid order in the Retaguarda format (the example in docs/webhooks.md)."""
    data: dict[str, Any] = {
        "id": external_id,
        "number": external_id.removeprefix("G-"),
        "placed_at": "2026-11-20T14:03:00-03:00",
        "currency": "BRL",
        "customer": {
            "name": "Maria da Silva",
            "email": "maria@example.com",
            "phone": "+55 11 99999-0000",
            "document": "529.982.247-25",
            "language": "pt-BR",
            "accepts_marketing": True,
        },
        "shipping_address": {
            "name": "Maria da Silva",
            "postal_code": "01310100",
            "street": "Avenida Paulista",
            "number": "1000",
            "complement": "apto 12",
            "district": "Bela Vista",
            "city": "São Paulo",
            "state": "SP",
            "country": "BR",
        },
        "lines": [
            {
                "sku": "CAFE-500G",
                "name": "Café especial 500 g",
                "quantity": 2,
                "unit_price": "49.90",
                "discount": "0.00",
                "external_id": "L-1",
            }
        ],
        "subtotal": "99.80",
        "shipping_total": "15.00",
        "discount_total": "0.00",
        "tax_total": "0.00",
        "total": "114.80",
        "payment_status": "paid",
        "payment_method": "pix",
        "installments": 1,
        "paid_at": "2026-11-20T14:05:00-03:00",
        "shipping_method": "SEDEX",
        "coupon_code": "",
        "note": "Deixar na portaria",
        "utm_source": "instagram",
        "utm_medium": "social",
        "utm_campaign": "black-friday",
    }
    data.update(overrides)
    return data


def dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode()


@pytest.fixture
def make_channel(db):
    def make(platform: str = "generic", **kw: Any) -> Channel:
        kw.setdefault("slug", f"{platform}-store")
        return cast(Channel, ChannelFactory(platform=platform, webhook_secret=SECRET, **kw))

    return make


@pytest.fixture
def in_stock(db):
    """in_stock("SKU", 10): a product with that many units in a selling warehouse."""
    from inventory.services import stock_receive

    warehouse = cast(
        Warehouse, WarehouseFactory(code="cd-webhooks", name="CD Webhooks", priority=1)
    )

    def make(sku: str, quantity: int = 10) -> Product:
        product = cast(Product, ProductFactory(sku=sku))
        if quantity:
            stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=quantity)
        return product

    return make


@pytest.fixture
def nuvemshop_recordings(settings, tmp_path):
    """Route the Nuvemshop client to recorded responses under tmp_path/orders/<id>.json."""
    settings.NUVEMSHOP_CLIENT = "orders.clients.RecordedNuvemshopClient"
    settings.NUVEMSHOP_RECORDINGS_DIR = str(tmp_path)
    (tmp_path / "orders").mkdir()

    def record(order_id: str | int, raw: bytes) -> None:
        (tmp_path / "orders" / f"{order_id}.json").write_bytes(raw)

    return record
