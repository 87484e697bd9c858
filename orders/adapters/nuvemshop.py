"""Nuvemshop / Tiendanube order webhooks.

- Signature: ``X-Linkedstore-HMAC-SHA256`` = HEX(HMAC-SHA256(raw body, app secret)).
- The body is only a notice ``{"store_id", "event", "id"}``; the order is fetched through
  ``orders.clients.nuvemshop_client()`` (``GET /{store_id}/orders/{id}``).
- There is no delivery header, so the id is derived from the notice. A notice for a
  one-shot event (``order/created``, ``order/paid``, ``order/cancelled``...) repeated is a
  duplicate: ``<store>:<event>:<id>``. ``order/updated`` (and other repeatable events)
  legitimately arrive again with the very same body each time the order changes, and the
  state lives on the platform: a repeat within the same minute is a duplicate (retries,
  bursts), a later one is a new delivery (re-fetching is idempotent).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from orders.adapters._common import (
    Problems,
    WebhookAdapter,
    body_json,
    body_sha256,
    cep,
    clip,
    json_loads,
    language_code,
    signature_matches_hex,
    state_code,
    utm_from_url,
)
from orders.adapters.base import AddressIn, CustomerIn, Delivery, LineIn, OrderIn, PayloadError
from orders.status import Payment

ONE_SHOT_EVENTS = frozenset({"order/created", "order/paid", "order/cancelled", "order/voided"})
# Events that need no order fetch: product/*, app/*, store redact requests, ...
IGNORED_ORDER_EVENTS = frozenset({"order/deleted"})
REPEAT_WINDOW_SECONDS = 60

PAYMENT_STATUS = {
    "pending": Payment.PENDING,
    "authorized": Payment.AUTHORIZED,
    "paid": Payment.PAID,
    "partially_paid": Payment.PENDING,
    "partially_refunded": Payment.PARTIALLY_REFUNDED,
    "refunded": Payment.REFUNDED,
    "voided": Payment.FAILED,
    "abandoned": Payment.FAILED,
}


def _notice(body: bytes) -> dict[str, Any]:
    try:
        data = json_loads(body)
    except (UnicodeDecodeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class NuvemshopAdapter(WebhookAdapter):
    platform = "nuvemshop"
    signature_header = "x-linkedstore-hmac-sha256"

    def signature_valid(self, *, secret: str, headers: Mapping[str, str], body: bytes) -> bool:
        return signature_matches_hex(secret, body, headers.get("x-linkedstore-hmac-sha256"))

    def delivery_id(self, *, headers: Mapping[str, str], body: bytes) -> str:
        notice = _notice(body)
        store, event, oid = notice.get("store_id"), notice.get("event"), notice.get("id")
        if store is None or not event or oid is None:
            return "sha256:" + body_sha256(body)
        key = f"{store}:{event}:{oid}"
        if event not in ONE_SHOT_EVENTS:
            key += f":{int(time.time()) // REPEAT_WINDOW_SECONDS}"
        return key[:200]

    def topic(self, *, headers: Mapping[str, str], body: bytes) -> str:
        return clip(_notice(body).get("event"), 100)

    def parse(self, delivery: Delivery) -> OrderIn | None:
        notice = body_json(delivery.body)
        event = clip(notice.get("event"), 100)
        if not event.startswith("order/") or event in IGNORED_ORDER_EVENTS:
            return None
        p = Problems()
        store_id = clip(notice.get("store_id"), 64)
        order_id = clip(notice.get("id"), 64)
        if not store_id:
            p.add("store_id", "is required")
        if not order_id:
            p.add("id", "is required")
        channel = delivery.channel
        if (
            channel is not None
            and channel.store_external_id
            and store_id
            and store_id != channel.store_external_id
        ):
            p.add("store_id", f"is not this channel's store ({channel.store_external_id})")
        p.raise_if_any("The Nuvemshop notice has problems.")
        if channel is None:
            raise PayloadError("No channel to fetch the Nuvemshop order with.")
        from orders.clients import nuvemshop_client

        order = nuvemshop_client().order_get(channel=channel, order_id=order_id)
        return order_in_from_nuvemshop(order)


def _payment_status(data: dict[str, Any]) -> str:
    return PAYMENT_STATUS.get(clip(data.get("payment_status"), 30), Payment.PENDING)


def order_in_from_nuvemshop(data: dict[str, Any]) -> OrderIn:
    """Map ``GET /orders/{id}``. The documented example repeats ``"number"`` (1, then
    101); like any JSON parser that keeps the last value, we keep 101."""
    p = Problems()
    external_id = clip(data.get("id"), 64)
    if not external_id:
        p.add("id", "is required")
    number = clip(data.get("number"), 64) or external_id
    placed_at = p.moment(data.get("created_at"), "created_at", required=True)
    currency = clip(data.get("currency"), 3).upper() or "BRL"

    c = p.obj(data.get("customer"), "customer")
    ship = p.obj(data.get("shipping_address"), "shipping_address")
    email = clip(c.get("email") or data.get("contact_email"), 254)
    name = clip(c.get("name") or data.get("contact_name") or ship.get("name"), 200)
    if not name and not email:
        p.add("customer", "has neither a name nor an e-mail")
    customer = CustomerIn(
        name=name or email,
        email=email,
        phone=clip(c.get("phone") or data.get("contact_phone") or data.get("billing_phone"), 40),
        document=clip(c.get("identification") or data.get("contact_identification"), 20),
        language=language_code(data.get("language")),
    )
    country = clip(ship.get("country") or data.get("billing_country"), 2).upper() or "BR"
    if ship:
        address = AddressIn(
            name=clip(ship.get("name"), 200) or name,
            postal_code=cep(clip(ship.get("zipcode"), 20), country),
            street=clip(ship.get("address"), 200),
            number=clip(ship.get("number"), 20),
            complement=clip(ship.get("floor"), 100),
            district=clip(ship.get("locality"), 100),
            city=clip(ship.get("city"), 120),
            state=state_code(clip(ship.get("province"), 60), country),
            country=country,
        )
    else:
        address = AddressIn(
            name=name,
            postal_code=cep(clip(data.get("billing_zipcode"), 20), country),
            street=clip(data.get("billing_address"), 200),
            number=clip(data.get("billing_number"), 20),
            complement=clip(data.get("billing_floor"), 100),
            district=clip(data.get("billing_locality"), 100),
            city=clip(data.get("billing_city"), 120),
            state=state_code(clip(data.get("billing_province"), 60), country),
            country=country,
        )

    raw_lines = p.items(data.get("products"), "products", required=True)
    if isinstance(data.get("products"), list) and not raw_lines:
        p.add("products", "must have at least one line")
    lines = []
    for i, raw in enumerate(raw_lines):
        f = f"products[{i}]"
        if not isinstance(raw, dict):
            p.add(f, "must be an object")
            continue
        sku = (
            clip(raw.get("sku"), 64)
            or clip(raw.get("variant_id"), 64)
            or clip(raw.get("product_id"), 64)
        )
        if not sku:
            p.add(f"{f}.sku", "is missing and the line has no variant or product id")
        quantity = p.quantity(raw.get("quantity"), f"{f}.quantity")
        unit_price = p.amount(raw.get("price"), f"{f}.price", required=True)
        if sku and quantity is not None and unit_price is not None:
            lines.append(
                LineIn(
                    sku=sku,
                    name=clip(raw.get("name"), 255) or sku,
                    quantity=quantity,
                    unit_price=unit_price,
                    external_id=clip(raw.get("id"), 64),
                )
            )

    zero = Decimal("0.00")
    subtotal = p.amount(data.get("subtotal"), "subtotal")
    discount_total = p.amount(data.get("discount"), "discount") or zero
    shipping_total = p.amount(data.get("shipping_cost_customer"), "shipping_cost_customer") or zero
    # "total" in the current API; "price" in the documented example.
    total_key = "total" if data.get("total") is not None else "price"
    total = p.amount(data.get(total_key), total_key, required=True)
    status = clip(data.get("status"), 20)
    cancelled_at = p.moment(data.get("cancelled_at"), "cancelled_at")
    paid_at = p.moment(data.get("paid_at"), "paid_at")
    updated_at = p.moment(data.get("updated_at"), "updated_at")
    coupons = [clip(x.get("code"), 50) for x in data.get("coupon") or [] if isinstance(x, dict)]
    utm = utm_from_url(data.get("landing_site"))

    p.raise_if_any("The Nuvemshop order has problems.")
    assert placed_at is not None
    return OrderIn(
        external_id=external_id,
        number=number,
        placed_at=placed_at,
        currency=currency,
        customer=customer,
        lines=tuple(lines),
        shipping_address=address,
        subtotal=subtotal,
        shipping_total=shipping_total,
        discount_total=discount_total,
        tax_total=zero,
        total=total,
        payment_status=_payment_status(data),
        payment_method=clip(data.get("gateway_name") or data.get("gateway"), 50),
        cancelled=status == "cancelled",
        cancelled_at=cancelled_at if status == "cancelled" else None,
        paid_at=paid_at,
        updated_at=updated_at,
        shipping_method=clip(data.get("shipping_option") or data.get("shipping"), 100),
        coupon_code=",".join(x for x in coupons if x)[:50],
        note=clip(data.get("note"), 10_000),
        utm_source=utm.get("utm_source", ""),
        utm_medium=utm.get("utm_medium", ""),
        utm_campaign=utm.get("utm_campaign", ""),
    )
