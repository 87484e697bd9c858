"""logistics' Celery tasks: load by id, call a service, safe to run twice."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from logistics.services.shipments import order_shipments_cancel
from logistics.services.tracking import tracking_poll
from logistics.services.watchdog import delay_watch
from logistics.services.webhooks import (
    OutboundWebhookError,
    outbound_webhook_send,
    outbound_webhook_sweep,
)


@shared_task(
    bind=True,
    name="logistics.outbound_webhook_send",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OutboundWebhookError,),
    retry_backoff=getattr(settings, "OUTBOUND_WEBHOOK_RETRY_BACKOFF", 30),
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=max(getattr(settings, "OUTBOUND_WEBHOOK_MAX_ATTEMPTS", 8) - 1, 0),
)
def outbound_webhook_send_task(self, webhook_id: int) -> str:
    """POST one status webhook; a sent row is skipped, a failure retries with back-off."""
    return outbound_webhook_send(webhook_id=webhook_id)


@shared_task(name="logistics.outbound_webhook_sweep", acks_late=True)
def outbound_webhook_sweep_task() -> int:
    return outbound_webhook_sweep()


@shared_task(name="logistics.tracking_poll", acks_late=True)
def tracking_poll_task() -> dict:
    """Beat: ask carriers with a tracking API about parcels in transit."""
    return tracking_poll().as_dict()


@shared_task(name="logistics.delay_watch", acks_late=True)
def delay_watch_task() -> int:
    """Beat: raise delay alerts (each once per shipment and kind)."""
    return len(delay_watch())


@shared_task(name="logistics.order_shipments_cancel", acks_late=True)
def order_shipments_cancel_task(order_id: int) -> int:
    """A cancelled order's shipments that have not left are cancelled."""
    return order_shipments_cancel(order_id=order_id)
