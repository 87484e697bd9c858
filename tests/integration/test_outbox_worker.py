"""The outbox against a REAL Redis, REAL Celery workers and a REAL SMTP server.

Nothing lost, nothing twice: a rolled-back change sends nothing; a broker that is down at
commit delays the e-mail until the sweep, which sends it once; a worker killed while
sending leaves the message to be redelivered (acks_late) and sent once; 200 status
e-mails with every task delivered twice to two workers arrive 200 times, never twice; so do
60 lost tasks swept in batch tasks, every batch delivered twice.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from crm.models import Notification
from crm.services import notification_queue, notification_sweep
from crm.tasks import notification_send_batch_task, notification_send_task, notification_sweep_task
from tests.factories.core import CustomerFactory
from tests.factories.crm import order_context
from tests.integration.worker import (
    CeleryWorker,
    broker_at,
    free_port,
    purge_queue,
    wait_until,
)

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

KINDS = ["order_received", "payment_confirmed", "shipped", "delivery_delayed", "cancelled"]


@pytest.fixture
def customer():
    return CustomerFactory.create(email="cliente@example.com", name="Cliente Teste")


def _queue(customer, key, kind="order_received"):
    with transaction.atomic():
        return notification_queue(
            kind=kind,
            to_email=customer.email,
            language="pt-br",
            dedupe_key=key,
            context=order_context(),
            customer_id=customer.pk,
            order_id=1,
        )


def _status(pk):
    return Notification.objects.values_list("status", flat=True).get(pk=pk)


def _locked(pk) -> bool:
    try:
        with transaction.atomic():
            list(Notification.objects.select_for_update(nowait=True).filter(pk=pk))
    except DatabaseError:
        return True
    return False


def test_a_rolled_back_change_sends_nothing(worker_queue, smtp_sink, customer):
    worker = CeleryWorker(queue=worker_queue, smtp_url=smtp_sink.url)
    try:
        worker.start().wait_ready()
        # when
        with pytest.raises(RuntimeError), transaction.atomic():
            notification_queue(
                kind="order_received",
                to_email=customer.email,
                language="pt-br",
                dedupe_key="rolled-back",
                context=order_context(),
                customer_id=customer.pk,
            )
            raise RuntimeError("the order failed after queueing its e-mail")
        marker = _queue(customer, "marker")  # committed after it, same worker_queue (FIFO)
        # then
        smtp_sink.wait_for(1, timeout=60)
        wait_until(lambda: _status(marker.pk) == "sent", timeout=30)
        time.sleep(1)
        assert smtp_sink.header_values("X-Retaguarda-Notification") == [str(marker.pk)]
        assert not Notification.objects.filter(dedupe_key="rolled-back").exists()
    finally:
        worker.stop()


def test_broker_down_at_commit_then_back_the_sweep_sends_exactly_once(
    worker_queue, smtp_sink, customer
):
    # given: the broker is unreachable when the change commits
    closed = f"redis://127.0.0.1:{free_port()}/0"
    with broker_at(closed):
        notification = _queue(customer, "order:1:order_received")  # must not raise
    assert _status(notification.pk) == "pending"

    worker = CeleryWorker(
        queue=worker_queue,
        smtp_url=smtp_sink.url,
        extra_env={"NOTIFICATION_SWEEP_AFTER_MINUTES": "0"},
    )
    try:
        worker.start().wait_ready()
        time.sleep(2)
        assert smtp_sink.count() == 0  # nothing was enqueued while the broker was down
        # when: the beat's sweep runs (twice, as beats do)
        notification_sweep_task.delay()
        notification_sweep_task.delay()
        # then
        smtp_sink.wait_for(1, timeout=60)
        wait_until(lambda: _status(notification.pk) == "sent", timeout=30)
        notification_sweep_task.delay()
        time.sleep(3)
        assert smtp_sink.count() == 1
        assert smtp_sink.messages[0]["To"] == "cliente@example.com"
    finally:
        worker.stop()


def test_worker_killed_mid_send_then_restarted_sends_exactly_once(
    worker_queue, smtp_sink, customer
):
    # Short visibility timeout: Redis hands unacknowledged tasks out again after 5 s.
    env = {"CELERY_VISIBILITY_TIMEOUT": "5", "RG_TEST_RESTORE_INTERVAL": "2"}
    first = CeleryWorker(
        queue=worker_queue, smtp_url=smtp_sink.url, extra_env=env, slow_send_seconds=120
    )
    second = CeleryWorker(queue=worker_queue, smtp_url=smtp_sink.url, extra_env=env)
    try:
        first.start().wait_ready()
        notification = _queue(customer, "order:1:shipped", kind="shipped")
        # the task is running: it holds the row lock, sleeping before the SMTP hand-off
        wait_until(lambda: _locked(notification.pk), timeout=60)
        # when: the worker dies (no ack, no clean-up)
        first.kill()
        wait_until(lambda: not _locked(notification.pk), timeout=30)
        assert smtp_sink.count() == 0
        assert _status(notification.pk) == "pending"
        second.start().wait_ready()
        # then: the unacknowledged task is redelivered and sent once
        smtp_sink.wait_for(1, timeout=120)
        wait_until(lambda: _status(notification.pk) == "sent", timeout=30)
        time.sleep(6)  # past another visibility timeout: nothing else arrives
        assert smtp_sink.count() == 1
        notification.refresh_from_db()
        assert notification.attempts == 1  # the killed attempt rolled back
    finally:
        first.kill()
        first.stop()
        second.stop()


def test_200_status_changes_give_200_emails_none_twice(worker_queue, smtp_sink):
    customers = [CustomerFactory.create(email=f"c{i}@example.com") for i in range(40)]
    workers = [CeleryWorker(queue=worker_queue, smtp_url=smtp_sink.url) for _ in range(2)]
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.wait_ready()
        ids = []
        for i in range(200):
            customer = customers[i // 5]
            kind = KINDS[i % 5]
            notification = _queue(customer, f"order:{1000 + i // 5}:{kind}", kind=kind)
            ids.append(notification.pk)
            # the same status change reported again queues nothing
            assert _queue(customer, f"order:{1000 + i // 5}:{kind}", kind=kind) is None
        # every task delivered a second time, to whichever worker takes it
        for pk in ids:
            notification_send_task.delay(pk)

        smtp_sink.wait_for(200, timeout=240)
        wait_until(lambda: Notification.objects.filter(status="sent").count() == 200, timeout=60)
        time.sleep(3)
        sent = smtp_sink.header_values("X-Retaguarda-Notification")
        assert len(sent) == 200
        assert sorted(int(v) for v in sent) == sorted(ids)
        assert len(set(smtp_sink.header_values("Message-ID"))) == 200
    finally:
        for worker in workers:
            worker.stop()


def test_lost_tasks_swept_in_batches_twice_to_two_workers_give_each_email_once(
    worker_queue, smtp_sink, settings
):
    # given: 60 committed rows whose tasks were lost (the broker restarted empty)
    settings.NOTIFICATION_SEND_TASK_ROWS = 7
    customers = [CustomerFactory.create(email=f"b{i}@example.com") for i in range(12)]
    ids = [
        _queue(customers[i // 5], f"order:{2000 + i // 5}:{KINDS[i % 5]}", kind=KINDS[i % 5]).pk
        for i in range(60)
    ]
    purge_queue(worker_queue)
    workers = [CeleryWorker(queue=worker_queue, smtp_url=smtp_sink.url) for _ in range(2)]
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.wait_ready()
        # when: the sweep enqueues batch tasks, and every batch is delivered a second time
        assert notification_sweep(now=timezone.now() + timedelta(minutes=6)) == 60
        for start in range(0, 60, 7):
            notification_send_batch_task.delay(ids[start : start + 7])
        # then
        smtp_sink.wait_for(60, timeout=240)
        wait_until(lambda: Notification.objects.filter(status="sent").count() == 60, timeout=60)
        time.sleep(3)
        sent = smtp_sink.header_values("X-Retaguarda-Notification")
        assert sorted(int(v) for v in sent) == sorted(ids)
        assert len(set(smtp_sink.header_values("Message-ID"))) == 60
        assert set(Notification.objects.values_list("attempts", flat=True)) == {1}
    finally:
        for worker in workers:
            worker.stop()


def test_a_burst_inside_the_enqueue_window_gives_every_email_once(
    worker_queue, smtp_sink, settings, monkeypatch
):
    # given the production window: in a burst, one publish and one sweep per window
    from crm.services import notifications as outbox

    settings.NOTIFICATION_ENQUEUE_WINDOW_SECONDS = 1
    monkeypatch.setattr(outbox, "_enqueue_window", outbox._EnqueueWindow())
    customers = [CustomerFactory.create(email=f"w{i}@example.com") for i in range(10)]
    worker = CeleryWorker(queue=worker_queue, smtp_url=smtp_sink.url)
    try:
        worker.start().wait_ready()
        # when 50 status e-mails are queued as fast as orders arrive
        ids = [
            _queue(customers[i // 5], f"order:{3000 + i // 5}:{KINDS[i % 5]}", kind=KINDS[i % 5]).pk
            for i in range(50)
        ]
        deferred = Notification.objects.filter(pk__in=ids, enqueued_at__isnull=True).count()
        assert deferred > 0  # the window left them to its sweep

        # then every one arrives, once, without waiting for beat's periodic sweep
        smtp_sink.wait_for(50, timeout=50)
        wait_until(lambda: Notification.objects.filter(status="sent").count() == 50, timeout=30)
        time.sleep(2)
        sent = smtp_sink.header_values("X-Retaguarda-Notification")
        assert sorted(int(v) for v in sent) == sorted(ids)
    finally:
        worker.stop()


def test_a_worker_stopped_during_a_failure_leaves_its_log_on_stderr(capsys):
    # the test harness itself: a worker's log is deleted on stop, except that a stop in
    # the ``finally`` of a failing test first shows its tail (never started: no process)
    quiet, failing = (CeleryWorker(queue="unused", smtp_url="smtp://127.0.0.1:1") for _ in "ab")
    quiet.log.write_text("quiet worker's line\n")
    failing.log.write_text("what the worker said before the failure\n")

    quiet.stop()
    with pytest.raises(AssertionError):
        try:
            raise AssertionError("a test failed")
        finally:
            failing.stop()

    err = capsys.readouterr().err
    assert "what the worker said before the failure" in err
    assert "quiet worker's line" not in err
    assert not quiet.log.exists() and not failing.log.exists()
