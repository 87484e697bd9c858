"""Delay watchdog: shipments past their promised date, or with no tracking scan for
TRACKING_STALE_DAYS, raise one DelayAlert per (shipment, kind); the customer gets one
'delivery_delayed' e-mail and customer service one ticket per shipment, however often
the watchdog runs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from logistics.models import DelayAlert, Shipment
from logistics.services.common import audit, order_lock, order_notify, setting
from logistics.services.common import shipment_tracking_context as tracking_context

Kind = DelayAlert.Kind


def delay_watch(*, now: datetime | None = None) -> list[DelayAlert]:
    """Find late shipments and raise their alerts; returns the alerts created now."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    in_transit = Shipment.objects.filter(status=Shipment.Status.SHIPPED)
    late = in_transit.filter(promised_date__lt=today).exclude(alerts__kind=Kind.PAST_PROMISE)
    cutoff = now - timedelta(days=setting("TRACKING_STALE_DAYS", 5))
    stale = (
        in_transit.annotate(last_scan=Coalesce("last_tracking_at", "shipped_at"))
        .filter(last_scan__lt=cutoff)
        .exclude(alerts__kind=Kind.STALE_TRACKING)
    )
    created = []
    for shipment_id, promised in late.values_list("pk", "promised_date"):
        alert = delay_alert_raise(
            shipment_id=shipment_id,
            kind=Kind.PAST_PROMISE,
            detail=_("Promised for %(d)s.") % {"d": promised.isoformat() if promised else "-"},
        )
        if alert:
            created.append(alert)
    for shipment_id, last_scan in stale.values_list("pk", "last_scan"):
        alert = delay_alert_raise(
            shipment_id=shipment_id,
            kind=Kind.STALE_TRACKING,
            detail=_("No tracking scan since %(d)s.")
            % {"d": timezone.localtime(last_scan).strftime("%Y-%m-%d %H:%M")},
        )
        if alert:
            created.append(alert)
    return created


@transaction.atomic
def delay_alert_raise(
    *, shipment_id: int, kind: str, detail: str = "", actor: Any = None
) -> DelayAlert | None:
    """Raise one alert (None if this shipment already has one of this kind)."""
    import crm.services as crm_services

    order_id = Shipment.objects.values_list("order_id", flat=True).get(pk=shipment_id)
    order = order_lock(order_id)
    shipment = (
        Shipment.objects.select_for_update(of=("self",))
        .select_related("method__carrier")
        .get(pk=shipment_id)
    )
    if shipment.status != Shipment.Status.SHIPPED:
        return None
    try:
        with transaction.atomic():
            alert = DelayAlert.objects.create(shipment=shipment, kind=kind, detail=detail)
    except IntegrityError:
        return None
    notification = order_notify(
        order=order,
        kind="delivery_delayed",
        suffix=f":{shipment.pk}",
        extra={**tracking_context(shipment), "reason": detail},
    )
    carrier = shipment.method.carrier.name if shipment.method else "-"
    ticket = crm_services.ticket_open(  # type: ignore[attr-defined]
        customer_id=order.customer_id,
        subject=_("Delivery delayed: order %(n)s, shipment %(s)s")
        % {"n": order.number, "s": shipment},
        body=_("%(kind)s. %(detail)s Carrier: %(carrier)s.")
        % {"kind": alert.get_kind_display(), "detail": detail, "carrier": carrier},
        order_id=order.pk,
        priority="high" if kind == Kind.PAST_PROMISE else "normal",
        source="system",
        dedupe_key=f"logistics:shipment:{shipment.pk}:delay",
    )
    alert.notification_id = getattr(notification, "pk", None)
    alert.ticket_id = getattr(ticket, "pk", None)
    alert.save(update_fields=["notification_id", "ticket_id"])
    audit("delay_alert", shipment=shipment, to_value=kind, message=detail, actor=actor)
    return alert
