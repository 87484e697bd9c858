"""Tracking events from carrier webhooks, CSV files and API polling; deliveries close
shipments. Recording is idempotent by (parcel, code, occurred_at)."""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from logistics.models import Carrier, DelayAlert, Parcel, Shipment, TrackingEvent
from logistics.services.common import audit, order_lock

logger = logging.getLogger(__name__)

Kind = TrackingEvent.Kind
SIGNATURE_HEADER = "X-Carrier-Signature"

# Carrier codes that mean something to us when a carrier sends no normalized kind.
# Correios SRO: BDE/BDI/BDR with status 01 = delivered; PO = posted; OEC = out for delivery.
KIND_BY_CODE: dict[str, str] = {
    "BDE01": Kind.DELIVERED,
    "BDI01": Kind.DELIVERED,
    "BDR01": Kind.DELIVERED,
    "PO01": Kind.POSTED,
    "OEC01": Kind.OUT_FOR_DELIVERY,
    "DELIVERED": Kind.DELIVERED,
    "ENTREGUE": Kind.DELIVERED,
    "POSTED": Kind.POSTED,
    "OUT_FOR_DELIVERY": Kind.OUT_FOR_DELIVERY,
}


@dataclass(frozen=True)
class TrackingUpdate:
    tracking_code: str
    code: str
    occurred_at: datetime
    kind: str = ""
    description: str = ""
    location: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


class TrackingParseError(ValueError):
    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("invalid tracking payload")
        self.errors = errors


def kind_resolve(code: str, kind: str = "") -> str:
    kind = (kind or "").strip().lower()
    if kind in Kind.values:
        return kind
    return KIND_BY_CODE.get((code or "").strip().upper(), Kind.IN_TRANSIT)


def datetime_parse(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        parsed: datetime | None = value
    else:
        try:
            parsed = parse_datetime(str(value or "").strip())
        except ValueError:
            return None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def update_from_dict(item: Any, *, prefix: str = "") -> TrackingUpdate:
    """One event dict (webhook/CSV/poll shape) -> TrackingUpdate, or TrackingParseError."""
    errors = []
    if not isinstance(item, dict):
        raise TrackingParseError([{"field": prefix or None, "message": _("must be an object")}])
    code = str(item.get("code") or "").strip()
    tracking = str(item.get("tracking_code") or "").strip().upper()
    occurred = datetime_parse(item.get("occurred_at"))
    if not tracking:
        errors.append({"field": f"{prefix}tracking_code", "message": _("required")})
    if not code:
        errors.append({"field": f"{prefix}code", "message": _("required")})
    if occurred is None:
        errors.append(
            {"field": f"{prefix}occurred_at", "message": _("ISO 8601 date-time required")}
        )
    if errors:
        raise TrackingParseError(errors)
    assert occurred is not None
    return TrackingUpdate(
        tracking_code=tracking,
        code=code[:40],
        occurred_at=occurred,
        kind=str(item.get("kind") or item.get("status") or ""),
        description=str(item.get("description") or "")[:255],
        location=str(item.get("location") or "")[:200],
        raw=item,
    )


def signature_valid(body: bytes, secret: str, header: str | None) -> bool:
    """Hex HMAC-SHA256 of the raw body with the carrier's secret (``sha256=`` optional),
    compared in constant time."""
    if not header or not secret:
        return False
    given = header.strip()
    if given.startswith("sha256="):
        given = given[len("sha256=") :]
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, given.lower())


def tracking_rejection_record(
    *, carrier_slug: str, reason: str, body: bytes, remote_addr: str | None
) -> None:
    """Audit a refused tracking webhook (the only thing stored for it)."""
    audit(
        "tracking_rejected",
        message=reason,
        data={
            "carrier": carrier_slug[:50],
            "remote_addr": remote_addr or "",
            "body_sha256": hashlib.sha256(body).hexdigest(),
        },
    )


