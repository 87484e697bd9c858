"""LGPD: export everything held about a customer, and erase (anonymize) it.

Fiscal records stay: orders keep their totals, lines and shipping address (the NF-e
recipient, which Brazilian tax law requires us to keep for years, LGPD art. 16 I); the
order's contact e-mail and free-text note go, as do the customer's name, contact,
document and address, the addresses and names in e-mails we logged, ticket and survey
texts, and the customer's change history.
"""

from __future__ import annotations

import json
from typing import Any

from django.core import serializers
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from backoffice.errors import ApplicationError, ConflictError
from crm.models import Customer, Notification, SurveyResponse, Ticket, TicketNote
from crm.services.audit import audit_record

# Context keys that name or reach a person; everything else (order number, totals,
# lines, tracking) is about the order and stays.
PERSONAL_CONTEXT_KEYS = frozenset(
    {"customer_name", "email", "phone", "document", "address", "ship_name", "ship_address"}
)
ERASED = "[erased]"


def _rows(queryset: Any) -> list[dict[str, Any]]:
    return [
        {"id": item["pk"], **item["fields"]} for item in serializers.serialize("python", queryset)
    ]


def customer_export(*, customer_id: int, actor: Any = None) -> dict[str, Any]:
    """Everything held about the customer, as JSON-ready data (LGPD art. 18 II)."""
    try:
        customer = Customer.objects.get(pk=customer_id)
    except Customer.DoesNotExist as exc:
        raise ApplicationError("Customer not found.") from exc
    orders = []
    # The reverse relation: crm reads orders through the ORM, never imports them.
    for order in customer.orders.all().prefetch_related("lines").order_by("id"):
        (row,) = _rows([order])
        row["lines"] = _rows(order.lines.all())
        orders.append(row)
    tickets = _rows(Ticket.objects.filter(customer_id=customer_id).order_by("id"))
    notes = _rows(TicketNote.objects.filter(ticket__customer_id=customer_id).order_by("id"))
    data = {
        "exported_at": timezone.now(),
        "customer": _rows([customer])[0],
        "orders": orders,
        "notifications": _rows(Notification.objects.filter(customer_id=customer_id).order_by("id")),
        "tickets": tickets,
        "ticket_notes": notes,
        "survey_responses": _rows(
            SurveyResponse.objects.filter(customer_id=customer_id).order_by("id")
        ),
    }
    audit_record(
        action="customer_export",
        object_type="customer",
        object_id=customer_id,
        customer_id=customer_id,
        actor=actor,
    )
    # Round-trip through JSON so callers get plain types (dates as ISO strings).
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


@transaction.atomic
def customer_erase(*, customer_id: int, actor: Any = None) -> Customer:
    """Anonymize the customer's personal data (LGPD art. 18 VI); keeps fiscal records."""
    try:
        customer = Customer.objects.select_for_update().get(pk=customer_id)
    except Customer.DoesNotExist as exc:
        raise ApplicationError("Customer not found.") from exc
    if customer.erased_at is not None:
        raise ConflictError("This customer's data was already erased.")
    emails = {e for e in [customer.email] if e}
    emails.update(
        Notification.objects.filter(customer_id=customer_id)
        .exclude(to_email="")
        .values_list("to_email", flat=True)
    )
    for field in (
        "email",
        "phone",
        "document",
        "document_kind",
        "postal_code",
        "street",
        "street_number",
        "complement",
        "district",
        "city",
        "state",
    ):
        setattr(customer, field, "")
    customer.name = f"{ERASED} #{customer.pk}"
    customer.document_valid = False
    customer.marketing_opt_in = False
    customer.erased_at = timezone.now()
    # The change history holds every earlier version of the personal data.
    Customer.history.filter(id=customer_id).delete()
    customer.save()

    for notification in Notification.objects.select_for_update().filter(customer_id=customer_id):
        context = {
            k: v for k, v in (notification.context or {}).items() if k not in PERSONAL_CONTEXT_KEYS
        }
        notification.context = context
        notification.to_email = ""
        if notification.status == Notification.Status.PENDING:
            notification.status = Notification.Status.SKIPPED
            notification.last_error = "customer data erased"
        notification.save(update_fields=["context", "to_email", "status", "last_error"])
    if emails:
        Notification.objects.filter(customer__isnull=True, to_email__in=emails).update(
            to_email="", context={}, status=Notification.Status.SKIPPED
        )
    Ticket.objects.filter(customer_id=customer_id).update(subject=ERASED, body="")
    TicketNote.objects.filter(ticket__customer_id=customer_id).update(body=ERASED)
    SurveyResponse.objects.filter(customer_id=customer_id).update(comment="")
    # Orders: the contact e-mail and the free-text note are not fiscal data.
    order_fields = {f.name for f in customer.orders.model._meta.get_fields()}
    blank = {name: "" for name in ("email", "note") if name in order_fields}
    if blank:
        customer.orders.update(**blank)
    audit_record(
        action="customer_erase",
        object_type="customer",
        object_id=customer_id,
        customer_id=customer_id,
        actor=actor,
    )
    return customer
