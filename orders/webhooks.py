"""Inbound store webhooks: verify, store first, then process (DESIGN.md, "The hot path").

1. The channel's HMAC is checked over the raw bytes (constant time). A bad or missing
   signature gets 401 and stores nothing but one ``WebhookRejection`` audit row.
2. The raw delivery is INSERTed on its own (autocommit): from then on nothing the platform
   sent can be lost. The unique (channel, delivery id) constraint is the dedupe: a repeat
   gets 200 "duplicate" and nothing more, unless the stored delivery FAILED, in which
   case the repeat (the platform's retry) processes it again.
3. Processing runs in a second transaction: the adapter parses the body (outside any
   transaction: Nuvemshop's adapter calls the platform's API), then ``order_ingest`` and
   the delivery's status change commit together.

Who processes a stored delivery is decided by one conditional UPDATE (``_claim``), so
concurrent retries and admin replays never run the same delivery twice at once; and
``order_ingest`` upserts by (channel, external id), so even a second run converges.
"""

from __future__ import annotations

import ipaddress
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import F, Q
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from backoffice import sql
from backoffice.errors import ApplicationError, ConflictError
from orders.adapters import UnsupportedPlatform, get_adapter
from orders.adapters._common import body_sha256
from orders.adapters.base import Delivery
from orders.models import Channel, WebhookDelivery, WebhookRejection

if TYPE_CHECKING:
    from orders.models import Order

logger = logging.getLogger(__name__)

Status = WebhookDelivery.Status

# Only the headers that identify, sign or describe a delivery are kept with it.
RELEVANT_HEADER_PREFIXES = ("x-shopify-", "x-wc-webhook-", "x-linkedstore-", "x-retaguarda-")
# A delivery still "received" after this long was abandoned mid-processing (process
# killed): a resend or a replay may take it over.
STALE_AFTER = timedelta(minutes=5)


class DeliveryFailed(ApplicationError):
    """Processing a delivery failed; the delivery is kept as failed with ``errors``."""


# --- the view ---------------------------------------------------------------------------


def webhook_receive_view(request: HttpRequest, channel_slug: str) -> JsonResponse:
    """POST /api/webhooks/<channel_slug>/ (csrf-exempt in orders/urls.py)."""
    if request.method != "POST":
        return JsonResponse({"detail": "Method not allowed; use POST."}, status=405)
    channel = sql.select_one(Channel, "slug = %s AND is_active = %s", [channel_slug, True])
    if channel is None:
        return JsonResponse({"detail": "Unknown or inactive channel."}, status=404)
    try:
        adapter = get_adapter(channel.platform)
    except UnsupportedPlatform:
        return JsonResponse({"detail": "This channel's platform takes no webhooks."}, status=501)

    body = request.body
    headers = _relevant_headers(request)
    if adapter.unsigned_ping(headers=headers, body=body):
        return JsonResponse({"status": Status.IGNORED, "detail": "ping"})
    if not adapter.signature_valid(secret=channel.webhook_secret, headers=headers, body=body):
        webhook_rejection_record(
            channel_slug=channel_slug,
            reason="missing signature"
            if not adapter.signature_sent(headers=headers)
            else "signature mismatch",
            remote_addr=request.META.get("REMOTE_ADDR"),
            body=body,
        )
        return JsonResponse({"detail": "Invalid or missing signature."}, status=401)

    delivery, created = delivery_store(
        channel=channel,
        delivery_id=adapter.delivery_id(headers=headers, body=body),
        topic=adapter.topic(headers=headers, body=body),
        headers=headers,
        body=body,
    )
    if not created and not _claim(delivery):
        answer: dict[str, Any] = {"status": "duplicate", "delivery_id": delivery.pk}
        if delivery.order_id:
            answer["order_id"] = delivery.order_id
        return JsonResponse(answer)

    try:
        order = _process(delivery, channel)
    except ApplicationError as exc:
        if exc.status_code == 400:
            return JsonResponse(
                {
                    "detail": str(exc.message),
                    "errors": _plain(exc.errors),
                    "delivery_id": delivery.pk,
                },
                status=400,
            )
        return _server_error(delivery)
    except Exception:
        return _server_error(delivery)
    if order is None:
        return JsonResponse({"status": Status.IGNORED, "delivery_id": delivery.pk})
    return JsonResponse(
        {"status": Status.PROCESSED, "order_id": order.pk, "delivery_id": delivery.pk}
    )


