"""Promised delivery dates: handling + transit business days for the destination CEP."""

from __future__ import annotations

import re
from datetime import date, timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from backoffice.errors import NotFoundError
from logistics.models import Holiday, Shipment, ShippingMethod, TransitTime
from orders.models import Order


def cep_digits(value: str) -> str:
    return re.sub(r"\D", "", value or "")[:8]


def business_days_add(start: date, days: int) -> date:
    """The date ``days`` business days after ``start`` (weekends and Holiday rows skipped)."""
    horizon = start + timedelta(days=days * 2 + 30)
    holidays = set(
        Holiday.objects.filter(date__gt=start, date__lte=horizon).values_list("date", flat=True)
    )
    current, added = start, 0
    while added < days:
        current += timedelta(days=1)
        if current.weekday() < 5 and current not in holidays:
            added += 1
    return current


def method_resolve(name: str) -> ShippingMethod | None:
    """The ShippingMethod an order's free-text shipping method names: by code, name, or
    "carrier name" (case-insensitive), e.g. "sedex", "SEDEX", "Correios SEDEX"."""
    text = (name or "").strip()
    if not text:
        return None
    methods = ShippingMethod.objects.select_related("carrier").filter(is_active=True)
    found = methods.filter(Q(code__iexact=text) | Q(name__iexact=text)).first()
    if found:
        return found
    lowered = text.lower()
    for method in methods:
        if f"{method.carrier.name} {method.name}".lower() == lowered:
            return method
    return None


def transit_days(*, method: ShippingMethod, postal_code: str) -> int:
    cep = cep_digits(postal_code)
    if len(cep) == 8:
        row = (
            TransitTime.objects.filter(method=method, cep_from__lte=cep, cep_to__gte=cep)
            .order_by("business_days")
            .first()
        )
        if row is not None:
            return row.business_days
    return method.default_transit_days


def promise_for(*, order: Order, method: ShippingMethod) -> date:
    start = timezone.localdate(order.paid_at or order.placed_at)
    days = method.handling_days + transit_days(method=method, postal_code=order.ship_postal_code)
    return business_days_add(start, days)


def shipment_promise_compute(*, order_id: int, method_id: int | None = None) -> date | None:
    """Compute the order's promised delivery date and store it on its open shipments
    that have none yet. ``None`` when no shipping method is known."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        raise NotFoundError(_("Order %(id)s does not exist.") % {"id": order_id})
    method = (
        ShippingMethod.objects.filter(pk=method_id).first()
        if method_id
        else method_resolve(order.shipping_method)
    )
    if method is None:
        return None
    promised = promise_for(order=order, method=method)
    Shipment.objects.filter(
        order_id=order_id,
        promised_date__isnull=True,
        status__in=[Shipment.Status.DRAFT, Shipment.Status.PACKED, Shipment.Status.SHIPPED],
    ).update(promised_date=promised)
    return promised
