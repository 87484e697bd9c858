"""What every order service shares: the change recorder (audit rows, domain events,
e-mails) and the one setter per status axis that enforces orders.status's tables."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from backoffice import sql
from backoffice.errors import ConflictError, NotFoundError
from backoffice.events import DomainEvent, publish
from crm.services import notification_queue
from orders.events import OrderStatusChanged
from orders.models import Order, OrderEvent, OrderHold, OrderLine, WebhookDelivery
from orders.selectors import notification_context_build
from orders.status import (
    FULFILLMENT_TRANSITIONS,
    LIFECYCLE_TRANSITIONS,
    PAYMENT_TRANSITIONS,
    Fulfillment,
    Lifecycle,
    Payment,
    can_transition,
)

L, P, F = Lifecycle, Payment, Fulfillment
REFUNDS = {P.PARTIALLY_REFUNDED, P.REFUNDED}


def order_lock(order_id: int) -> Order:
    """The order row, locked until the transaction ends (every writer locks it first,
    then stock: one lock order for the whole app)."""
    try:
        return Order.objects.select_for_update().get(pk=order_id)
    except Order.DoesNotExist:
        raise NotFoundError(_("Order %(id)s does not exist.") % {"id": order_id}) from None


class OrderChange:
    """Collects what one service call does to one order, then writes it in few queries:
    the dirty fields in one UPDATE, the audit rows in one INSERT, events on commit."""

    def __init__(
        self,
        order: Order,
        *,
        actor: Any = None,
        source: str = OrderEvent.Source.SYSTEM,
        delivery: WebhookDelivery | None = None,
        lines: list[OrderLine] | None = None,
        open_holds: dict[str, OrderHold] | None = None,
    ) -> None:
        self.order = order
        self.actor = actor if getattr(actor, "pk", None) else None
        self.source = source
        self.delivery = delivery
        self._lines = lines
        self._open_holds = open_holds
        self.new_holds: list[OrderHold] = []
        self.events: list[OrderEvent] = []
        self.domain_events: list[DomainEvent] = []
        self.dirty: set[str] = set()

    # --- reading, cached for the call --------------------------------------------------
    def lines(self) -> list[OrderLine]:
        if self._lines is None:
            self._lines = list(
                OrderLine.objects.filter(order_id=self.order.pk).select_related("product")
            )
        return self._lines

    def open_holds(self) -> dict[str, OrderHold]:
        if self._open_holds is None:
            self._open_holds = {
                h.reason: h
                for h in OrderHold.objects.filter(order_id=self.order.pk, cleared_at__isnull=True)
            }
        return self._open_holds

    # --- writing -----------------------------------------------------------------------
    def set(self, field: str, value: Any) -> None:
        if getattr(self.order, field) != value:
            setattr(self.order, field, value)
            self.dirty.add(field)

    def log(
        self,
        kind: str,
        *,
        from_value: str = "",
        to_value: str = "",
        message: str = "",
        data: dict[str, Any] | None = None,
    ) -> None:
        self.events.append(
            OrderEvent(
                order=self.order,
                kind=kind,
                from_value=str(from_value)[:40],
                to_value=str(to_value)[:40],
                message=str(message),
                source=self.source,
                actor=self.actor,
                delivery=self.delivery,
                data=data or {},
            )
        )

    def hold_place(self, reason: str, detail: str) -> None:
        holds = self.open_holds()
        if reason in holds:
            return
        hold = OrderHold(order=self.order, reason=reason, detail=detail)
        holds[reason] = hold
        self.new_holds.append(hold)
        self.log(OrderEvent.Kind.HOLD_PLACED, to_value=reason, message=detail)

    def notify(self, kind: str, *, suffix: str = "", extra: dict[str, Any] | None = None) -> None:
        """Queue an order e-mail in this transaction (the crm outbox sends it after commit)."""
        order = self.order
        if not order.email:
            return
        context = notification_context_build(order, self.lines())
        context.update(extra or {})
        customer = order.customer if order.customer_id else None
        notification_queue(
            kind=kind,
            to_email=order.email,
            language=getattr(customer, "language", "") or "pt-br",
            dedupe_key=f"order:{order.pk}:{kind}{suffix}",
            context=context,
            customer_id=order.customer_id,
            order_id=order.pk,
        )

    def commit(self) -> None:
        if self.dirty:
            self.order.save(update_fields=[*sorted(self.dirty), "updated_at"])
            self.dirty.clear()
        if self.new_holds:
            sql.insert_many(self.new_holds)
            self.new_holds = []
        if self.events:
            sql.insert_many(self.events)
            self.events = []
        for event in self.domain_events:
            publish(event)
        self.domain_events = []


# --- one setter per axis ---------------------------------------------------------------


def _illegal(axis: str, current: str, target: str) -> ConflictError:
    return ConflictError(
        _("Order cannot go from %(from)s to %(to)s (%(axis)s).")
        % {"from": current, "to": target, "axis": axis},
        errors=[{"field": "status", "message": f"{axis}: {current} -> {target} not allowed"}],
    )


def lifecycle_set(ch: OrderChange, target: str, *, reason: str = "") -> None:
    current = ch.order.status
    if current == target:
        return
    if not can_transition(LIFECYCLE_TRANSITIONS, current, target):
        raise _illegal("lifecycle", current, target)
    ch.set("status", target)
    if target == L.CANCELLED and ch.order.cancelled_at is None:
        ch.set("cancelled_at", timezone.now())
    ch.log(OrderEvent.Kind.STATUS, from_value=current, to_value=target, message=reason)
    ch.domain_events.append(OrderStatusChanged(ch.order.pk, "lifecycle", current, target))


def lifecycle_settle(ch: OrderChange) -> None:
    """Put the lifecycle where holds and payment say it belongs: any open hold means
    on_hold; none means new, or confirmed once paid."""
    status = ch.order.status
    if status in (L.CANCELLED, L.COMPLETED):
        return
    holds = ch.open_holds()
    if holds:
        if status != L.ON_HOLD:
            lifecycle_set(ch, L.ON_HOLD, reason=", ".join(sorted(holds)))
    elif status == L.ON_HOLD:
        paid = ch.order.payment_status == P.PAID
        lifecycle_set(ch, L.CONFIRMED if paid else L.NEW, reason=_("All holds cleared."))
    elif status == L.NEW and ch.order.payment_status == P.PAID:
        lifecycle_set(ch, L.CONFIRMED, reason=_("Payment confirmed."))


def payment_set(
    ch: OrderChange, target: str, *, reason: str = "", amount: Decimal | None = None
) -> None:
    order = ch.order
    current = order.payment_status
    if current == target and target != P.PARTIALLY_REFUNDED:
        return
    if target not in P.values or not can_transition(PAYMENT_TRANSITIONS, current, target):
        raise _illegal("payment", current, target)
    ch.set("payment_status", target)
    data = {"amount": str(amount)} if amount is not None else None
    ch.log(OrderEvent.Kind.PAYMENT, from_value=current, to_value=target, message=reason, data=data)
    ch.domain_events.append(OrderStatusChanged(order.pk, "payment", current, target))
    if target == P.PAID:
        if order.paid_at is None:
            ch.set("paid_at", timezone.now())
        if current != P.CHARGEBACK:
            ch.notify("payment_confirmed")
    elif target in REFUNDS:
        earlier = OrderEvent.objects.filter(
            order_id=order.pk, kind=OrderEvent.Kind.PAYMENT, to_value__in=list(REFUNDS)
        ).aggregate(n=Count("id"))["n"]
        refund = amount if amount is not None else order.total
        ch.notify(
            "refund_issued",
            suffix=f":{earlier + 1}",
            extra={"refund_amount": str(refund), "reason": reason},
        )
    lifecycle_settle(ch)


def fulfillment_set(ch: OrderChange, target: str, *, reason: str = "") -> None:
    order = ch.order
    current = order.fulfillment_status
    if current == target:
        return
    if not can_transition(FULFILLMENT_TRANSITIONS, current, target):
        raise _illegal("fulfillment", current, target)
    if order.status in (L.CANCELLED, L.ON_HOLD, L.NEW) and target != F.RETURNED:
        raise ConflictError(
            _("Order %(number)s is %(status)s and cannot be shipped.")
            % {"number": order.number, "status": order.get_status_display()}
        )
    ch.set("fulfillment_status", target)
    ch.log(OrderEvent.Kind.FULFILLMENT, from_value=current, to_value=target, message=reason)
    ch.domain_events.append(OrderStatusChanged(order.pk, "fulfillment", current, target))
    if target in (F.PARTIALLY_SHIPPED, F.SHIPPED) and order.status == L.CONFIRMED:
        lifecycle_set(ch, L.PROCESSING, reason=reason)
    if target == F.SHIPPED:
        shipped = [line for line in ch.lines() if line.stock_status == line.StockStatus.RESERVED]
        for line in shipped:
            line.stock_status = OrderLine.StockStatus.SHIPPED
        OrderLine.objects.filter(id__in=[line.pk for line in shipped]).update(
            stock_status=OrderLine.StockStatus.SHIPPED
        )
    if target == F.DELIVERED and order.status in (L.CONFIRMED, L.PROCESSING):
        lifecycle_set(ch, L.COMPLETED, reason=reason)
