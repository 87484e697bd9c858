"""What logistics services share: audit rows, order locking, customer e-mails, settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Model
from django.utils.translation import gettext as _

from backoffice.errors import NotFoundError
from logistics.models import LogisticsAudit, ReturnRequest, Shipment
from orders.models import Order


def setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def actor_or_none(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


def audit(
    action: str,
    *,
    shipment: Shipment | None = None,
    return_request: ReturnRequest | None = None,
    from_value: str = "",
    to_value: str = "",
    message: str = "",
    actor: Any = None,
    data: dict[str, Any] | None = None,
) -> LogisticsAudit:
    return LogisticsAudit.objects.create(
        action=action,
        shipment=shipment,
        return_request=return_request,
        from_value=str(from_value)[:40],
        to_value=str(to_value)[:40],
        message=str(message),
        actor=actor_or_none(actor),
        data=data or {},
    )


def order_lock(order_id: int) -> Order:
    """Lock the order row first: orders' services lock the order before stock, and so do
    we (one lock order across apps, no deadlocks)."""
    try:
        return Order.objects.select_for_update().get(pk=order_id)
    except Order.DoesNotExist:
        raise NotFoundError(_("Order %(id)s does not exist.") % {"id": order_id}) from None


def get_or_404(model: type[Model], pk: int, *, lock: bool = False) -> Any:
    qs = model._default_manager.all()  # type: ignore[attr-defined]
    if lock:
        qs = qs.select_for_update()
    try:
        return qs.get(pk=pk)
    except model.DoesNotExist:  # type: ignore[attr-defined]
        raise NotFoundError(
            _("%(model)s %(id)s does not exist.") % {"model": model._meta.verbose_name, "id": pk}
        ) from None


def shipment_tracking_context(shipment: Shipment) -> dict[str, Any]:
    codes = list(shipment.parcels.order_by("id").values_list("tracking_code", flat=True))
    carrier = shipment.method.carrier if shipment.method_id and shipment.method else None
    return {
        "shipment_id": shipment.pk,
        "tracking_code": ", ".join(codes),
        "tracking_codes": codes,
        "tracking_url": carrier.tracking_url(codes[0]) if carrier and codes else "",
        "carrier": carrier.name if carrier else "",
        "promised_date": shipment.promised_date.isoformat() if shipment.promised_date else "",
    }


def order_notify(
    *, order: Order, kind: str, suffix: str = "", extra: dict[str, Any] | None = None
) -> Any:
    """Queue a customer e-mail in the caller's transaction (crm's outbox sends it after
    commit); the dedupe key makes a second call a no-op. Returns the Notification or None."""
    from crm.services import notification_queue
    from orders.selectors import order_notification_context

    if not order.email:
        return None
    context = order_notification_context(order_id=order.pk)
    context.update(extra or {})
    customer = order.customer if order.customer_id else None
    return notification_queue(
        kind=kind,
        to_email=order.email,
        language=getattr(customer, "language", "") or settings.LANGUAGE_CODE,
        dedupe_key=f"order:{order.pk}:{kind}{suffix}",
        context=context,
        customer_id=order.customer_id,
        order_id=order.pk,
    )
