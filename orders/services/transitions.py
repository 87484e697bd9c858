"""The public status services, one per axis, plus cancel and confirm."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from backoffice.errors import ConflictError
from orders.models import Order, OrderEvent
from orders.services.common import (
    F,
    L,
    OrderChange,
    fulfillment_set,
    lifecycle_set,
    order_lock,
    payment_set,
)
from orders.services.stock import holds_close_all, lines_release


def cancel_apply(ch: OrderChange, *, reason: str = "") -> None:
    """Cancel inside the caller's change: release stock, close holds, tell the customer."""
    order = ch.order
    if order.status == L.CANCELLED:
        return
    if order.fulfillment_status != F.UNFULFILLED:
        raise ConflictError(
            _("Order %(number)s has already shipped; open a return instead of cancelling.")
            % {"number": order.number}
        )
    lifecycle_set(ch, L.CANCELLED, reason=reason)
    lines_release(ch, note=reason)
    holds_close_all(ch, note=_("Order cancelled."))
    ch.notify("cancelled", extra={"reason": reason})


@transaction.atomic
def order_cancel(
    *,
    order_id: int,
    actor: Any = None,
    reason: str = "",
    source: str = OrderEvent.Source.ADMIN,
) -> Order:
    """Cancel an unshipped order: its reservations go back to stock."""
    ch = OrderChange(order_lock(order_id), actor=actor, source=source)
    if ch.order.status == L.CANCELLED:
        raise ConflictError(
            _("Order %(number)s is already cancelled.") % {"number": ch.order.number}
        )
    cancel_apply(ch, reason=reason)
    ch.commit()
    return ch.order


@transaction.atomic
def order_confirm(
    *,
    order_id: int,
    actor: Any = None,
    reason: str = "",
    source: str = OrderEvent.Source.ADMIN,
) -> Order:
    """Confirm a new order by hand (e.g. cash on delivery); holds must be cleared first."""
    ch = OrderChange(order_lock(order_id), actor=actor, source=source)
    order = ch.order
    if order.status == L.ON_HOLD or ch.open_holds():
        raise ConflictError(
            _("Order %(number)s has open holds (%(reasons)s); clear them first.")
            % {"number": order.number, "reasons": ", ".join(sorted(ch.open_holds()))}
        )
    if order.status != L.NEW:
        raise ConflictError(
            _("Only new orders can be confirmed; %(number)s is %(status)s.")
            % {"number": order.number, "status": order.get_status_display()}
        )
    lifecycle_set(ch, L.CONFIRMED, reason=reason or _("Confirmed by staff."))
    ch.commit()
    return order


@transaction.atomic
def order_payment_set(
    *,
    order_id: int,
    status: str,
    actor: Any = None,
    source: str = OrderEvent.Source.SYSTEM,
    reason: str = "",
    amount: Decimal | None = None,
) -> Order:
    """Move the payment axis (PAYMENT_TRANSITIONS); paid confirms an order without holds."""
    ch = OrderChange(order_lock(order_id), actor=actor, source=source)
    payment_set(ch, status, reason=reason, amount=amount)
    ch.commit()
    return ch.order


@transaction.atomic
def order_fulfillment_set(
    *,
    order_id: int,
    status: str,
    actor: Any = None,
    source: str = OrderEvent.Source.SYSTEM,
    reason: str = "",
) -> Order:
    """Move the fulfilment axis (logistics calls this as shipments change; consuming
    stock is logistics' job through inventory.services.stock_consume)."""
    ch = OrderChange(order_lock(order_id), actor=actor, source=source)
    fulfillment_set(ch, status, reason=reason)
    ch.commit()
    return ch.order
