from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from backoffice.errors import ApplicationError, ConflictError
from crm.models import AuditEntry, Ticket
from crm.services import (
    ticket_assign,
    ticket_note_add,
    ticket_open,
    ticket_priority_set,
    ticket_status_set,
)
from tests.factories.core import StaffUserFactory

pytestmark = pytest.mark.django_db


def test_sla_due_time_follows_the_priority(customer, settings):
    settings.TICKET_SLA_HOURS = {"low": 72, "normal": 24, "high": 8, "urgent": 2}
    before = timezone.now()
    urgent = ticket_open(customer_id=customer.pk, subject="Cobrança em dobro", priority="urgent")
    low = ticket_open(customer_id=customer.pk, subject="Dúvida", priority="low")
    assert before + timedelta(hours=2) <= urgent.sla_due_at <= timezone.now() + timedelta(hours=2)
    assert low.sla_due_at - low.created_at > timedelta(hours=71)
    assert AuditEntry.objects.filter(action="ticket_open").count() == 2


def test_a_dedupe_key_returns_the_open_ticket(customer):
    first = ticket_open(customer_id=customer.pk, subject="A", dedupe_key="order:1:late")
    second = ticket_open(customer_id=customer.pk, subject="B", dedupe_key="order:1:late")
    assert second.pk == first.pk
    assert Ticket.objects.count() == 1

    ticket_status_set(ticket_id=first.pk, status="closed")
    third = ticket_open(customer_id=customer.pk, subject="C", dedupe_key="order:1:late")
    assert third.pk != first.pk


def test_status_moves_along_the_table_with_audit(customer):
    staff = StaffUserFactory.create()
    ticket = ticket_open(customer_id=customer.pk, subject="Atraso")

    ticket_status_set(ticket_id=ticket.pk, status="pending", actor=staff)
    ticket_status_set(ticket_id=ticket.pk, status="resolved", actor=staff, note="Reenviado")
    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    assert ticket.resolved_at is not None
    assert ticket.notes.get().body == "Reenviado"

    ticket_status_set(ticket_id=ticket.pk, status="closed", actor=staff)
    with pytest.raises(ConflictError):
        ticket_status_set(ticket_id=ticket.pk, status="pending", actor=staff)
    ticket.refresh_from_db()
    assert ticket.status == "closed"
    entries = AuditEntry.objects.filter(action="ticket_status_set", object_id=ticket.pk)
    assert [e.data["to"] for e in entries.order_by("id")] == ["pending", "resolved", "closed"]
    assert all(e.actor == staff for e in entries)


def test_assign_only_to_active_staff(customer):
    staff = StaffUserFactory.create()
    outsider = StaffUserFactory.create(is_staff=False)
    ticket = ticket_open(customer_id=customer.pk, subject="X")

    ticket_assign(ticket_id=ticket.pk, user_id=staff.pk, actor=staff)
    with pytest.raises(ApplicationError):
        ticket_assign(ticket_id=ticket.pk, user_id=outsider.pk, actor=staff)

    ticket.refresh_from_db()
    assert ticket.assigned_to == staff


def test_notes_and_priority_changes(customer):
    staff = StaffUserFactory.create()
    ticket = ticket_open(customer_id=customer.pk, subject="X", priority="low")
    ticket_note_add(ticket_id=ticket.pk, body="Liguei para a cliente", author=staff)
    with pytest.raises(ApplicationError):
        ticket_note_add(ticket_id=ticket.pk, body="  ", author=staff)

    ticket_priority_set(ticket_id=ticket.pk, priority="urgent", actor=staff)

    ticket.refresh_from_db()
    assert ticket.notes.count() == 1
    assert ticket.sla_due_at == ticket.created_at + timedelta(hours=2)
