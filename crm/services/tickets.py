"""Customer-service tickets (SAC): open, assign, annotate, move through statuses."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backoffice.errors import ApplicationError, ConflictError
from crm.models import Ticket, TicketNote
from crm.services.audit import audit_record

Status = Ticket.Status
OPEN_STATUSES = (Status.OPEN, Status.PENDING)
DEFAULT_SLA_HOURS = {"low": 72, "normal": 24, "high": 8, "urgent": 2}

# Which status may follow which; 'closed' can only be reopened.
TRANSITIONS: dict[str, set[str]] = {
    Status.OPEN: {Status.PENDING, Status.RESOLVED, Status.CLOSED},
    Status.PENDING: {Status.OPEN, Status.RESOLVED, Status.CLOSED},
    Status.RESOLVED: {Status.OPEN, Status.CLOSED},
    Status.CLOSED: {Status.OPEN},
}


def ticket_sla_due(*, priority: str, start: datetime) -> datetime:
    hours = getattr(settings, "TICKET_SLA_HOURS", DEFAULT_SLA_HOURS)
    return start + timedelta(hours=hours.get(priority, hours.get("normal", 24)))


def ticket_open(
    *,
    customer_id: int | None,
    subject: str,
    body: str = "",
    order_id: int | None = None,
    priority: str = "normal",
    source: str = "system",
    dedupe_key: str = "",
    actor: Any = None,
) -> Ticket:
    """Open a case; with a ``dedupe_key`` an existing open (or pending) one is returned."""
    if priority not in Ticket.Priority.values:
        raise ApplicationError(
            _("Unknown priority."), errors=[{"field": "priority", "message": priority}]
        )
    if not subject.strip():
        raise ApplicationError(
            _("A ticket needs a subject."), errors=[{"field": "subject", "message": "required"}]
        )
    with transaction.atomic():
        if dedupe_key:
            existing = Ticket.objects.filter(
                dedupe_key=dedupe_key, status__in=OPEN_STATUSES
            ).first()
            if existing:
                return existing
        now = timezone.now()
        try:
            with transaction.atomic():
                ticket = Ticket.objects.create(
                    customer_id=customer_id,
                    order_id=order_id,
                    subject=subject.strip()[:200],
                    body=body,
                    priority=priority,
                    source=source if source in Ticket.Source.values else Ticket.Source.SYSTEM,
                    dedupe_key=dedupe_key,
                    sla_due_at=ticket_sla_due(priority=priority, start=now),
                )
        except IntegrityError:
            existing = Ticket.objects.filter(
                dedupe_key=dedupe_key, status__in=OPEN_STATUSES
            ).first()
            if dedupe_key and existing:
                return existing
            raise
        audit_record(
            action="ticket_open",
            object_type="ticket",
            object_id=ticket.pk,
            customer_id=customer_id,
            actor=actor,
            data={"priority": priority, "source": ticket.source, "order_id": order_id},
        )
    return ticket


def _locked(ticket_id: int) -> Ticket:
    try:
        return Ticket.objects.select_for_update().get(pk=ticket_id)
    except Ticket.DoesNotExist as exc:
        raise ApplicationError(_("Ticket not found.")) from exc


@transaction.atomic
def ticket_assign(*, ticket_id: int, user_id: int | None, actor: Any = None) -> Ticket:
    """Give the case to a staff member (None: unassign)."""
    ticket = _locked(ticket_id)
    if (
        user_id is not None
        and not get_user_model().objects.filter(pk=user_id, is_staff=True, is_active=True).exists()
    ):
        raise ApplicationError(
            _("Tickets can only be assigned to active staff."),
            errors=[{"field": "assigned_to", "message": str(user_id)}],
        )
    old = ticket.assigned_to_id
    if old == user_id:
        return ticket
    ticket.assigned_to_id = user_id
    ticket.save(update_fields=["assigned_to", "updated_at"])
    audit_record(
        action="ticket_assign",
        object_type="ticket",
        object_id=ticket.pk,
        customer_id=ticket.customer_id,
        actor=actor,
        data={"from": old, "to": user_id},
    )
    return ticket


@transaction.atomic
def ticket_note_add(*, ticket_id: int, body: str, author: Any = None) -> TicketNote:
    """Add an internal note (never shown to the customer)."""
    if not body.strip():
        raise ApplicationError(
            _("The note is empty."), errors=[{"field": "body", "message": "required"}]
        )
    ticket = _locked(ticket_id)
    note = TicketNote.objects.create(ticket=ticket, author=author, body=body.strip())
    ticket.save(update_fields=["updated_at"])
    audit_record(
        action="ticket_note_add",
        object_type="ticket",
        object_id=ticket.pk,
        customer_id=ticket.customer_id,
        actor=author,
        data={"note_id": note.pk},
    )
    return note


@transaction.atomic
def ticket_status_set(*, ticket_id: int, status: str, actor: Any = None, note: str = "") -> Ticket:
    """Move the case along TRANSITIONS; resolving stamps resolved_at, reopening clears it."""
    ticket = _locked(ticket_id)
    old = ticket.status
    if status == old:
        return ticket
    if status not in TRANSITIONS.get(old, set()):
        raise ConflictError(
            _("A ticket cannot go from %(old)s to %(new)s.") % {"old": old, "new": status},
            errors=[{"field": "status", "message": status}],
        )
    ticket.status = status
    if status in (Status.RESOLVED, Status.CLOSED):
        ticket.resolved_at = ticket.resolved_at or timezone.now()
    else:
        ticket.resolved_at = None
    ticket.save(update_fields=["status", "resolved_at", "updated_at"])
    if note.strip():
        TicketNote.objects.create(ticket=ticket, author=actor, body=note.strip())
    audit_record(
        action="ticket_status_set",
        object_type="ticket",
        object_id=ticket.pk,
        customer_id=ticket.customer_id,
        actor=actor,
        data={"from": old, "to": status},
    )
    return ticket


@transaction.atomic
def ticket_priority_set(*, ticket_id: int, priority: str, actor: Any = None) -> Ticket:
    """Change the priority; the SLA due time is recomputed from when the case opened."""
    if priority not in Ticket.Priority.values:
        raise ApplicationError(
            _("Unknown priority."), errors=[{"field": "priority", "message": priority}]
        )
    ticket = _locked(ticket_id)
    old = ticket.priority
    if old == priority:
        return ticket
    ticket.priority = priority
    ticket.sla_due_at = ticket_sla_due(priority=priority, start=ticket.created_at)
    ticket.save(update_fields=["priority", "sla_due_at", "updated_at"])
    audit_record(
        action="ticket_priority_set",
        object_type="ticket",
        object_id=ticket.pk,
        customer_id=ticket.customer_id,
        actor=actor,
        data={"from": old, "to": priority},
    )
    return ticket
