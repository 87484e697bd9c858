"""What a 'delivered' e-mail schedules: the survey and the re-purchase reminders."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from crm.models import Notification
from crm.services import marketing_opt_out, notification_queue, notification_send
from tests.factories.core import CustomerFactory
from tests.factories.crm import order_context, queued

pytestmark = pytest.mark.django_db


def _delivered(customer, delivered_at, **context):
    return notification_queue(
        kind="delivered",
        to_email=customer.email,
        language=customer.language,
        dedupe_key="order:7:delivered",
        context=order_context(order_id=7, delivered_at=delivered_at.isoformat(), **context),
        customer_id=customer.pk,
        order_id=7,
    )


def test_delivered_schedules_the_survey_from_the_database(customer, settings):
    settings.SURVEY_DELAY_DAYS = 7
    delivered_at = timezone.now() - timedelta(hours=2)

    _delivered(customer, delivered_at)

    survey = Notification.objects.get(kind="survey")
    assert survey.dedupe_key == "order:7:survey"
    assert survey.send_after == delivered_at + timedelta(days=7)
    assert survey.enqueued_at is None  # the sweep sends it when due, no Celery countdown
    assert survey.status == Notification.Status.PENDING
    assert notification_send(notification_id=survey.pk) == "not_due"


def test_repurchase_reminder_once_per_order_and_sku(customer, settings):
    settings.REPURCHASE_LEAD_DAYS = 5
    delivered_at = timezone.now()
    lines = [
        {"sku": "CAFE-500", "name": "Café", "quantity": 1, "consumption_days": 30},
        {"sku": "CAFE-500", "name": "Café", "quantity": 1, "consumption_days": 30},
        {"sku": "CANECA", "name": "Caneca", "quantity": 1, "consumption_days": None},
        {"sku": "FILTRO", "name": "Filtro", "quantity": 1, "consumption_days": 60},
    ]

    _delivered(customer, delivered_at, lines=lines)
    # the same delivery reported again queues nothing more
    again = _delivered(customer, delivered_at, lines=lines)

    assert again is None
    reminders = Notification.objects.filter(kind="repurchase_reminder").order_by("send_after")
    assert [r.dedupe_key for r in reminders] == [
        "order:7:repurchase_reminder:CAFE-500",
        "order:7:repurchase_reminder:FILTRO",
    ]
    assert reminders[0].send_after == delivered_at + timedelta(days=25)
    assert reminders[1].send_after == delivered_at + timedelta(days=55)
    assert reminders[0].context["product_name"] == "Café"


def test_marketing_opt_out_is_respected_for_reminders_but_not_for_order_mail(customer, mailoutbox):
    marketing_opt_out(email="MARIA@example.com")
    reminder = queued(
        kind="repurchase_reminder",
        to_email=customer.email,
        language="pt-br",
        dedupe_key="order:7:repurchase_reminder:CAFE-500",
        context=order_context(product_name="Café"),
        customer_id=customer.pk,
    )
    shipped = queued(
        kind="shipped",
        to_email=customer.email,
        language="pt-br",
        dedupe_key="order:7:shipped:1",
        context=order_context(),
        customer_id=customer.pk,
    )

    assert notification_send(notification_id=reminder.pk) == "skipped"
    assert notification_send(notification_id=shipped.pk) == "sent"
    assert [m.to for m in mailoutbox] == [["maria@example.com"]]
    reminder.refresh_from_db()
    assert reminder.status == Notification.Status.SKIPPED
    assert "opted out" in reminder.last_error


def test_marketing_mail_carries_a_working_unsubscribe_link(customer, mailoutbox, client):
    other = CustomerFactory.create(email="outra@example.com")
    reminder = queued(
        kind="repurchase_reminder",
        to_email=customer.email,
        language="pt-br",
        dedupe_key="r1",
        context=order_context(product_name="Café"),
        customer_id=customer.pk,
    )
    assert notification_send(notification_id=reminder.pk) == "sent"
    message = mailoutbox[0]
    url = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert url in message.body
    path = url.split("://", 1)[1].split("/", 1)[1]

    page = client.get(f"/{path}")
    assert page.status_code == 200
    customer.refresh_from_db()
    assert customer.marketing_opted_out_at is None  # GET only asks

    done = client.post(f"/{path}")
    assert done.status_code == 200
    customer.refresh_from_db()
    other.refresh_from_db()
    assert customer.marketing_opted_out_at is not None
    assert other.marketing_opted_out_at is None
    assert customer.audit_entries.filter(action="marketing_opt_out").count() == 1


def test_a_forged_unsubscribe_link_changes_nothing(customer, client):
    response = client.post("/unsubscribe/not-a-token/")
    assert response.status_code == 400
    customer.refresh_from_db()
    assert customer.marketing_opted_out_at is None


def test_order_mail_does_not_carry_an_unsubscribe_link(customer, mailoutbox):
    n = queued(
        kind="order_received",
        to_email=customer.email,
        language="pt-br",
        dedupe_key="o1",
        context=order_context(),
        customer_id=customer.pk,
    )
    notification_send(notification_id=n.pk)
    assert "List-Unsubscribe" not in mailoutbox[0].extra_headers
    assert "/unsubscribe/" not in mailoutbox[0].body
