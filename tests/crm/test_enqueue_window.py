"""The outbox's burst window: one broker publish per window instead of one per e-mail,
and still every e-mail enqueued, once (crm.services.notifications._EnqueueWindow).

Celery's publish is the broker boundary: these tests record what would be published;
tests/integration/test_outbox_worker.py runs the window against a real worker."""

from __future__ import annotations

import time

import pytest
from celery import current_app
from django.db import transaction

from crm.models import Notification
from crm.services import notification_sweep
from crm.services import notifications as outbox
from crm.tasks import notification_send_batch_task, notification_send_task, notification_sweep_task
from tests.concurrency import run_threads
from tests.factories.core import CustomerFactory
from tests.factories.crm import order_notification


@pytest.fixture
def published(monkeypatch, settings):
    """Celery not eager (as in production), a fresh window, every publish recorded."""
    settings.NOTIFICATION_ENQUEUE_WINDOW_SECONDS = 30
    monkeypatch.setattr(current_app.conf, "task_always_eager", False)
    monkeypatch.setattr(outbox, "_enqueue_window", outbox._EnqueueWindow())
    calls: dict[str, list] = {"send": [], "batch": [], "sweep": []}
    monkeypatch.setattr(notification_send_task, "delay", calls["send"].append)
    monkeypatch.setattr(notification_send_batch_task, "delay", calls["batch"].append)
    monkeypatch.setattr(
        notification_sweep_task, "apply_async", lambda **kw: calls["sweep"].append(kw)
    )
    return calls


def _queue(customer, n: int, *, fail: bool = False):
    try:
        with transaction.atomic():
            row = order_notification(customer, n)
            if fail:
                raise RuntimeError("the order's transaction fails")
            return row
    except RuntimeError:
        return None


def _enqueued_at(row):
    return Notification.objects.values_list("enqueued_at", flat=True).get(pk=row.pk)


@pytest.mark.django_db(transaction=True)
def test_a_burst_publishes_the_first_email_and_one_sweep(published):
    customer = CustomerFactory.create()

    rows = [_queue(customer, n) for n in range(1, 6)]

    # the first e-mail opens the window and goes at once
    assert published["send"] == [rows[0].pk]
    assert _enqueued_at(rows[0]) is not None
    # the others wait for the one sweep scheduled at the window's end (plus a second)
    assert [_enqueued_at(r) for r in rows[1:]] == [None] * 4
    assert len(published["sweep"]) == 1
    assert 29 < published["sweep"][0]["countdown"] <= 31
    # and that sweep enqueues exactly them, in one batch task
    assert notification_sweep() == 4
    assert published["batch"] == [[r.pk for r in rows[1:]]]
    assert all(_enqueued_at(r) is not None for r in rows)


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_email_schedules_no_sweep_and_the_next_one_does(published):
    customer = CustomerFactory.create()
    _queue(customer, 1)

    assert _queue(customer, 2, fail=True) is None
    assert published["sweep"] == []

    third = _queue(customer, 3)
    assert len(published["sweep"]) == 1
    assert _enqueued_at(third) is None
    assert Notification.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_after_the_window_the_next_email_goes_at_once_again(published, settings):
    settings.NOTIFICATION_ENQUEUE_WINDOW_SECONDS = 0.2
    customer = CustomerFactory.create()
    first, second = _queue(customer, 1), _queue(customer, 2)

    time.sleep(0.25)
    third = _queue(customer, 3)

    assert published["send"] == [first.pk, third.pk]
    assert _enqueued_at(second) is None and len(published["sweep"]) == 1


@pytest.mark.django_db(transaction=True)
def test_window_zero_publishes_every_email(published, settings):
    settings.NOTIFICATION_ENQUEUE_WINDOW_SECONDS = 0
    customer = CustomerFactory.create()

    rows = [_queue(customer, n) for n in range(1, 4)]

    assert published["send"] == [r.pk for r in rows]
    assert published["sweep"] == []


@pytest.mark.django_db(transaction=True)
def test_eager_celery_has_no_window(published, monkeypatch):
    monkeypatch.setattr(current_app.conf, "task_always_eager", True)
    customer = CustomerFactory.create()

    rows = [_queue(customer, n) for n in range(1, 4)]

    assert published["send"] == [r.pk for r in rows]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_enqueue_each_waiting_row_once(published, settings):
    # given 60 rows left to the window's sweep (one process's window, many sweeps racing:
    # one per process and window, plus beat's)
    settings.NOTIFICATION_SEND_TASK_ROWS = 5
    customer = CustomerFactory.create()
    rows = [_queue(customer, n) for n in range(1, 62)][1:]

    counts, errors = run_threads(6, lambda _i: notification_sweep())

    assert errors == []
    assert sum(counts) == 60
    enqueued = [pk for batch in published["batch"] for pk in batch]
    assert sorted(enqueued) == sorted(r.pk for r in rows)