def _server_error(delivery: WebhookDelivery) -> JsonResponse:
    return JsonResponse(
        {
            "detail": "Processing failed; the delivery is kept and is processed again "
            "when it is resent.",
            "delivery_id": delivery.pk,
        },
        status=500,
    )


def _relevant_headers(request: HttpRequest) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in request.META.items():
        if key.startswith("HTTP_X_"):
            name = key[5:].lower().replace("_", "-")
            if name.startswith(RELEVANT_HEADER_PREFIXES):
                out[name] = value
    if request.META.get("CONTENT_TYPE"):
        out["content-type"] = request.META["CONTENT_TYPE"]
    return out


# --- services ---------------------------------------------------------------------------


def webhook_rejection_record(
    *, channel_slug: str, reason: str, remote_addr: str | None, body: bytes
) -> WebhookRejection:
    """The audit line for a refused request (nothing else of it is kept)."""
    return WebhookRejection.objects.create(
        channel_slug=channel_slug[:50],
        reason=reason[:200],
        remote_addr=_ip_or_none(remote_addr),
        body_sha256=body_sha256(body),
    )


def delivery_store(
    *,
    channel: Channel,
    delivery_id: str,
    topic: str,
    headers: dict[str, str],
    body: bytes,
) -> tuple[WebhookDelivery, bool]:
    """Store what the platform sent, committed on its own; ``(delivery, True)`` when new,
    ``(the stored one, False)`` when this delivery id is already known."""
    delivery = WebhookDelivery(
        channel=channel,
        delivery_id=delivery_id,
        topic=topic,
        headers=headers,
        body=body,
        attempts=1,  # the caller processes a new delivery right away
    )
    # One INSERT ... ON CONFLICT DO NOTHING: in autocommit the cheapest durable write
    # there is, and inside a caller's transaction (tests, scripts) a duplicate leaves
    # that transaction usable without a savepoint.
    if sql.insert(delivery, on_conflict_nothing=("channel", "delivery_id")):
        return delivery, True
    existing = sql.select_one(
        WebhookDelivery, "channel_id = %s AND delivery_id = %s", [channel.pk, delivery_id]
    )
    if existing is None:  # pragma: no cover - deleted between the two statements
        raise ConflictError(_("Delivery could not be stored; resend it."))
    existing.channel = channel
    return existing, False


def _claim(delivery: WebhookDelivery) -> bool:
    """Take a stored delivery for (re)processing: failed ones, and "received" ones
    abandoned for longer than STALE_AFTER. One conditional UPDATE decides, so of many
    concurrent claimers exactly one wins."""
    stale = timezone.now() - STALE_AFTER
    if delivery.status == Status.FAILED:
        condition = Q(status=Status.FAILED)
    elif delivery.status == Status.RECEIVED and delivery.received_at < stale:
        condition = Q(status=Status.RECEIVED, received_at__lt=stale)
    else:
        return False
    won = (
        WebhookDelivery.objects.filter(
            condition, pk=delivery.pk, attempts=delivery.attempts
        ).update(status=Status.RECEIVED, attempts=F("attempts") + 1)
        == 1
    )
    if won:
        delivery.status = Status.RECEIVED
        delivery.attempts += 1
    return won


