"""Concurrent callers on real PostgreSQL: one outbox row per dedupe key, one ticket."""

from __future__ import annotations

import pytest
from django.db import transaction

from crm.models import Notification, Ticket
from crm.services import notification_queue, ticket_open
from tests.concurrency import run_threads
from tests.factories.core import CustomerFactory
from tests.factories.crm import order_context

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(n, work):
    """``work()`` in n threads at once, each in its own transaction; its results."""

    def run(_i):
        with transaction.atomic():
            return work()

    results, errors = run_threads(n, run)
    assert errors == []
    return results


def test_concurrent_queueing_of_the_same_event_writes_one_row(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    customer = CustomerFactory.create()

    results = _race(
        8,
        lambda: notification_queue(
            kind="shipped",
            to_email=customer.email,
            language="pt-br",
            dedupe_key="order:77:shipped:1",
            context=order_context(),
            customer_id=customer.pk,
        ),
    )

    assert Notification.objects.filter(dedupe_key="order:77:shipped:1").count() == 1
    assert sum(r is not None for r in results) == 1


def test_concurrent_ticket_opening_with_a_dedupe_key_gives_one_ticket():
    customer = CustomerFactory.create()

    results = _race(
        8,
        lambda: ticket_open(customer_id=customer.pk, subject="Atraso", dedupe_key="late:77"),
    )

    assert Ticket.objects.count() == 1
    assert {t.pk for t in results} == {Ticket.objects.get().pk}
