from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from backoffice.celery import app
from crm.models import Notification
from crm.tasks import notification_sweep_task, rfm_compute_task
from tests.factories.crm import order_context, order_notification, queued


def test_every_beat_entry_names_a_registered_task():
    app.loader.import_default_modules()
    crm_entries = {k: v for k, v in settings.CELERY_BEAT_SCHEDULE.items() if k.startswith("crm-")}
    assert {v["task"] for v in crm_entries.values()} == {
        "crm.notification_sweep",
        "crm.rfm_compute",
    }
    for entry in crm_entries.values():
        assert entry["task"] in app.tasks


@pytest.mark.django_db
def test_the_sweep_task_sends_a_survey_that_came_due(customer, mailoutbox):
    survey = queued(
        kind="survey",
        to_email=customer.email,
        language="pt-br",
        dedupe_key="order:3:survey",
        context=order_context(),
        customer_id=customer.pk,
        send_after=timezone.now() + timedelta(days=7),
    )
    assert notification_sweep_task.apply().get() == 0
    Notification.objects.filter(pk=survey.pk).update(
        send_after=timezone.now() - timedelta(minutes=1)
    )

    assert notification_sweep_task.apply().get() == 1

    survey.refresh_from_db()
    assert survey.status == Notification.Status.SENT
    assert "/survey/" in mailoutbox[0].body
    assert rfm_compute_task.apply().get() == 0


@pytest.mark.django_db
def test_the_sweep_task_runs_passes_until_nothing_waits(customer, mailoutbox, monkeypatch):
    # given more waiting rows than one pass takes (a burst left to its window's sweep)
    from crm import tasks

    monkeypatch.setattr(tasks, "SWEEP_PASS_ROWS", 7)
    for n in range(20):
        row = order_notification(customer, n)
        Notification.objects.filter(pk=row.pk).update(enqueued_at=None, status="pending")
    mailoutbox.clear()

    # then one sweep task enqueues (here: sends, Celery is eager) all of them
    assert notification_sweep_task.apply().get() == 20
    assert Notification.objects.filter(status="sent").count() == 20
    assert len(mailoutbox) == 20
