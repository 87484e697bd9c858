"""Shopify order webhooks (orders/create, orders/updated, orders/paid, orders/cancelled...).

- Signature: ``X-Shopify-Hmac-Sha256`` = base64(HMAC-SHA256(raw body, app secret)).
- Delivery id: ``X-Shopify-Webhook-Id`` (kept across Shopify's retries), else
  ``X-Shopify-Event-Id``; the header set changes between API versions.
- Ids are 64-bit: they are taken from ``admin_graphql_api_id`` (a string, exact whatever
  re-serialised the body) and only then from the numeric ``id``.
- A line without a SKU gets its variant id (else product id) as SKU, so staff can map it
  by giving the inventory product that SKU; until then it is an unknown SKU (order held).
"""

from __future__ import annotations

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
    language_code,
    signature_matches_base64,
    split_street_number,
    state_code,
    utm_from_url,
)
from orders.adapters.base import AddressIn, CustomerIn, Delivery, LineIn, OrderIn
from orders.status import Payment

# orders/delete carries only an id (we never delete orders); orders/edited carries an
# order_edit, not an order; the order's next orders/updated brings the edited state.
ORDER_TOPICS = frozenset(
    {
        "orders/create",
        "orders/updated",
        "orders/paid",
        "orders/cancelled",
        "orders/fulfilled",
        "orders/partially_fulfilled",
    }
)

FINANCIAL_STATUS = {
    "pending": Payment.PENDING,
    "partially_paid": Payment.PENDING,
    "authorized": Payment.AUTHORIZED,
    "paid": Payment.PAID,
    "partially_refunded": Payment.PARTIALLY_REFUNDED,
    "refunded": Payment.REFUNDED,
    "voided": Payment.FAILED,
    "expired": Payment.FAILED,
}

DOCUMENT_ATTRIBUTES = ("cpf", "cnpj", "cpf/cnpj", "cpf_cnpj", "documento", "document", "tax_id")


def gid_id(gid: Any) -> str:
    """``gid://shopify/Order/820982911946154508`` -> ``820982911946154508``."""
    if isinstance(gid, str) and gid.startswith("gid://"):
        tail = gid.rsplit("/", 1)[-1].split("?", 1)[0]
        if tail.isdigit():
            return tail
    return ""


def exact_id(obj: dict[str, Any]) -> str:
    return gid_id(obj.get("admin_graphql_api_id")) or (
        str(obj["id"]) if isinstance(obj.get("id"), int | str) and obj.get("id") != "" else ""
    )


class ShopifyAdapter(WebhookAdapter):
    platform = "shopify"
    signature_header = "x-shopify-hmac-sha256"

    def signature_valid(self, *, secret: str, headers: Mapping[str, str], body: bytes) -> bool:
        return signature_matches_base64(secret, body, headers.get("x-shopify-hmac-sha256"))

    def delivery_id(self, *, headers: Mapping[str, str], body: bytes) -> str:
        return (
            headers.get("x-shopify-webhook-id") or headers.get("x-shopify-event-id") or ""
        ).strip()[:200] or ("sha256:" + body_sha256(body))

    def topic(self, *, headers: Mapping[str, str], body: bytes) -> str:
        return (headers.get("x-shopify-topic") or "").strip()[:100]

    def parse(self, delivery: Delivery) -> OrderIn | None:
        if delivery.topic not in ORDER_TOPICS:
            return None
        return order_in_from_shopify(body_json(delivery.body))


def _money(p: Problems, data: dict[str, Any], key: str, set_key: str | None = None) -> Decimal:
    """An amount in shop currency: the plain field, else ``<set>.shop_money.amount``."""
    if data.get(key) is not None:
        return p.amount(data.get(key), key) or Decimal("0.00")
    money_set = data.get(set_key or f"{key}_set")
    if isinstance(money_set, dict):
        shop = money_set.get("shop_money") or {}
        return p.amount(shop.get("amount"), f"{set_key}.shop_money.amount") or Decimal("0.00")
    return Decimal("0.00")


