"""crm's Celery tasks: load by id, call a service, safe to run twice."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from crm.services.notifications import (
    NotificationSendError,
    notification_send,
    notification_send_batch,
    notification_sweep,
)

# Both send tasks: acknowledged after they ran (a killed worker's task comes back),
# retried with back-off on a failed send. Nobody reads the outcome (it is on the row);
# storing it cost a Redis write per e-mail.
SEND_TASK_OPTIONS: dict[str, Any] = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (NotificationSendError,),
    "retry_backoff": 30,
    "retry_backoff_max": 1800,
    "retry_jitter": True,
    "max_retries": 7,
    "ignore_result": True,
}


@shared_task(name="crm.notification_send", **SEND_TASK_OPTIONS)
def notification_send_task(self, notification_id: int) -> str:
    """Send one outbox row; a redelivery or a second copy of the task sends nothing."""
    return notification_send(notification_id=notification_id)


@shared_task(name="crm.notification_send_batch", **SEND_TASK_OPTIONS)
def notification_send_batch_task(self, notification_ids: list[int]) -> dict[str, int]:
    """Send several outbox rows: claimed in one UPDATE, sent over one SMTP connection,
    marked sent in one UPDATE (notification_send_batch). A redelivery skips the rows
    already sent or still claimed; a row that fails is retried on its own by the sweep."""
    return notification_send_batch(notification_ids=notification_ids)


# Rows one sweep pass picks; the task runs passes until a pass finds fewer.
SWEEP_PASS_ROWS = 1000
SWEEP_MAX_PASSES = 100


@shared_task(name="crm.notification_sweep", acks_late=True)
def notification_sweep_task() -> int:
    """Beat, and the end of each burst window: enqueue every pending row that is due and
    not enqueued (stale, scheduled and come due, or left to the window), pass after pass,
    so a burst bigger than one pass does not wait for the next beat."""
    total = 0
    for _ in range(SWEEP_MAX_PASSES):
        found = notification_sweep(limit=SWEEP_PASS_ROWS)
        total += found
        if found < SWEEP_PASS_ROWS:
            break
    return total


@shared_task(name="crm.rfm_compute", acks_late=True)
def rfm_compute_task() -> int:
    """Beat: recompute the RFM scores and segments of every customer."""
    from crm.services.segments import rfm_compute

    return rfm_compute()
