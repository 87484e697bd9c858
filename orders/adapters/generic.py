"""The Retaguarda format: a JSON order that maps 1:1 onto ``OrderIn`` (docs/webhooks.md).

For custom stores and integrators. Signed with ``X-Retaguarda-Signature: sha256=<hex>``
(HMAC-SHA256 of the raw body with the channel's webhook secret); ``X-Retaguarda-Delivery``
carries a unique delivery id (resends keep it) and ``X-Retaguarda-Event`` the topic.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from orders.adapters._common import (
    PAYMENT_STATUSES,
    Problems,
    WebhookAdapter,
    body_json,
    body_sha256,
    cep,
    language_code,
    signature_matches_hex,
    state_code,
)
from orders.adapters.base import AddressIn, CustomerIn, Delivery, LineIn, OrderIn

ORDER_EVENTS = frozenset({"order.created", "order.updated", "order.paid", "order.cancelled"})
SIGNATURE_PREFIX = "sha256="


class GenericAdapter(WebhookAdapter):
    platform = "generic"
    signature_header = "x-retaguarda-signature"

    def signature_valid(self, *, secret: str, headers: Mapping[str, str], body: bytes) -> bool:
        sent = headers.get("x-retaguarda-signature") or ""
        if not sent.startswith(SIGNATURE_PREFIX):
            return False
        return signature_matches_hex(secret, body, sent[len(SIGNATURE_PREFIX) :])

    def delivery_id(self, *, headers: Mapping[str, str], body: bytes) -> str:
        # Without the header, the body itself is the identity: an identical resend is a
        # duplicate, any change makes a new delivery.
        return (headers.get("x-retaguarda-delivery") or "").strip()[:200] or (
            "sha256:" + body_sha256(body)
        )

    def topic(self, *, headers: Mapping[str, str], body: bytes) -> str:
        return (headers.get("x-retaguarda-event") or "").strip()[:100]

    def parse(self, delivery: Delivery) -> OrderIn | None:
        if delivery.topic not in ORDER_EVENTS:
            return None  # "ping" and topics we do not act on
        return order_in_from_dict(body_json(delivery.body))


def order_in_from_dict(data: dict[str, Any]) -> OrderIn:
    """Validate a Retaguarda-format order and build the ``OrderIn``; PayloadError lists
    every problem found."""
    p = Problems()
    external_id = p.text(data.get("id"), "id", required=True, max_length=64)
    number = p.text(data.get("number"), "number", max_length=64) or external_id
    placed_at = p.moment(data.get("placed_at"), "placed_at", required=True)
    currency = p.text(data.get("currency"), "currency", max_length=3).upper() or "BRL"

    c = p.obj(data.get("customer"), "customer", required=True)
    customer = CustomerIn(
        name=p.text(c.get("name"), "customer.name", required=True, max_length=200),
        email=p.text(c.get("email"), "customer.email", max_length=254),
        phone=p.text(c.get("phone"), "customer.phone", max_length=40),
        document=p.text(c.get("document"), "customer.document", max_length=20),
        language=language_code(c.get("language")) if c.get("language") else "pt-br",
        accepts_marketing=bool(c.get("accepts_marketing", False)),
    )

    a = p.obj(data.get("shipping_address"), "shipping_address")
    country = p.text(a.get("country"), "shipping_address.country", max_length=2).upper() or "BR"
    address = AddressIn(
        name=p.text(a.get("name"), "shipping_address.name", max_length=200),
        postal_code=cep(p.text(a.get("postal_code"), "shipping_address.postal_code"), country),
        street=p.text(a.get("street"), "shipping_address.street", max_length=200),
        number=p.text(a.get("number"), "shipping_address.number", max_length=20),
        complement=p.text(a.get("complement"), "shipping_address.complement", max_length=100),
        district=p.text(a.get("district"), "shipping_address.district", max_length=100),
        city=p.text(a.get("city"), "shipping_address.city", max_length=120),
        state=state_code(p.text(a.get("state"), "shipping_address.state"), country),
        country=country,
    )

    raw_lines = p.items(data.get("lines"), "lines", required=True)
    if "lines" in data and isinstance(raw_lines, list) and not raw_lines:
        p.add("lines", "must have at least one line")
    lines = []
    for i, raw in enumerate(raw_lines):
        f = f"lines[{i}]"
        line = p.obj(raw, f, required=True)
        if not line:
            continue
        sku = p.text(line.get("sku"), f"{f}.sku", required=True, max_length=64)
        quantity = p.quantity(line.get("quantity"), f"{f}.quantity")
        unit_price = p.amount(line.get("unit_price"), f"{f}.unit_price", required=True)
        discount = p.amount(line.get("discount"), f"{f}.discount") or Decimal("0.00")
        if sku and quantity is not None and unit_price is not None:
            lines.append(
                LineIn(
                    sku=sku,
                    name=p.text(line.get("name"), f"{f}.name", max_length=255) or sku,
                    quantity=quantity,
                    unit_price=unit_price,
                    discount=discount,
                    external_id=p.text(line.get("external_id"), f"{f}.external_id", max_length=64),
                )
            )

    payment_status = p.text(data.get("payment_status"), "payment_status") or "pending"
    if payment_status not in PAYMENT_STATUSES:
        p.add("payment_status", f"must be one of {', '.join(sorted(PAYMENT_STATUSES))}")
    installments = 1
    if data.get("installments") is not None:
        installments = p.quantity(data.get("installments"), "installments") or 1

    zero = Decimal("0.00")
    subtotal = p.amount(data.get("subtotal"), "subtotal")
    shipping_total = p.amount(data.get("shipping_total"), "shipping_total") or zero
    discount_total = p.amount(data.get("discount_total"), "discount_total") or zero
    tax_total = p.amount(data.get("tax_total"), "tax_total") or zero
    total = p.amount(data.get("total"), "total")
    cancelled_at = p.moment(data.get("cancelled_at"), "cancelled_at")
    paid_at = p.moment(data.get("paid_at"), "paid_at")
    updated_at = p.moment(data.get("updated_at"), "updated_at")
    payment_method = p.text(data.get("payment_method"), "payment_method", max_length=50)
    shipping_method = p.text(data.get("shipping_method"), "shipping_method", max_length=100)
    coupon_code = p.text(data.get("coupon_code"), "coupon_code", max_length=50)
    utm_source = p.text(data.get("utm_source"), "utm_source", max_length=100)
    utm_medium = p.text(data.get("utm_medium"), "utm_medium", max_length=100)
    utm_campaign = p.text(data.get("utm_campaign"), "utm_campaign", max_length=100)
    note = p.text(data.get("note"), "note")
    cancelled = data.get("cancelled", False)
    if not isinstance(cancelled, bool):
        p.add("cancelled", "must be true or false")
        cancelled = False
    p.raise_if_any()
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
        tax_total=tax_total,
        total=total,
        payment_status=payment_status,
        payment_method=payment_method,
        installments=installments,
        cancelled=cancelled or cancelled_at is not None,
        cancelled_at=cancelled_at,
        paid_at=paid_at,
        updated_at=updated_at,
        shipping_method=shipping_method,
        coupon_code=coupon_code,
        note=note,
        utm_source=utm_source,
        utm_medium=utm_medium,
        utm_campaign=utm_campaign,
    )
