"""The crm admin pages: load, filter, act through services, constant query counts."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from crm.models import AuditEntry, Customer, Notification, Ticket
from crm.services import notification_queue, ticket_open
from tests.factories.core import CustomerFactory, OrderFactory
from tests.factories.crm import NotificationFactory, TicketFactory, order_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(admin_user, client):
    client.force_login(admin_user)
    return admin_user


def test_customer_page_shows_the_timeline(client, staff, customer):
    order = OrderFactory.create(customer=customer, number="5555")
    notification_queue(
        kind="shipped",
        to_email=customer.email,
        language="pt-br",
        dedupe_key="s1",
        context=order_context(),
        customer_id=customer.pk,
        order_id=order.pk,
    )
    ticket_open(customer_id=customer.pk, subject="Produto errado", order_id=order.pk)

    response = client.get(f"/admin/crm/customer/{customer.pk}/change/")

    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="customer-timeline"' in body
    assert "5555" in body
    assert "Produto errado" in body
    assert "/admin/crm/ticket/" in body


def test_customer_changelist_query_count_does_not_grow(
    client, staff, django_assert_max_num_queries
):
    CustomerFactory.create_batch(3)
    with django_assert_max_num_queries(12) as small:
        client.get("/admin/crm/customer/")
    CustomerFactory.create_batch(20)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get("/admin/crm/customer/")
    assert response.status_code == 200


def test_editing_a_customer_goes_through_the_service(client, staff, customer):
    data = {
        "name": "Maria S. Silva",
        "email": customer.email,
        "phone": "",
        "language": "es",
        "postal_code": "",
        "street": "",
        "street_number": "",
        "complement": "",
        "district": "",
        "city": "",
        "state": "",
        "country": "BR",
    }
    response = client.post(f"/admin/crm/customer/{customer.pk}/change/", data)
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.name, customer.language) == ("Maria S. Silva", "es")
    assert AuditEntry.objects.filter(action="customer_update", actor=staff).exists()


def test_lgpd_export_action_downloads_json(client, staff, customer):
    response = client.post(
        "/admin/crm/customer/",
        {"action": "export_personal_data", "_selected_action": [customer.pk]},
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert json.loads(response.content)["customer"]["email"] == "maria@example.com"


def test_lgpd_erase_asks_first_then_erases(client, staff, customer):
    ask = client.post(
        "/admin/crm/customer/",
        {"action": "erase_personal_data", "_selected_action": [customer.pk]},
    )
    assert ask.status_code == 200
    assert Customer.objects.get(pk=customer.pk).erased_at is None

    done = client.post(
        "/admin/crm/customer/",
        {"action": "erase_personal_data", "_selected_action": [customer.pk], "confirm": "yes"},
    )
    assert done.status_code == 302
    assert Customer.objects.get(pk=customer.pk).erased_at is not None


def test_erase_needs_its_own_permission(client, customer, django_user_model):
    user = django_user_model.objects.create_user("sac", password="x", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="crm", codename__in=["view_customer", "change_customer"]
        )
    )
    client.force_login(user)
    client.post(
        "/admin/crm/customer/",
        {"action": "erase_personal_data", "_selected_action": [customer.pk], "confirm": "yes"},
    )
    assert Customer.objects.get(pk=customer.pk).erased_at is None


def test_notification_log_and_retry(client, staff, customer, django_capture_on_commit_callbacks):
    failed = NotificationFactory.create(
        customer=customer, status=Notification.Status.FAILED, attempts=8
    )
    response = client.get("/admin/crm/notification/?status=failed")
    assert response.status_code == 200
    assert failed.to_email in response.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/admin/crm/notification/",
            {"action": "retry_selected", "_selected_action": [failed.pk]},
        )
    failed.refresh_from_db()
    assert failed.status == Notification.Status.SENT  # eager in tests: re-sent at once
    assert client.get(f"/admin/crm/notification/{failed.pk}/change/").status_code == 200


def test_notification_page_is_read_only_including_the_batch_claim(client, staff, customer):
    notification = NotificationFactory.create(customer=customer)

    response = client.get(f"/admin/crm/notification/{notification.pk}/change/")

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "claimed_until" not in form.fields and "status" not in form.fields
    assert "claimed_until" in response.context["adminform"].readonly_fields


def test_ticket_changelist_filters_overdue_with_constant_queries(
    client, staff, django_assert_max_num_queries
):
    late = TicketFactory.create(sla_due_at=timezone.now() - timedelta(hours=1), subject="Atrasado")
    TicketFactory.create(subject="Caso-em-dia-1")
    TicketFactory.create(
        sla_due_at=timezone.now() - timedelta(hours=1),
        subject="Caso-resolvido-2",
        status=Ticket.Status.RESOLVED,
    )

    response = client.get("/admin/crm/ticket/?sla=overdue")
    body = response.content.decode()
    assert response.status_code == 200
    assert late.subject in body
    assert "Caso-em-dia-1" not in body
    assert "Caso-resolvido-2" not in body

    with django_assert_max_num_queries(15) as small:
        client.get("/admin/crm/ticket/")
    TicketFactory.create_batch(15, assigned_to=staff)
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get("/admin/crm/ticket/")


def test_ticket_admin_add_and_change_use_services(client, staff, customer):
    response = client.post(
        "/admin/crm/ticket/add/",
        {
            "customer": customer.pk,
            "subject": "Troca de tamanho",
            "body": "",
            "order_id": "",
            "priority": "high",
            "status": "open",
            "assigned_to": staff.pk,
            "new_note": "Primeiro contato",
            "notes-TOTAL_FORMS": "0",
            "notes-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    ticket = Ticket.objects.get()
    assert (ticket.source, ticket.assigned_to) == (Ticket.Source.STAFF, staff)
    assert ticket.notes.get().body == "Primeiro contato"

    client.post(
        f"/admin/crm/ticket/{ticket.pk}/change/",
        {
            "priority": "urgent",
            "status": "resolved",
            "assigned_to": staff.pk,
            "new_note": "",
            "notes-TOTAL_FORMS": "1",
            "notes-INITIAL_FORMS": "1",
            "notes-0-id": ticket.notes.get().pk,
            "notes-0-ticket": ticket.pk,
        },
    )
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.status) == ("urgent", "resolved")
    assert set(AuditEntry.objects.filter(object_id=ticket.pk).values_list("action", flat=True)) >= {
        "ticket_open",
        "ticket_assign",
        "ticket_note_add",
        "ticket_priority_set",
        "ticket_status_set",
    }


def test_ticket_actions(client, staff):
    ticket = TicketFactory.create()
    client.post("/admin/crm/ticket/", {"action": "assign_to_me", "_selected_action": [ticket.pk]})
    client.post("/admin/crm/ticket/", {"action": "mark_resolved", "_selected_action": [ticket.pk]})
    ticket.refresh_from_db()
    assert (ticket.assigned_to, ticket.status) == (staff, "resolved")


def test_segment_export_to_csv(client, staff):
    from decimal import Decimal

    from crm.services.segments import rfm_compute

    for value in ("10", "20"):
        OrderFactory.create(total=Decimal(value))
    rfm_compute()

    response = client.post(
        "/admin/crm/customerrfm/export/",
        {
            "format": "0",
            "export_items": [],
            "resource": "0",
            **{
                f"customerrfmresource_{f}": "on"
                for f in ("name", "email", "segment", "r", "f", "m")
            },
        },
    )
    assert response.status_code == 200, response.content.decode()[:3000]
    text = response.content.decode()
    assert text.splitlines()[0].startswith("name") or "email" in text.splitlines()[0]
    assert text.count("@example.com") == 2


def test_other_pages_load(client, staff):
    for url in (
        "/admin/crm/surveyresponse/",
        "/admin/crm/customerrfm/",
        "/admin/crm/auditentry/",
        "/admin/crm/ticket/add/",
    ):
        assert client.get(url).status_code == 200, url