def _attributes(data: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in data.get("note_attributes") or []:
        if isinstance(item, dict) and item.get("name"):
            out[str(item["name"]).strip().lower()] = clip(item.get("value"), 200)
    return out


def _document(attributes: dict[str, str], *addresses: dict[str, Any]) -> str:
    for key in DOCUMENT_ATTRIBUTES:
        if attributes.get(key):
            return attributes[key][:20]
    # Brazilian checkouts without a document field often get it in "company".
    for address in addresses:
        company = clip(address.get("company"), 40)
        digits = "".join(ch for ch in company if ch.isdigit())
        if len(digits) in (11, 14) and len(company) <= 18:
            return digits
    return ""


def _address(raw: dict[str, Any]) -> AddressIn:
    country = clip(raw.get("country_code"), 2).upper() or "BR"
    street, number = clip(raw.get("address1"), 200), ""
    if country == "BR":
        street, number = split_street_number(street)
    name = clip(raw.get("name"), 200) or clip(
        f"{raw.get('first_name') or ''} {raw.get('last_name') or ''}", 200
    )
    return AddressIn(
        name=name,
        postal_code=cep(clip(raw.get("zip"), 20), country),
        street=street[:200],
        number=number[:20],
        complement=clip(raw.get("address2"), 100),
        district="",
        city=clip(raw.get("city"), 120),
        state=state_code(
            clip(raw.get("province_code"), 10) or clip(raw.get("province"), 60), country
        ),
        country=country,
    )


def order_in_from_shopify(data: dict[str, Any]) -> OrderIn:
    p = Problems()
    external_id = exact_id(data)
    if not external_id:
        p.add("id", "is required")
    name = clip(data.get("name"), 64)
    number = name.lstrip("#") or clip(data.get("order_number"), 64) or external_id
    placed_at = p.moment(
        data.get("processed_at") or data.get("created_at"), "created_at", required=True
    )
    currency = clip(data.get("currency"), 3).upper() or "BRL"

    customer_raw = p.obj(data.get("customer"), "customer")
    billing = p.obj(data.get("billing_address"), "billing_address")
    shipping = p.obj(data.get("shipping_address"), "shipping_address")
    attributes = _attributes(data)
    customer_name = clip(
        f"{customer_raw.get('first_name') or ''} {customer_raw.get('last_name') or ''}", 200
    ) or clip(billing.get("name") or shipping.get("name"), 200)
    email = clip(data.get("email") or data.get("contact_email") or customer_raw.get("email"), 254)
    if not customer_name and not email:
        p.add("customer", "has neither a name nor an e-mail")
    customer = CustomerIn(
        name=customer_name or email,
        email=email,
        phone=clip(
            data.get("phone")
            or customer_raw.get("phone")
            or billing.get("phone")
            or shipping.get("phone"),
            40,
        ),
        document=_document(attributes, billing, shipping),
        language=language_code(data.get("customer_locale")),
        accepts_marketing=bool(data.get("buyer_accepts_marketing")),
    )

    raw_lines = p.items(data.get("line_items"), "line_items", required=True)
    if isinstance(data.get("line_items"), list) and not raw_lines:
        p.add("line_items", "must have at least one line")
    lines = []
    for i, raw in enumerate(raw_lines):
        f = f"line_items[{i}]"
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
        allocations = raw.get("discount_allocations") or []
        if allocations:
            discount = sum(
                (p.amount(a.get("amount"), f"{f}.discount_allocations[{j}].amount") or Decimal(0))
                for j, a in enumerate(allocations)
                if isinstance(a, dict)
            ) or Decimal("0.00")
        else:
            discount = p.amount(raw.get("total_discount"), f"{f}.total_discount") or Decimal("0.00")
        if sku and quantity is not None and unit_price is not None:
            lines.append(
                LineIn(
                    sku=sku,
                    name=clip(raw.get("name") or raw.get("title"), 255) or sku,
                    quantity=quantity,
                    unit_price=unit_price,
                    discount=discount,
                    external_id=exact_id(raw)[:64],
                )
            )

    financial = clip(data.get("financial_status"), 30)
    payment_status = FINANCIAL_STATUS.get(financial, Payment.PENDING)
    cancelled_at = p.moment(data.get("cancelled_at"), "cancelled_at")
    updated_at = p.moment(data.get("updated_at"), "updated_at")

    subtotal = _money(p, data, "total_line_items_price")
    shipping_total = _money(p, data, "total_shipping_price", "total_shipping_price_set")
    if not data.get("total_shipping_price_set"):
        shipping_total = sum(
            (p.amount(s.get("price"), "shipping_lines.price") or Decimal(0))
            for s in data.get("shipping_lines") or []
            if isinstance(s, dict)
        ) or Decimal("0.00")
    discount_total = _money(p, data, "total_discounts")
    tax_total = _money(p, data, "total_tax")
    total = p.amount(data.get("total_price"), "total_price", required=True)

    utm = utm_from_url(data.get("landing_site"))
    for key in ("utm_source", "utm_medium", "utm_campaign"):
        if attributes.get(key):
            utm[key] = attributes[key][:100]
    codes = [
        clip(d.get("code"), 50) for d in data.get("discount_codes") or [] if isinstance(d, dict)
    ]
    shipping_lines = [s for s in data.get("shipping_lines") or [] if isinstance(s, dict)]

    p.raise_if_any("The Shopify order has problems.")
    assert placed_at is not None
    return OrderIn(
        external_id=external_id[:64],
        number=number,
        placed_at=placed_at,
        currency=currency,
        customer=customer,
        lines=tuple(lines),
        shipping_address=_address(shipping or billing),
        subtotal=subtotal,
        shipping_total=shipping_total,
        discount_total=discount_total,
        tax_total=tax_total,
        total=total,
        payment_status=payment_status,
        payment_method=clip(", ".join(str(g) for g in data.get("payment_gateway_names") or []), 50),
        cancelled=cancelled_at is not None,
        cancelled_at=cancelled_at,
        updated_at=updated_at,
        shipping_method=clip(shipping_lines[0].get("title"), 100) if shipping_lines else "",
        coupon_code=",".join(c for c in codes if c)[:50],
        note=clip(data.get("note"), 10_000),
        utm_source=utm.get("utm_source", ""),
        utm_medium=utm.get("utm_medium", ""),
        utm_campaign=utm.get("utm_campaign", ""),
    )
