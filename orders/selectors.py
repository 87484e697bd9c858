"""orders' read API: lists and pages for the admin/API, e-mail context, dashboard KPIs."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backoffice.errors import NotFoundError
from backoffice.money import quantize
from crm.models import Customer
from orders.models import Order, OrderHold, OrderLine
from orders.status import Lifecycle, Payment

OPEN_HOLDS = Q(cleared_at__isnull=True)


def open_holds_prefetch() -> Prefetch:
    return Prefetch(
        "holds",
        queryset=OrderHold.objects.filter(OPEN_HOLDS).order_by("id"),
        to_attr="open_holds",
    )


def order_queryset() -> QuerySet[Order]:
    """Orders with what a list shows, in a constant number of queries."""
    return Order.objects.select_related("channel", "customer").prefetch_related(
        open_holds_prefetch()
    )


# A CPF/CNPJ as people type it: digits with dots, dashes, slashes or spaces.
_DOCUMENT_TYPED = re.compile(r"^[\d./\s-]+$")


def order_search_filter(search: str) -> Q:
    """Orders whose number, platform id or e-mail is ``search`` (any case), or whose
    customer's name contains each of its words, or whose customer's e-mail or document
    (digits, or as typed with dots and dashes) is it.

    One condition on ``orders_order.id``: ``id IN (<orders matched by their own columns>
    UNION ALL <orders of the matched customers>)``. Each branch uses an index (upper()
    indexes on the order columns, the customer's name trigram, e-mail and document
    indexes, orders.customer_id), so the cost follows the matches, not the table. An OR
    across the order and customer columns would make PostgreSQL read every order.
    """
    term = search.strip()
    if not term:
        return Q()
    own = Q(number__iexact=term.lstrip("#")) | Q(external_id__iexact=term) | Q(email__iexact=term)
    # Every word somewhere in the name ("maria silva" finds "Maria da Silva"), as the
    # admin's own search did; the trigram index intersects the words itself.
    name = Q(*(Q(name__icontains=word) for word in term.split()))
    who = name | Q(email__iexact=term) | Q(document=term)
    if _DOCUMENT_TYPED.match(term):
        digits = re.sub(r"\D", "", term)
        if digits and digits != term:
            who |= Q(document=digits)
    by_own = Order.objects.filter(own).order_by().values("pk")
    customers = Customer.objects.filter(who).order_by().values("pk")
    by_customer = Order.objects.filter(customer__in=customers).order_by().values("pk")
    return Q(pk__in=by_own.union(by_customer, all=True))


def order_list(*, filters: dict[str, Any] | None = None) -> QuerySet[Order]:
    """Orders matching ``filters``: status, payment_status, fulfillment_status, channel
    (slug), hold_reason (open holds), placed_after/placed_before, search."""
    from orders.filters import OrderFilter

    qs = order_queryset()
    return OrderFilter(filters or {}, queryset=qs).qs


def order_get(*, order_id: int) -> Order:
    try:
        return order_queryset().prefetch_related("lines__product", "events__actor").get(pk=order_id)
    except Order.DoesNotExist:
        raise NotFoundError(f"Order {order_id} does not exist.") from None


def order_hold_reasons(order: Order) -> list[str]:
    """The open hold reasons of an order from order_queryset() (no query)."""
    holds: Iterable[OrderHold] | None = getattr(order, "open_holds", None)
    if holds is None:
        holds = order.holds.filter(OPEN_HOLDS)
    return [h.reason for h in holds]


def notification_context_build(order: Order, lines: Iterable[OrderLine]) -> dict[str, Any]:
    """The e-mail context crm's templates need (crm never imports orders)."""
    customer = order.customer if order.customer_id else None
    return {
        "order_number": order.number,
        "order_id": order.pk,
        "store_name": getattr(settings, "STORE_NAME", ""),
        "customer_name": (customer.name if customer else "") or order.ship_name,
        "total": str(order.total),
        "currency": order.currency,
        "lines": [
            {
                "sku": line.sku,
                "name": line.name,
                "quantity": line.quantity,
                "unit_price": str(line.unit_price),
                "consumption_days": line.product.consumption_days if line.product else None,
            }
            for line in lines
        ],
    }


def order_notification_context(*, order_id: int) -> dict[str, Any]:
    order = Order.objects.select_related("customer").filter(pk=order_id).first()
    if order is None:
        raise NotFoundError(f"Order {order_id} does not exist.")
    lines = OrderLine.objects.filter(order_id=order_id).select_related("product")
    return notification_context_build(order, lines)


# Dashboard titles for order_kpis() keys (translated with orders' catalogue).
KPI_TITLES = {
    "orders_today": _("Orders today"),
    "revenue_today": _("Revenue today"),
    "on_hold": _("Orders on hold"),
    "backordered_lines": _("Backordered lines"),
}


def order_kpis(*, now: datetime | None = None) -> dict[str, Any]:
    """Today's numbers for the dashboard (today in the shop's time zone)."""
    now = timezone.localtime(now or timezone.now())
    start = timezone.make_aware(datetime.combine(now.date(), time.min), now.tzinfo)
    end = start + timedelta(days=1)
    today = Order.objects.filter(placed_at__gte=start, placed_at__lt=end)
    agg = today.aggregate(
        count=Count("id"),
        revenue=Sum(
            "total",
            filter=~Q(status=Lifecycle.CANCELLED)
            & Q(payment_status__in=[Payment.PAID, Payment.PARTIALLY_REFUNDED]),
        ),
    )
    return {
        "orders_today": agg["count"],
        "revenue_today": quantize(agg["revenue"] or Decimal("0.00")),
        "on_hold": Order.objects.filter(status=Lifecycle.ON_HOLD).count(),
        "backordered_lines": OrderLine.objects.filter(
            stock_status=OrderLine.StockStatus.BACKORDERED
        )
        .exclude(order__status=Lifecycle.CANCELLED)
        .count(),
    }