@transaction.atomic
def tracking_event_record(
    *, update: TrackingUpdate, source: str, carrier_id: int | None = None
) -> tuple[TrackingEvent | None, str]:
    """Store one tracking event; returns (event, "created" | "duplicate" | "unknown").
    A delivered event on the last undelivered parcel closes the shipment."""
    from logistics.services.shipments import shipment_deliver

    parcel = (
        Parcel.objects.select_related("shipment__method")
        .filter(tracking_code=update.tracking_code.upper())
        .first()
    )
    if parcel is None or (
        carrier_id is not None
        and (parcel.shipment.method is None or parcel.shipment.method.carrier_id != carrier_id)
    ):
        return None, "unknown"
    # Same lock order as every other writer: the order first, then its shipment.
    order_lock(parcel.shipment.order_id)
    kind = kind_resolve(update.code, update.kind)
    try:
        with transaction.atomic():
            event = TrackingEvent.objects.create(
                parcel=parcel,
                code=update.code,
                kind=kind,
                description=update.description,
                location=update.location,
                occurred_at=update.occurred_at,
                source=source,
                raw=update.raw,
            )
    except IntegrityError:
        return (
            TrackingEvent.objects.filter(
                parcel=parcel, code=update.code, occurred_at=update.occurred_at
            ).first(),
            "duplicate",
        )
    shipment_id = parcel.shipment_id
    Shipment.objects.filter(pk=shipment_id).filter(
        Q(last_tracking_at__isnull=True) | Q(last_tracking_at__lt=update.occurred_at)
    ).update(last_tracking_at=update.occurred_at)
    DelayAlert.objects.filter(
        shipment_id=shipment_id, kind=DelayAlert.Kind.STALE_TRACKING, resolved_at__isnull=True
    ).update(resolved_at=timezone.now())
    if kind == Kind.DELIVERED and parcel.shipment.status == Shipment.Status.SHIPPED:
        undelivered = (
            Parcel.objects.filter(shipment_id=shipment_id)
            .exclude(events__kind=Kind.DELIVERED)
            .exists()
        )
        if not undelivered:
            shipment_deliver(shipment_id=shipment_id, delivered_at=update.occurred_at)
    return event, "created"


@dataclass
class TrackingBatchResult:
    created: int = 0
    duplicates: int = 0
    unknown: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"created": self.created, "duplicates": self.duplicates, "unknown": self.unknown}


def tracking_events_record(
    *, updates: list[TrackingUpdate], source: str, carrier_id: int | None = None
) -> TrackingBatchResult:
    """Record several events, oldest first; each in its own transaction."""
    result = TrackingBatchResult()
    for update in sorted(updates, key=lambda u: u.occurred_at):
        _event, outcome = tracking_event_record(update=update, source=source, carrier_id=carrier_id)
        if outcome == "created":
            result.created += 1
        elif outcome == "duplicate":
            result.duplicates += 1
        else:
            result.unknown.append(update.tracking_code)
    return result


def tracking_poll(*, client_for: Callable[[Carrier], Any] | None = None) -> TrackingBatchResult:
    """Ask each carrier with a tracking API about its parcels in transit."""
    from logistics.clients import JsonHttpTrackingClient, TrackingClientError

    total = TrackingBatchResult()
    factory = client_for or JsonHttpTrackingClient.for_carrier
    carriers = Carrier.objects.filter(is_active=True).exclude(api_url_template="")
    for carrier in carriers:
        client = factory(carrier)
        parcels = Parcel.objects.filter(
            shipment__status=Shipment.Status.SHIPPED, shipment__method__carrier=carrier
        ).values_list("tracking_code", flat=True)
        for code in parcels:
            try:
                updates = client.fetch(code)
            except TrackingClientError:
                logger.warning(
                    "tracking poll failed for %s (%s)", code, carrier.slug, exc_info=True
                )
                continue
            batch = tracking_events_record(
                updates=updates, source=TrackingEvent.Source.POLL, carrier_id=carrier.pk
            )
            total.created += batch.created
            total.duplicates += batch.duplicates
            total.unknown.extend(batch.unknown)
    return total