def _process(delivery: WebhookDelivery, channel: Channel) -> Order | None:
    """Parse and ingest a claimed delivery. Success and the order commit together; on
    failure the delivery is marked failed (own transaction) and the error re-raised."""
    from orders.services import order_ingest  # orders.services imports the adapters

    adapter = get_adapter(channel.platform)
    incoming = Delivery(
        topic=delivery.topic,
        delivery_id=delivery.delivery_id,
        headers=dict(delivery.headers or {}),
        body=bytes(delivery.body),
        channel=channel,
    )
    try:
        order_in = adapter.parse(incoming)
        if order_in is None:
            _finish(delivery, status=Status.IGNORED)
            return None
        # One transaction: order_ingest marks the delivery processed with the order.
        return order_ingest(channel=channel, order_in=order_in, delivery=delivery)
    except ApplicationError as exc:
        _fail(delivery, errors=_plain(exc.errors) or [{"field": None, "message": str(exc.message)}])
        raise
    except Exception as exc:
        logger.exception("webhook delivery %s failed", delivery.pk)
        _fail(delivery, errors=[{"field": None, "message": f"{type(exc).__name__}: {exc}"}])
        raise


def _finish(delivery: WebhookDelivery, *, status: str, order: Order | None = None) -> None:
    now = timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=status, order=order, errors=[], processed_at=now
    )
    delivery.status, delivery.order, delivery.errors, delivery.processed_at = (
        status,
        order,
        [],
        now,
    )


def _fail(delivery: WebhookDelivery, *, errors: list[dict[str, Any]]) -> None:
    now = timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=Status.FAILED, errors=errors, processed_at=now
    )
    delivery.status, delivery.errors, delivery.processed_at = Status.FAILED, errors, now


def delivery_process(*, delivery_id: int) -> Order | None:
    """Process a stored delivery that is claimable (failed, or abandoned while received):
    returns the order, or None when the delivery needs no action. A delivery already
    processed or ignored returns its order without running again. Raises the processing
    error (the delivery is then failed with it).

    Not one transaction on purpose: a failure must be recorded after the rollback."""
    delivery = _load(delivery_id)
    if delivery.status in (Status.PROCESSED, Status.IGNORED):
        return delivery.order
    if not _claim(delivery):
        raise DeliveryFailed(_("This delivery is being processed right now; try again later."))
    return _process(delivery, delivery.channel)


def delivery_replay(*, delivery_id: int, actor: Any) -> Order | None:
    """Staff's "process again" for a failed (or abandoned) delivery, after fixing what
    made it fail. Raises ``DeliveryFailed`` (an ApplicationError) naming what is still
    wrong; the delivery then stays failed with those errors."""
    delivery = _load(delivery_id)
    if delivery.status in (Status.PROCESSED, Status.IGNORED):
        raise DeliveryFailed(
            _("Delivery %(id)s was already %(status)s; only failed deliveries are replayed.")
            % {"id": delivery.pk, "status": delivery.get_status_display()}
        )
    if not _claim(delivery):
        raise DeliveryFailed(
            _("Delivery %(id)s is being processed right now.") % {"id": delivery.pk}
        )
    logger.info("webhook delivery %s replayed by %s", delivery.pk, actor)
    try:
        return _process(delivery, delivery.channel)
    except ApplicationError as exc:
        raise DeliveryFailed(str(exc.message), errors=_plain(exc.errors)) from exc
    except Exception as exc:
        raise DeliveryFailed(
            _("Processing failed again: %(error)s") % {"error": f"{type(exc).__name__}: {exc}"}
        ) from exc


def _load(delivery_id: int) -> WebhookDelivery:
    delivery = (
        WebhookDelivery.objects.select_related("channel", "order").filter(pk=delivery_id).first()
    )
    if delivery is None:
        raise DeliveryFailed(_("Delivery %(id)s does not exist.") % {"id": delivery_id})
    return delivery


# --- selectors --------------------------------------------------------------------------


def delivery_failed_count() -> int:
    """Failed deliveries waiting for someone (dashboard KPI)."""
    return WebhookDelivery.objects.filter(status=Status.FAILED).count()


# --- helpers ----------------------------------------------------------------------------


def _plain(errors: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Errors as plain JSON (lazy translations become str) for the delivery's JSONField."""
    return [
        {
            "field": None if e.get("field") is None else str(e.get("field")),
            "message": str(e.get("message", "")),
        }
        for e in errors or []
        if isinstance(e, dict)
    ]


def _ip_or_none(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None
