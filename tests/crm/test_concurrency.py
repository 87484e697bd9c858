"""Concurrent callers on real PostgreSQL: one outbox row per dedupe key, one ticket."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from crm.models import Notification, Ticket
from crm.services import notification_queue, ticket_open
from tests.factories.core import CustomerFactory
from tests.factories.crm import order_context

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(n, work):
    barrier = threading.Barrier(n)
    results, errors = [], []

    def run():
        try:
            barrier.wait(timeout=10)
            with transaction.atomic():
                results.append(work())
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
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
