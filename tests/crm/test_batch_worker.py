"""The batch send against a REAL Redis, REAL Celery workers and a REAL SMTP server: a
worker killed in the middle of a chunk leaves its rows claimed; the redelivered task
sends nothing while the claim holds; once it runs out the sweep sends every row, and the
only copies are the messages that went out before the crash (at most one chunk)."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from crm.models import Notification
from crm.services import notification_sweep
from crm.tasks import notification_send_batch_task
from tests.factories.core import CustomerFactory
from tests.factories.crm import order_context, order_notification
from tests.integration.worker import (
    CeleryWorker,
    purge_queue,
    wait_until,
)

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


def test_worker_killed_mid_chunk_resends_at_most_that_chunk_after_the_claim_runs_out(
    worker_queue, smtp_sink
):
    customer = CustomerFactory.create(email="lote@example.com")
    ids = []
    with transaction.atomic():
        for n in range(3):
            notification = order_notification(
                customer,
                n,
                kind="shipped",
                dedupe_key=f"order:{n}:shipped",
                context=order_context(order_number=str(5000 + n)),
            )
            ids.append(notification.pk)
    purge_queue(worker_queue)  # their per-row tasks were lost: only the batch task below runs
    env = {"CELERY_VISIBILITY_TIMEOUT": "5", "RG_TEST_RESTORE_INTERVAL": "2"}
    first = CeleryWorker(
        queue=worker_queue, smtp_url=smtp_sink.url, extra_env=env, slow_send_seconds=2
    )
    second = CeleryWorker(queue=worker_queue, smtp_url=smtp_sink.url, extra_env=env)
    try:
        first.start().wait_ready()
        notification_send_batch_task.delay(ids)
        # when: the worker dies after the first message went out, before the chunk's mark
        smtp_sink.wait_for(1, timeout=60)
        first.kill()
        rows = Notification.objects.filter(pk__in=ids)
        assert {r.status for r in rows} == {"pending"}
        assert all(r.claimed_until and r.claimed_until > timezone.now() for r in rows)

        # then: the redelivered task (acks_late) finds the rows claimed and sends nothing
        second.start().wait_ready()
        time.sleep(8)  # past the 5 s visibility timeout: the task came back and ran
        assert smtp_sink.count() == 1
        # nor does the sweep hand them out while the claim holds, however stale they are
        Notification.objects.filter(pk__in=ids).update(
            enqueued_at=timezone.now() - timedelta(minutes=10)
        )
        assert notification_sweep() == 0

        # when the claim has run out, the sweep hands the rows to the live worker
        Notification.objects.filter(pk__in=ids).update(
            claimed_until=timezone.now() - timedelta(seconds=1)
        )
        assert notification_sweep() == 3
        smtp_sink.wait_for(4, timeout=60)
        wait_until(lambda: Notification.objects.filter(status="sent").count() == 3, timeout=30)
        time.sleep(3)

        # every row went out; the one copy is the message sent before the crash
        copies = Counter(int(v) for v in smtp_sink.header_values("X-Retaguarda-Notification"))
        assert sorted(copies) == sorted(ids)
        assert smtp_sink.count() == 4
        assert sum(n - 1 for n in copies.values()) == 1
        assert set(Notification.objects.filter(pk__in=ids).values_list("attempts", flat=True)) == {
            1
        }
    finally:
        first.kill()
        first.stop()
        second.stop()
