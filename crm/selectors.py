"""crm's read API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from crm.models import Customer, Notification, SurveyResponse, Ticket


def communications_for_order(*, order_id: int) -> QuerySet[Notification]:
    """Every e-mail queued for an order, newest first (for the order admin page)."""
    return Notification.objects.filter(order_id=order_id).order_by("-created_at", "-id")


def communications_for_customer(*, customer_id: int) -> QuerySet[Notification]:
    return Notification.objects.filter(customer_id=customer_id).order_by("-created_at", "-id")


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # order | notification | ticket | survey
    title: str
    detail: str = ""
    status: str = ""
    url: str = ""


def _admin_url(name: str, pk: int) -> str:
    try:
        return reverse(f"admin:{name}_change", args=[pk])
    except NoReverseMatch:
        return ""


def customer_timeline(*, customer_id: int, limit: int = 200) -> list[TimelineEntry]:
    """Orders, e-mails, tickets and survey answers of one customer, newest first.

    Orders come through the ``Customer.orders`` reverse relation (crm does not import
    orders). A fixed number of queries whatever the history's length.
    """
    entries: list[TimelineEntry] = []
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        return entries
    orders: Any = customer.orders.order_by("-placed_at").values(
        "id", "number", "placed_at", "status", "total", "currency"
    )[:limit]
    for order in orders:
        total: Decimal = order["total"]
        entries.append(
            TimelineEntry(
                at=order["placed_at"],
                kind="order",
                title=_("Order #%(number)s") % {"number": order["number"]},
                detail=f"{order['currency']} {total}",
                status=order["status"],
                url=_admin_url("orders_order", order["id"]),
            )
        )
    for n in Notification.objects.filter(customer_id=customer_id).order_by("-created_at")[:limit]:
        entries.append(
            TimelineEntry(
                at=n.sent_at or n.created_at,
                kind="notification",
                title=_("E-mail: %(kind)s") % {"kind": n.get_kind_display()},
                detail=n.subject or n.last_error,
                status=n.status,
                url=_admin_url("crm_notification", n.pk),
            )
        )
    for t in Ticket.objects.filter(customer_id=customer_id).order_by("-created_at")[:limit]:
        entries.append(
            TimelineEntry(
                at=t.created_at,
                kind="ticket",
                title=_("Ticket #%(id)s: %(subject)s") % {"id": t.pk, "subject": t.subject},
                detail=t.get_priority_display(),
                status=t.status,
                url=_admin_url("crm_ticket", t.pk),
            )
        )
    for s in SurveyResponse.objects.filter(customer_id=customer_id).order_by("-answered_at")[
        :limit
    ]:
        entries.append(
            TimelineEntry(
                at=s.answered_at,
                kind="survey",
                title=_("Survey answer: %(score)s/10") % {"score": s.score},
                detail=s.comment,
                status=s.category,
            )
        )
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]
