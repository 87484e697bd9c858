"""Order checks that put an order on hold for a person to look at (DESIGN.md step 6)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext as _

from backoffice.money import quantize
from crm.models import Customer
from orders.models import Channel, Order, OrderHold, OrderLine, PriceListItem, Promotion

R = OrderHold.Reason
_DIGITS = re.compile(r"\D")
DEFAULT_RISK_FIRST_ORDER_TOTAL = Decimal("3000.00")


@dataclass(frozen=True)
class HoldReason:
    reason: str
    detail: str


def risk_first_order_limit() -> Decimal:
    return Decimal(
        str(getattr(settings, "ORDERS_RISK_FIRST_ORDER_TOTAL", DEFAULT_RISK_FIRST_ORDER_TOTAL))
    )


def order_checks(
    *,
    order: Order,
    lines: list[OrderLine],
    customer: Customer | None,
    first_order: bool,
    document_sent: str = "",
) -> list[HoldReason]:
    """Every reason this (new, unsaved or saved) order needs review, in a fixed order."""
    found: list[HoldReason] = []
    country = (order.ship_country or "BR").upper()
    if country == "BR" and (customer is None or not customer.document_valid):
        sent = document_sent or (customer.document if customer else "")
        found.append(
            HoldReason(
                R.INVALID_DOCUMENT,
                _("CPF/CNPJ missing or invalid: %(doc)s") % {"doc": sent or "—"},
            )
        )
    missing = address_missing(order)
    if missing:
        found.append(
            HoldReason(
                R.INCOMPLETE_ADDRESS,
                _("Shipping address incomplete: %(fields)s") % {"fields": ", ".join(missing)},
            )
        )
    unknown = [line.sku for line in lines if line.product_id is None]
    if unknown:
        found.append(
            HoldReason(R.UNKNOWN_SKU, _("Unknown SKU: %(skus)s") % {"skus": ", ".join(unknown)})
        )
    mismatches = _price_mismatches(order, lines)
    if mismatches:
        found.append(HoldReason(R.PRICE_MISMATCH, "; ".join(mismatches)))
    limit = risk_first_order_limit()
    if first_order and order.total > limit:
        found.append(
            HoldReason(
                R.RISK,
                _("First order of this customer totals %(total)s, above %(limit)s.")
                % {"total": order.total, "limit": limit},
            )
        )
    return found


def address_missing(order: Order) -> list[str]:
    country = (order.ship_country or "BR").upper()
    missing = []
    if country == "BR" and len(_DIGITS.sub("", order.ship_postal_code)) != 8:
        missing.append(_("CEP (8 digits)"))
    required = [
        (order.ship_street, _("street")),
        (order.ship_city, _("city")),
    ]
    if country == "BR":
        required += [(order.ship_number, _("number")), (order.ship_state, _("state"))]
    missing += [str(label) for value, label in required if not (value or "").strip()]
    return missing


def _price_mismatches(order: Order, lines: list[OrderLine]) -> list[str]:
    """Lines sold below the channel's price list by more than its tolerance, unless an
    active promotion (automatic, or the coupon the order used) explains the price."""
    channel: Channel = order.channel
    if channel.price_list_id is None:
        return []
    product_ids = [line.product_id for line in lines if line.product_id]
    if not product_ids:
        return []
    at = order.placed_at
    items = (
        PriceListItem.objects.filter(
            price_list_id=channel.price_list_id,
            price_list__is_active=True,
            product_id__in=product_ids,
        )
        .filter(Q(price_list__valid_from__isnull=True) | Q(price_list__valid_from__lte=at))
        .filter(Q(price_list__valid_until__isnull=True) | Q(price_list__valid_until__gte=at))
        .select_related("price_list")
    )
    listed = {item.product_id: item for item in items}
    if not listed:
        return []
    promos: list[Promotion] | None = None
    out = []
    for line in lines:
        item = listed.get(line.product_id) if line.product_id else None
        if item is None:
            continue
        tolerance = item.price_list.tolerance_percent / Decimal(100)
        paid = quantize((line.unit_price * line.quantity - line.discount) / line.quantity)
        floor = quantize(item.price * (1 - tolerance))
        if paid >= floor:
            continue
        if promos is None:
            promos = _promotions(order, product_ids)
        if any(
            paid >= quantize(_promo_price(p, item.price) * (1 - tolerance))
            for p in promos
            if p.product_id in (None, line.product_id)
        ):
            continue
        out.append(
            _("%(sku)s sold at %(paid)s, list %(list)s")
            % {"sku": line.sku, "paid": paid, "list": item.price}
        )
    return out


def _promotions(order: Order, product_ids: list[int]) -> list[Promotion]:
    coupon = (order.coupon_code or "").strip()
    code_q = Q(code="") | Q(code__iexact=coupon) if coupon else Q(code="")
    return list(
        Promotion.objects.filter(
            code_q,
            Q(product__isnull=True) | Q(product_id__in=product_ids),
            is_active=True,
            valid_from__lte=order.placed_at,
            valid_until__gte=order.placed_at,
        )
    )


def _promo_price(promo: Promotion, price: Decimal) -> Decimal:
    if promo.kind == Promotion.Kind.PERCENT:
        return price * (1 - promo.value / Decimal(100))
    return max(price - promo.value, Decimal(0))
