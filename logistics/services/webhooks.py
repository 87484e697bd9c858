"""Outbound status webhooks to the store (transactional outbox).

The row is written in the same transaction as the shipment change; the send task is
enqueued on commit and a periodic sweep re-enqueues rows still pending (broker down,
worker lost). ``outbound_webhook_send`` locks the row and skips what is already sent,
records every attempt, and raises ``OutboundWebhookError`` after commit so the Celery
task retries with back-off.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from datetime import timedelta
from typing import Any

from celery.exceptions import Retry
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from logistics.models import OutboundWebhook, OutboundWebhookAttempt, Shipment
from logistics.services.common import setting
from orders.models import Order

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Retaguarda-Signature"


class OutboundWebhookError(Exception):
    """The store did not accept the webhook (non-2xx or network error): retry later."""


def webhook_body(payload: dict[str, Any]) -> bytes:
    return json.dumps(
        payload, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":")
    ).encode()


def webhook_signature(body: bytes, secret: str) -> str:
    """``sha256=<hex HMAC-SHA256 of the raw body with the channel's webhook secret>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _payload(order: Order, shipment: Shipment, event: str) -> dict[str, Any]:
    carrier = shipment.method.carrier if shipment.method_id and shipment.method else None
    return {
        "event": f"shipment.{event}",
        "order": {"id": order.pk, "external_id": order.external_id, "number": order.number},
        "shipment": {
            "id": shipment.pk,
            "status": shipment.status,
            "carrier": carrier.name if carrier else "",
            "method": shipment.method.code if shipment.method else "",
            "promised_date": shipment.promised_date,
            "shipped_at": shipment.shipped_at,
            "delivered_at": shipment.delivered_at,
            "lines": [
                {
                    "sku": line.order_line.sku,
                    "external_line_id": line.order_line.external_id,
                    "quantity": line.quantity,
                }
                for line in shipment.lines.select_related("order_line").order_by("id")
            ],
            "parcels": [
                {
                    "tracking_code": p.tracking_code,
                    "tracking_url": carrier.tracking_url(p.tracking_code) if carrier else "",
                }
                for p in shipment.parcels.order_by("id")
            ],
        },
    }


def outbound_webhook_queue(
    *, order: Order, shipment: Shipment, event: str
) -> OutboundWebhook | None:
    """Write the outbox row in the caller's transaction (only when the channel has a
    status webhook URL); once per (shipment, event)."""
    channel = order.channel
    if not channel.outbound_webhook_url:
        return None
    try:
        with transaction.atomic():
            webhook = OutboundWebhook.objects.create(
                channel=channel,
                shipment=shipment,
                event=event,
                url=channel.outbound_webhook_url,
                payload=json.loads(webhook_body(_payload(order, shipment, event))),
                enqueued_at=timezone.now(),
            )
    except IntegrityError:
        return None
    webhook_id = webhook.pk
    transaction.on_commit(lambda: outbound_webhook_enqueue(webhook_id=webhook_id))
    return webhook


def outbound_webhook_enqueue(*, webhook_id: int) -> bool:
    from logistics.tasks import outbound_webhook_send_task

    try:
        outbound_webhook_send_task.delay(webhook_id)
    except (OutboundWebhookError, Retry):
        # Eager mode (embedded demo, tests): the task ran inline, the store refused it
        # and the retry cannot be scheduled in-process; the row stays pending for the
        # sweep (beat) rather than hammering the store in a loop.
        return False
    except Exception:
        logger.exception("could not enqueue webhook %s; the sweep will retry", webhook_id)
        return False
    return True


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
    if not url.startswith(("http://", "https://")):
        return None, f"refused URL scheme: {url[:20]}"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=setting("OUTBOUND_WEBHOOK_TIMEOUT", 10)) as r:  # noqa: S310
            return r.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return None, str(getattr(exc, "reason", exc))[:500]


def outbound_webhook_send(*, webhook_id: int) -> str:
    """POST one outbox row, signed; returns its status. Raises OutboundWebhookError
    (after recording the attempt) when it should be retried."""
    skip_locked = connection.features.has_select_for_update_skip_locked
    with transaction.atomic():
        webhook = (
            OutboundWebhook.objects.select_for_update(skip_locked=skip_locked)
            .select_related("channel")
            .filter(pk=webhook_id)
            .first()
        )
        if webhook is None:
            return "locked"
        if webhook.status != OutboundWebhook.Status.PENDING:
            return webhook.status
        body = webhook_body(webhook.payload)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Retaguarda-Webhooks/1",
            "X-Retaguarda-Event": f"shipment.{webhook.event}",
            "X-Retaguarda-Delivery": str(webhook.pk),
            SIGNATURE_HEADER: webhook_signature(body, webhook.channel.webhook_secret),
        }
        started = time.monotonic()
        status_code, error = _post(webhook.url, body, headers)
        OutboundWebhookAttempt.objects.create(
            webhook=webhook,
            status_code=status_code,
            error=error,
            duration_ms=int((time.monotonic() - started) * 1000),
        )
        webhook.attempts += 1
        ok = status_code is not None and 200 <= status_code < 300
        if ok:
            webhook.status = OutboundWebhook.Status.SENT
            webhook.sent_at = timezone.now()
            webhook.last_error = ""
        else:
            webhook.last_error = error or f"HTTP {status_code}"
            if webhook.attempts >= setting("OUTBOUND_WEBHOOK_MAX_ATTEMPTS", 8):
                webhook.status = OutboundWebhook.Status.FAILED
        webhook.save(update_fields=["attempts", "status", "sent_at", "last_error"])
        status = webhook.status
    if status == OutboundWebhook.Status.PENDING:
        raise OutboundWebhookError(f"webhook {webhook_id}: {webhook.last_error}")
    return status


def outbound_webhook_retry(*, webhook_id: int) -> OutboundWebhook:
    """Admin: give a failed row another round of attempts."""
    with transaction.atomic():
        webhook = OutboundWebhook.objects.select_for_update().get(pk=webhook_id)
        if webhook.status == OutboundWebhook.Status.FAILED:
            webhook.status = OutboundWebhook.Status.PENDING
            webhook.attempts = 0
            webhook.enqueued_at = timezone.now()
            webhook.save(update_fields=["status", "attempts", "enqueued_at"])
            transaction.on_commit(lambda: outbound_webhook_enqueue(webhook_id=webhook_id))
    return webhook


def outbound_webhook_sweep(*, now: Any = None) -> int:
    """Re-enqueue pending rows not enqueued for a few minutes; returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=setting("NOTIFICATION_SWEEP_AFTER_MINUTES", 5))
    ids = list(
        OutboundWebhook.objects.filter(
            status=OutboundWebhook.Status.PENDING, enqueued_at__lt=cutoff
        ).values_list("pk", flat=True)[:500]
    )
    OutboundWebhook.objects.filter(pk__in=ids).update(enqueued_at=now)
    for webhook_id in ids:
        outbound_webhook_enqueue(webhook_id=webhook_id)
    return len(ids)
