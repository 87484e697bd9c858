"""Fiscal invoice data (NF-e) per order, through the configured emission provider."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backoffice.errors import ConflictError, NotFoundError
from finance.conf import fiscal_issuer
from finance.fiscal import InvoiceData, InvoiceLine, emission_provider
from finance.models import FiscalDocument, FiscalSeries
from finance.services.common import audit
from orders.models import Order
from orders.status import Lifecycle


@transaction.atomic
def fiscal_document_issue(*, order_id: int, actor: Any = None) -> FiscalDocument:
    """Issue the NF-e data of an order (one per order; a second call returns it).

    The series counter row is locked while the next number is taken, so two
    concurrent issues never share a number."""
    order = (
        Order.objects.select_for_update(of=("self",))
        .select_related("customer")
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        raise NotFoundError(_("Order not found."))
    existing = FiscalDocument.objects.filter(order_id=order.pk).first()
    if existing is not None:
        return existing
    if order.status == Lifecycle.CANCELLED:
        raise ConflictError(_("A cancelled order gets no invoice."))
    series_number = int(fiscal_issuer()["series"])
    FiscalSeries.objects.get_or_create(series=series_number)
    series = FiscalSeries.objects.select_for_update().get(series=series_number)
    series.last_number += 1
    series.save(update_fields=["last_number"])

    lines = [
        InvoiceLine(
            sku=line.sku,
            name=line.name,
            quantity=line.quantity,
            unit_price=line.unit_price,
            total=line.total,
        )
        for line in order.lines.all()
    ]
    customer = order.customer
    issued_at = timezone.localtime()
    data = InvoiceData(
        order_number=order.number,
        series=series_number,
        number=series.last_number,
        issued_at=issued_at,
        customer_name=order.ship_name or (customer.name if customer else ""),
        customer_document=customer.document if customer else "",
        customer_email=order.email,
        address={
            "street": order.ship_street,
            "number": order.ship_number,
            "complement": order.ship_complement,
            "district": order.ship_district,
            "city": order.ship_city,
            "state": order.ship_state,
            "postal_code": order.ship_postal_code,
        },
        lines=lines,
        products_total=order.subtotal,
        shipping_total=order.shipping_total,
        discount_total=order.discount_total,
        total=order.total,
        payment_method=order.payment_method,
    )
    result = emission_provider().emit(data)
    document = FiscalDocument.objects.create(
        order=order,
        access_key=result.access_key,
        number=series.last_number,
        series=series_number,
        xml=result.xml,
        status=result.status,
        provider=result.provider,
        issued_at=issued_at,
    )
    audit(obj=document, action="issued", to_value=result.status, actor=actor)
    return document
