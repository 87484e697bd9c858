"""The batch send's claim: one UPDATE takes a chunk of rows, one UPDATE marks them sent.

Nobody else sends a claimed row (per-row task, another batch, the sweep); a claim left by
a worker that died runs out and the sweep sends the row again; a live sender that runs
long releases what it has not sent; the outbox INSERT is one statement.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.models import Notification
from crm.services import notification_queue, notification_send, notification_sweep
from crm.services.notifications import _claim, notification_send_batch
from tests.factories.crm import order_context, order_notification

pytestmark = pytest.mark.django_db


def _statements(ctx: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"].split()[0].upper()
        for q in ctx.captured_queries
        if "SAVEPOINT" not in q["sql"].upper()
    ]


def _crashed_sender_claims(ids: list[int]) -> list[int]:
    """What a worker leaves behind when it dies after its claim committed."""
    now = timezone.now()
    return _claim(ids, now=now, until=now + timedelta(minutes=5))


def test_a_chunk_costs_a_claim_a_read_and_one_mark_sent(customer, mailoutbox):
    ids = [order_notification(customer, n).pk for n in range(5)]

    with CaptureQueriesContext(connection) as ctx:
        outcomes = notification_send_batch(notification_ids=ids)

    assert outcomes == {"sent": 5}
    assert _statements(ctx) == ["UPDATE", "SELECT", "WITH"]
    assert len(mailoutbox) == 5
    rows = Notification.objects.filter(pk__in=ids)
    assert {(r.status, r.attempts, r.claimed_until) for r in rows} == {("sent", 1, None)}
    assert all(r.sent_at is not None and "#100" in r.subject for r in rows)


def test_the_batch_goes_by_chunks_of_the_batch_size(customer, mailoutbox, settings):
    settings.NOTIFICATION_SEND_BATCH_SIZE = 2
    ids = [order_notification(customer, n).pk for n in range(5)]

    with CaptureQueriesContext(connection) as ctx:
        assert notification_send_batch(notification_ids=ids) == {"sent": 5}

    # three chunks (2 + 2 + 1): the duplicate window of a crash is one chunk
    assert _statements(ctx) == ["UPDATE", "SELECT", "WITH"] * 3
    assert len(mailoutbox) == 5


def test_the_sweep_hands_over_task_rows_and_the_task_commits_by_chunks(
    customer, mailoutbox, settings, monkeypatch
):
    # given: tasks of 5 rows, chunks of 2 (the duplicate window of a crash stays 2)
    settings.NOTIFICATION_SEND_TASK_ROWS = 5
    settings.NOTIFICATION_SEND_BATCH_SIZE = 2
    ids = [order_notification(customer, n).pk for n in range(7)]
    from crm.tasks import notification_send_batch_task

    tasks: list[list[int]] = []
    monkeypatch.setattr(notification_send_batch_task, "delay", lambda ids: tasks.append(ids))

    # when: the sweep finds them
    assert notification_sweep(now=timezone.now() + timedelta(minutes=6)) == 7

    # then: two tasks (5 + 2 rows), and the first sends its rows in three chunks
    assert tasks == [ids[:5], ids[5:]]
    with CaptureQueriesContext(connection) as ctx:
        assert notification_send_batch(notification_ids=tasks[0]) == {"sent": 5}
    assert _statements(ctx) == ["UPDATE", "SELECT", "WITH"] * 3
    assert len(mailoutbox) == 5


def test_nobody_sends_a_row_another_sender_holds(customer, mailoutbox):
    rows = [order_notification(customer, n) for n in range(3)]
    ids = [row.pk for row in rows]
    assert _crashed_sender_claims(ids[:2]) == ids[:2]

    # the per-row task, another batch and the sweep all leave the held rows alone
    assert notification_send(notification_id=ids[0]) == "locked"
    assert notification_send_batch(notification_ids=ids) == {"locked": 2, "sent": 1}
    Notification.objects.filter(pk__in=ids).update(
        enqueued_at=timezone.now() - timedelta(minutes=10)
    )
    assert notification_sweep() == 0
    assert [m.extra_headers["X-Retaguarda-Notification"] for m in mailoutbox] == [str(ids[2])]
    assert set(Notification.objects.filter(pk__in=ids[:2]).values_list("status", flat=True)) == {
        "pending"
    }


def test_a_dead_senders_claim_runs_out_and_the_sweep_sends_the_rows_once(customer, mailoutbox):
    ids = [order_notification(customer, n).pk for n in range(3)]
    _crashed_sender_claims(ids)
    # the redelivered batch task (acks_late, reject_on_worker_lost) finds them held
    assert notification_send_batch(notification_ids=ids) == {"locked": 3}
    assert mailoutbox == []

    # when: the claim has run out (5 minutes later)
    later = timezone.now() + timedelta(minutes=6)
    Notification.objects.filter(pk__in=ids).update(
        claimed_until=timezone.now() - timedelta(seconds=1)
    )
    enqueued = notification_sweep(now=later)

    # then: each row is sent once, on its first counted attempt
    assert enqueued == 3
    assert sorted(int(m.extra_headers["X-Retaguarda-Notification"]) for m in mailoutbox) == ids
    rows = Notification.objects.filter(pk__in=ids)
    assert {(r.status, r.attempts, r.claimed_until) for r in rows} == {("sent", 1, None)}
    assert notification_sweep(now=later + timedelta(minutes=10)) == 0
    assert len(mailoutbox) == 3


def test_a_sender_past_half_its_claim_releases_the_rest_unsent(customer, mailoutbox, settings):
    settings.NOTIFICATION_CLAIM_SECONDS = 0  # half the claim is gone before the first row
    ids = [order_notification(customer, n).pk for n in range(3)]

    assert notification_send_batch(notification_ids=ids) == {"released": 3}

    assert mailoutbox == []
    rows = Notification.objects.filter(pk__in=ids)
    assert {(r.status, r.attempts, r.claimed_until, r.enqueued_at) for r in rows} == {
        ("pending", 0, None, None)
    }


def test_a_row_to_skip_is_skipped_without_an_attempt(customer, mailoutbox):
    keep = order_notification(customer, 1)
    skip = order_notification(
        customer, 2, kind="review_request", dedupe_key="order:2:review_request"
    )
    customer.marketing_opted_out_at = timezone.now()
    customer.save(update_fields=["marketing_opted_out_at"])

    outcomes = notification_send_batch(notification_ids=[keep.pk, skip.pk])

    assert outcomes == {"sent": 1, "skipped": 1}
    skip.refresh_from_db()
    assert (skip.status, skip.attempts, skip.claimed_until) == ("skipped", 0, None)
    assert "opted out" in skip.last_error
    assert len(mailoutbox) == 1


def test_a_missing_row_is_reported_and_the_others_sent(customer, mailoutbox):
    row = order_notification(customer, 1)
    assert notification_send_batch(notification_ids=[row.pk, 999_999]) == {
        "missing": 1,
        "sent": 1,
    }


# --- queueing: one statement ---------------------------------------------------------------


def test_queueing_is_one_insert_and_a_duplicate_one_more(
    customer, django_capture_on_commit_callbacks
):
    with transaction.atomic():
        with CaptureQueriesContext(connection) as ctx:
            first = order_notification(customer, 1)
        with CaptureQueriesContext(connection) as dup:
            second = notification_queue(
                kind="order_received",
                to_email=customer.email,
                language="pt-br",
                dedupe_key="order:1:order_received",
                context={},
            )

    assert [q["sql"].split()[0].upper() for q in ctx.captured_queries] == ["INSERT"]
    assert "ON CONFLICT" in ctx.captured_queries[0]["sql"].upper()
    assert len(dup.captured_queries) == 1
    assert second is None
    assert Notification.objects.count() == 1
    # the returned row is the stored one
    stored = Notification.objects.get(pk=first.pk)
    for field in ("kind", "to_email", "language", "dedupe_key", "context", "status", "order_id"):
        assert getattr(first, field) == getattr(stored, field)
    assert first.customer_id == stored.customer_id == customer.pk
    assert first.enqueued_at == stored.enqueued_at is not None
    assert first.created_at == stored.created_at
    assert first._state.adding is False


def test_the_insert_keeps_skipped_and_scheduled_rows_as_before(customer, mailoutbox):
    later = timezone.now() + timedelta(days=2)
    scheduled = order_notification(customer, 1, send_after=later)
    skipped = order_notification(customer, 2, to_email="")

    scheduled.refresh_from_db()
    skipped.refresh_from_db()
    assert (scheduled.status, scheduled.send_after, scheduled.enqueued_at) == (
        "pending",
        later,
        None,
    )
    assert (skipped.status, skipped.last_error, skipped.enqueued_at) == (
        "skipped",
        "no e-mail address",
        None,
    )


def test_a_delivered_row_and_its_follow_ups_go_in_together(customer):
    context = order_context()
    context["lines"] = [{"sku": "CAFE", "name": "Café", "quantity": 1, "consumption_days": 30}]
    delivered = order_notification(
        customer, 1, kind="delivered", dedupe_key="order:1:delivered", context=context
    )
    again = notification_queue(
        kind="delivered",
        to_email=customer.email,
        language="pt-br",
        dedupe_key="order:1:delivered",
        context=context,
        order_id=1,
    )
    assert again is None
    kinds = sorted(Notification.objects.values_list("kind", flat=True))
    assert kinds == ["delivered", "repurchase_reminder", "survey"]
    assert delivered.pk is not None
