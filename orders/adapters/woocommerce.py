"""WooCommerce order webhooks (order.created, order.updated, order.restored).

- Signature: ``X-WC-Webhook-Signature`` = base64(HMAC-SHA256(raw body, webhook secret)).
- Delivery id: ``X-WC-Webhook-Delivery-ID``; topic: ``X-WC-Webhook-Topic``.
- When a webhook is saved, WooCommerce POSTs an UNSIGNED form body ``webhook_id=<n>`` and
  refuses to save the webhook unless it gets exactly 200: that ping is answered 200 and
  nothing is stored (it carries nothing to verify or keep).
- The body is the REST API order (v3). Brazilian CPF/CNPJ, number and district come from
  the "Brazilian Market on WooCommerce" plugin: ``billing.cpf``/``billing.cnpj`` or
  ``meta_data`` keys ``_billing_cpf``/``billing_cpf``/``_billing_cnpj``.
- Names come HTML-escaped (``&ndash;``) and are unescaped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from backoffice.money import quantize
from orders.adapters._common import (
    Problems,
    WebhookAdapter,
    body_json,
    body_sha256,
    cep,
    clip,
    signature_matches_base64,
    state_code,
)
from orders.adapters.base import AddressIn, CustomerIn, Delivery, LineIn, OrderIn
from orders.status import Payment

ORDER_TOPICS = frozenset({"order.created", "order.updated", "order.restored"})
_PING = re.compile(rb"^webhook_id=\d+$")

# status -> (payment status, cancelled); None = keep what date_paid says.
STATUS = {
    "pending": (Payment.PENDING, False),
    "on-hold": (Payment.PENDING, False),  # awaiting payment (boleto, bank transfer)
    "processing": (Payment.PAID, False),
    "completed": (Payment.PAID, False),
    "cancelled": (None, True),
    "refunded": (Payment.REFUNDED, False),
    "failed": (Payment.FAILED, False),
}
# Orders still being written at checkout are not orders yet.
IGNORED_STATUSES = frozenset({"checkout-draft", "draft", "auto-draft", "trash"})


class WooCommerceAdapter(WebhookAdapter):
    platform = "woocommerce"
    signature_header = "x-wc-webhook-signature"

    def unsigned_ping(self, *, headers: Mapping[str, str], body: bytes) -> bool:
        return not headers.get("x-wc-webhook-signature") and bool(_PING.match(body.strip()))

    def signature_valid(self, *, secret: str, headers: Mapping[str, str], body: bytes) -> bool:
        return signature_matches_base64(secret, body, headers.get("x-wc-webhook-signature"))

    def delivery_id(self, *, headers: Mapping[str, str], body: bytes) -> str:
        return (headers.get("x-wc-webhook-delivery-id") or "").strip()[:200] or (
            "sha256:" + body_sha256(body)
        )

    def topic(self, *, headers: Mapping[str, str], body: bytes) -> str:
        return (headers.get("x-wc-webhook-topic") or "").strip()[:100]

    def parse(self, delivery: Delivery) -> OrderIn | None:
        if delivery.topic not in ORDER_TOPICS or _PING.match(delivery.body.strip()):
            return None
        data = body_json(delivery.body)
        if clip(data.get("status"), 30) in IGNORED_STATUSES:
            return None
        return order_in_from_woocommerce(data)


def _text(value: Any, length: int) -> str:
    return html.unescape(clip(value, length * 2)).strip()[:length]


def _meta(data: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in data.get("meta_data") or []:
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            value = item.get("value")
            if isinstance(value, str | int | Decimal):
                out[item["key"]] = str(value).strip()
    return out


def _document(billing: dict[str, Any], meta: dict[str, str]) -> str:
    cpf = clip(billing.get("cpf"), 20) or meta.get("_billing_cpf") or meta.get("billing_cpf", "")
    cnpj = (
        clip(billing.get("cnpj"), 20) or meta.get("_billing_cnpj") or meta.get("billing_cnpj", "")
    )
    person_type = clip(billing.get("persontype"), 2) or meta.get("_billing_persontype", "")
    if person_type == "2" and cnpj:
        return cnpj[:20]
    return (cpf or cnpj)[:20]


def _address(raw: dict[str, Any], meta: dict[str, str], prefix: str) -> AddressIn:
    country = clip(raw.get("country"), 2).upper() or "BR"
    name = _text(f"{raw.get('first_name') or ''} {raw.get('last_name') or ''}", 200)
    return AddressIn(
        name=name or _text(raw.get("company"), 200),
        postal_code=cep(clip(raw.get("postcode"), 20), country),
        street=_text(raw.get("address_1"), 200),
        number=_text(raw.get("number") or meta.get(f"_{prefix}_number"), 20),
        complement=_text(raw.get("address_2"), 100),
        district=_text(raw.get("neighborhood") or meta.get(f"_{prefix}_neighborhood"), 100),
        city=_text(raw.get("city"), 120),
        state=state_code(clip(raw.get("state"), 60), country),
        country=country,
    )


def order_in_from_woocommerce(data: dict[str, Any]) -> OrderIn:
    p = Problems()
    external_id = clip(data.get("id"), 64)
    if not external_id:
        p.add("id", "is required")
    number = clip(data.get("number"), 64) or external_id
    if data.get("date_created_gmt"):
        placed_at = p.moment(data.get("date_created_gmt"), "date_created_gmt", naive_is_utc=True)
    else:
        placed_at = p.moment(data.get("date_created"), "date_created", required=True)
    currency = clip(data.get("currency"), 3).upper() or "BRL"
    meta = _meta(data)

    billing = p.obj(data.get("billing"), "billing")
    shipping = p.obj(data.get("shipping"), "shipping")
    email = clip(billing.get("email"), 254)
    name = _text(f"{billing.get('first_name') or ''} {billing.get('last_name') or ''}", 200)
    if not name and not email:
        p.add("billing", "has neither a name nor an e-mail")
    customer = CustomerIn(
        name=name or _text(billing.get("company"), 200) or email,
        email=email,
        phone=clip(billing.get("phone") or billing.get("cellphone"), 40),
        document=_document(billing, meta),
    )
    has_shipping = bool(shipping.get("address_1") or shipping.get("postcode"))
    address = (
        _address(shipping, meta, "shipping") if has_shipping else _address(billing, meta, "billing")
    )

    raw_lines = p.items(data.get("line_items"), "line_items", required=True)
    if isinstance(data.get("line_items"), list) and not raw_lines:
        p.add("line_items", "must have at least one line")
    lines = []
    subtotal = Decimal("0.00")
    for i, raw in enumerate(raw_lines):
        f = f"line_items[{i}]"
        if not isinstance(raw, dict):
            p.add(f, "must be an object")
            continue
        variation = raw.get("variation_id") or 0
        sku = clip(raw.get("sku"), 64) or clip(variation or raw.get("product_id"), 64)
        if not sku:
            p.add(f"{f}.sku", "is missing and the line has no product id")
        quantity = p.quantity(raw.get("quantity"), f"{f}.quantity")
        line_subtotal = p.amount(raw.get("subtotal"), f"{f}.subtotal")
        line_total = p.amount(raw.get("total"), f"{f}.total")
        price = p.amount(raw.get("price"), f"{f}.price")
        if not sku or quantity is None:
            continue
        # subtotal is before coupons, total after; price is total / quantity.
        if line_subtotal is not None:
            unit_price = quantize(line_subtotal / quantity)
        elif price is not None:
            unit_price = quantize(price)
        else:
            p.add(f"{f}.subtotal", "is required")
            continue
        discount = Decimal("0.00")
        if line_total is not None:
            discount = max(quantize(unit_price * quantity - line_total), Decimal("0.00"))
        subtotal += unit_price * quantity
        lines.append(
            LineIn(
                sku=sku,
                name=_text(raw.get("name"), 255) or sku,
                quantity=quantity,
                unit_price=unit_price,
                discount=discount,
                external_id=clip(raw.get("id"), 64),
            )
        )

    status = clip(data.get("status"), 30)
    if status not in STATUS:
        p.add("status", f"unknown order status {status!r}")
    payment_status, cancelled = STATUS.get(status, (Payment.PENDING, False))
    paid_at = p.moment(data.get("date_paid_gmt"), "date_paid_gmt", naive_is_utc=True)
    if payment_status is None:
        payment_status = Payment.PAID if paid_at else Payment.PENDING
    updated_at = p.moment(data.get("date_modified_gmt"), "date_modified_gmt", naive_is_utc=True)

    shipping_total = p.amount(data.get("shipping_total"), "shipping_total") or Decimal("0.00")
    discount_total = p.amount(data.get("discount_total"), "discount_total") or Decimal("0.00")
    tax_total = p.amount(data.get("total_tax"), "total_tax") or Decimal("0.00")
    total = p.amount(data.get("total"), "total", required=True)
    shipping_lines = [s for s in data.get("shipping_lines") or [] if isinstance(s, dict)]
    coupons = [
        clip(c.get("code"), 50) for c in data.get("coupon_lines") or [] if isinstance(c, dict)
    ]

    p.raise_if_any("The WooCommerce order has problems.")
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
        payment_method=_text(data.get("payment_method_title") or data.get("payment_method"), 50),
        installments=_installments(meta),
        cancelled=cancelled,
        cancelled_at=updated_at if cancelled else None,
        paid_at=paid_at,
        updated_at=updated_at,
        shipping_method=_text(shipping_lines[0].get("method_title"), 100) if shipping_lines else "",
        coupon_code=",".join(c for c in coupons if c)[:50],
        note=_text(data.get("customer_note"), 10_000),
        utm_source=meta.get("_wc_order_attribution_utm_source", "")[:100],
        utm_medium=meta.get("_wc_order_attribution_utm_medium", "")[:100],
        utm_campaign=meta.get("_wc_order_attribution_utm_campaign", "")[:100],
    )


def _installments(meta: dict[str, str]) -> int:
    for key in ("_installments", "installments", "_pagarme_installments"):
        value = meta.get(key, "")
        if value.isdigit() and 0 < int(value) < 100:
            return int(value)
    return 1
