"""Returns (RMA): request, approve (authorization code) or reject, receive and grade per
line (resell goes back to stock), refund or exchange, close.

Who owns refunds: logistics decides that money goes back and how much (the received,
graded return), moves the order's payment axis through ``orders.services.order_payment_set``
in the same transaction, and publishes ``RefundRequested``; finance subscribes and books
and pays it. Exchanges refund nothing: receiving one creates a replacement shipment.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from backoffice.errors import ApplicationError, ConflictError
from backoffice.events import publish
from backoffice.money import quantize
from logistics.events import RefundRequested, ReturnReceived
from logistics.models import ReturnLine, ReturnRequest, ShipmentLine
from logistics.services.common import audit, get_or_404, order_lock
from logistics.services.shipments import (
    LEFT,
    ShipmentLineIn,
    fulfillment_sync,
    planned_quantities,
    shipment_create,
)
from orders.models import OrderEvent, OrderLine
from orders.status import Payment

St = ReturnRequest.Status
Grading = ReturnLine.Grading
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True)
class ReturnLineIn:
    order_line_id: int
    quantity: int
    reason: str


@dataclass(frozen=True)
class ReturnGradeIn:
    return_line_id: int
    grading: str
    received_quantity: int


def _returned_quantities(order_id: int, *, exclude_id: int | None = None) -> dict[int, int]:
    rows = (
        ReturnLine.objects.filter(return_request__order_id=order_id)
        .exclude(return_request__status=St.REJECTED)
        .exclude(return_request_id=exclude_id)
        .values("order_line_id")
        .annotate(q=Sum("quantity"))
    )
    return {row["order_line_id"]: row["q"] for row in rows}


def _set_status(
    ret: ReturnRequest, status: str, *, actor: Any, message: str = "", **stamps: Any
) -> None:
    previous = ret.status
    ret.status = status
    for name, value in stamps.items():
        setattr(ret, name, value)
    ret.save(update_fields=["status", *stamps.keys()])
    audit(
        "return_status",
        return_request=ret,
        from_value=previous,
        to_value=status,
        actor=actor,
        message=message,
    )


@transaction.atomic
def return_request_create(
    *,
    order_id: int,
    lines: list[ReturnLineIn],
    is_exchange: bool = False,
    note: str = "",
    actor: Any = None,
) -> ReturnRequest:
    """Open a return for units that were shipped and are not already being returned."""
    order = order_lock(order_id)
    if not lines:
        raise ApplicationError(
            _("A return needs at least one line."),
            errors=[{"field": "lines", "message": _("required")}],
        )
    order_lines = {line.pk: line for line in OrderLine.objects.filter(order_id=order_id)}
    shipped = planned_quantities(order_id, statuses=LEFT)
    returned = _returned_quantities(order_id)
    errors = []
    for i, item in enumerate(lines):
        line = order_lines.get(item.order_line_id)
        if line is None:
            errors.append({"field": f"lines[{i}]", "message": _("not a line of this order")})
            continue
        left = shipped.get(line.pk, 0) - returned.get(line.pk, 0)
        if item.quantity <= 0 or item.quantity > left:
            errors.append(
                {
                    "field": f"lines[{i}].quantity",
                    "message": _("must be 1..%(max)s for %(sku)s (shipped, not returned)")
                    % {"max": left, "sku": line.sku},
                }
            )
        if item.reason not in ReturnLine.Reason.values:
            errors.append({"field": f"lines[{i}].reason", "message": _("unknown reason")})
    if errors:
        raise ApplicationError(_("The return lines are not valid."), errors=errors)
    ret = ReturnRequest.objects.create(
        order=order, is_exchange=is_exchange, note=note, currency=order.currency
    )
    ReturnLine.objects.bulk_create(
        [
            ReturnLine(
                return_request=ret,
                order_line_id=i.order_line_id,
                quantity=i.quantity,
                reason=i.reason,
            )
            for i in lines
        ]
    )
    audit("return_status", return_request=ret, to_value=St.REQUESTED, actor=actor, message=note)
    return ret


def _new_code() -> str:
    return "RMA-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


@transaction.atomic
def return_approve(*, return_id: int, actor: Any = None) -> ReturnRequest:
    """Approve and give the customer an authorization code to write on the parcel."""
    ret = get_or_404(ReturnRequest, return_id, lock=True)
    if ret.status == St.APPROVED:
        return ret
    if ret.status != St.REQUESTED:
        raise ConflictError(_("Only requested returns can be approved."))
    for _attempt in range(5):
        code = _new_code()
        try:
            with transaction.atomic():
                _set_status(ret, St.APPROVED, actor=actor, code=code, approved_at=timezone.now())
            return ret
        except IntegrityError:
            continue
    raise ConflictError(_("Could not generate a unique authorization code; try again."))


@transaction.atomic
def return_reject(*, return_id: int, reason: str = "", actor: Any = None) -> ReturnRequest:
    ret = get_or_404(ReturnRequest, return_id, lock=True)
    if ret.status not in (St.REQUESTED, St.APPROVED):
        raise ConflictError(_("Only requested or approved returns can be rejected."))
    _set_status(ret, St.REJECTED, actor=actor, message=reason, closed_at=timezone.now())
    return ret


def _shipped_from(order_line_id: int) -> int | None:
    return (
        ShipmentLine.objects.filter(order_line_id=order_line_id, shipment__status__in=LEFT)
        .order_by("-shipment_id")
        .values_list("shipment__warehouse_id", flat=True)
        .first()
    )


@transaction.atomic
def return_receive(
    *,
    return_id: int,
    grades: list[ReturnGradeIn],
    warehouse_id: int | None = None,
    actor: Any = None,
) -> ReturnRequest:
    """The parcel arrived: grade every line. Resell puts the units back on hand (in
    ``warehouse_id``, default the warehouse it shipped from); refurbish and scrap do not
    touch sellable stock. The order's fulfilment becomes returned. An exchange gets a
    replacement shipment (reserved now; backordered units stay on the order)."""
    from inventory.services import LineRequest, stock_reserve_lines, stock_restock_return

    ret = get_or_404(ReturnRequest, return_id)
    order = order_lock(ret.order_id)
    ret = ReturnRequest.objects.select_for_update().get(pk=return_id)
    if ret.status != St.APPROVED:
        raise ConflictError(
            _("Only approved returns can be received (this one is %(s)s).")
            % {"s": ret.get_status_display()}
        )
    lines = {line.pk: line for line in ret.lines.select_related("order_line")}
    by_line = {g.return_line_id: g for g in grades}
    errors = []
    for i, line_id in enumerate(lines):
        g = by_line.get(line_id)
        if g is None:
            errors.append(
                {"field": f"grades[{i}]", "message": _("line %(id)s not graded") % {"id": line_id}}
            )
        elif g.grading not in Grading.values:
            errors.append(
                {"field": f"grades[{i}].grading", "message": _("resell, refurbish or scrap")}
            )
        elif not 0 <= g.received_quantity <= lines[line_id].quantity:
            errors.append(
                {
                    "field": f"grades[{i}].received_quantity",
                    "message": f"0..{lines[line_id].quantity}",
                }
            )
    unknown = set(by_line) - set(lines)
    if unknown:
        errors.append(
            {
                "field": "grades",
                "message": _("not lines of this return: %(ids)s") % {"ids": sorted(unknown)},
            }
        )
    if errors:
        raise ApplicationError(_("The grading is not valid."), errors=errors)
    replacement: list[ShipmentLineIn] = []
    product_of: dict[int, int] = {}
    for line_id, line in sorted(lines.items()):
        g = by_line[line_id]
        line.grading = g.grading
        line.received_quantity = g.received_quantity
        line.save(update_fields=["grading", "received_quantity"])
        order_line = line.order_line
        if g.grading == Grading.RESELL and g.received_quantity and order_line.product_id:
            target = warehouse_id or _shipped_from(order_line.pk)
            if target is None:
                raise ApplicationError(
                    _("Choose the warehouse that receives the units."),
                    errors=[{"field": "warehouse_id", "message": _("required")}],
                )
            stock_restock_return(
                product_id=order_line.product_id,
                warehouse_id=target,
                quantity=g.received_quantity,
                order_id=order.pk,
                order_line_id=order_line.pk,
                actor=actor,
            )
        if ret.is_exchange and g.received_quantity and order_line.product_id:
            replacement.append(ShipmentLineIn(order_line.pk, g.received_quantity))
            product_of[order_line.pk] = order_line.product_id
    _set_status(ret, St.RECEIVED, actor=actor, received_at=timezone.now())
    fulfillment_sync(order=order, actor=actor, reason=_("Return %(c)s received.") % {"c": ret})
    if replacement:
        reserved = stock_reserve_lines(
            order_id=order.pk,
            lines=[
                LineRequest(
                    order_line_id=item.order_line_id,
                    product_id=product_of[item.order_line_id],
                    quantity=item.quantity,
                )
                for item in replacement
            ],
            actor=actor,
        )
        ready = [item for item in replacement if reserved.get(item.order_line_id)]
        if ready:
            shipment = shipment_create(
                order_id=order.pk,
                lines=ready,
                is_replacement=True,
                return_request_id=ret.pk,
                actor=actor,
            )
            audit("replacement_created", return_request=ret, shipment=shipment, actor=actor)
        if len(ready) < len(replacement):
            audit(
                "replacement_backordered",
                return_request=ret,
                actor=actor,
                data={"lines": [i.order_line_id for i in replacement if i not in ready]},
            )
    publish(ReturnReceived(return_id=ret.pk, order_id=order.pk))
    return ret


def return_refund_amount(ret: ReturnRequest) -> Decimal:
    """What the received units cost the customer (line total pro rata; shipping is not
    refunded unless staff give an amount)."""
    total = Decimal("0")
    for line in ret.lines.select_related("order_line"):
        ol = line.order_line
        if line.received_quantity and ol.quantity:
            total += ol.total * line.received_quantity / ol.quantity
    return quantize(total)


def _all_units_refunded(order_id: int, *, also: int) -> bool:
    """Every unit of every (not released) line came back in a refunded return."""
    refunded = dict(
        ReturnLine.objects.filter(return_request__order_id=order_id)
        .filter(Q(return_request__refunded_at__isnull=False) | Q(return_request_id=also))
        .values("order_line_id")
        .annotate(q=Sum("received_quantity"))
        .values_list("order_line_id", "q")
    )
    lines = OrderLine.objects.filter(order_id=order_id).exclude(
        stock_status=OrderLine.StockStatus.RELEASED
    )
    return all(refunded.get(pk, 0) >= qty for pk, qty in lines.values_list("pk", "quantity"))


@transaction.atomic
def return_refund(
    *, return_id: int, amount: Decimal | None = None, actor: Any = None
) -> ReturnRequest:
    """Refund a received return: the order's payment becomes partially_refunded (or
    refunded once refunds reach the order total) and finance hears RefundRequested."""
    from orders.services import order_payment_set

    ret = get_or_404(ReturnRequest, return_id)
    order = order_lock(ret.order_id)
    ret = ReturnRequest.objects.select_for_update().get(pk=return_id)
    if ret.status == St.REFUNDED:
        return ret
    if ret.status != St.RECEIVED:
        raise ConflictError(_("Only received returns can be refunded."))
    if ret.is_exchange:
        raise ConflictError(_("An exchange is not refunded; its replacement ships instead."))
    value = quantize(amount) if amount is not None else return_refund_amount(ret)
    earlier = ReturnRequest.objects.filter(order_id=order.pk, refunded_at__isnull=False).exclude(
        pk=ret.pk
    ).aggregate(s=Sum("refund_amount"))["s"] or Decimal("0")
    if value <= 0 or earlier + value > order.total:
        raise ApplicationError(
            _("The refund must be positive and at most %(left)s.")
            % {"left": order.total - earlier},
            errors=[{"field": "amount", "message": _("out of range")}],
        )
    status = (
        Payment.REFUNDED
        if earlier + value >= order.total or _all_units_refunded(order.pk, also=ret.pk)
        else Payment.PARTIALLY_REFUNDED
    )
    order_payment_set(
        order_id=order.pk,
        status=status,
        actor=actor,
        source=OrderEvent.Source.SYSTEM,
        reason=_("Return %(c)s refunded.") % {"c": ret},
        amount=value,
    )
    _set_status(ret, St.REFUNDED, actor=actor, refund_amount=value, refunded_at=timezone.now())
    publish(RefundRequested(return_id=ret.pk, order_id=order.pk, amount=str(value)))
    return ret


@transaction.atomic
def return_close(*, return_id: int, actor: Any = None) -> ReturnRequest:
    ret = get_or_404(ReturnRequest, return_id, lock=True)
    if ret.status == St.CLOSED:
        return ret
    if ret.status not in (St.RECEIVED, St.REFUNDED):
        raise ConflictError(_("Only received or refunded returns can be closed."))
    if ret.status == St.RECEIVED and not ret.is_exchange:
        raise ConflictError(_("Refund this return before closing it."))
    _set_status(ret, St.CLOSED, actor=actor, closed_at=timezone.now())
    return ret
