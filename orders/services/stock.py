"""Orders' side of stock: reserve lines, release them, clear holds, retry backorders."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backoffice.errors import ConflictError, NotFoundError
from inventory.services import LineRequest, stock_release_lines, stock_reserve_lines
from orders.models import OrderEvent, OrderHold, OrderLine
from orders.services.common import L, OrderChange, lifecycle_settle, order_lock

S = OrderLine.StockStatus
RESERVABLE = (S.PENDING, S.BACKORDERED)


def lines_reserve(
    ch: OrderChange, lines: list[OrderLine], *, created: bool = False
) -> list[OrderLine]:
    """Reserve what can be reserved of ``lines`` (inventory decides, whole lines, in
    product order); mark the rest backordered. Returns the backordered lines.

    ``created``: the lines were inserted in this transaction already marked reserved
    (the usual outcome, so the usual order costs no UPDATE of its lines); those that
    cannot be reserved are corrected to backordered before the transaction ends."""
    reservable = (S.RESERVED,) if created else RESERVABLE
    wanted = [line for line in lines if line.product_id and line.stock_status in reservable]
    if not wanted:
        return []
    result = stock_reserve_lines(
        order_id=ch.order.pk,
        lines=[
            LineRequest(order_line_id=line.pk, product_id=product_id, quantity=line.quantity)
            for line in wanted
            if (product_id := line.product_id) is not None
        ],
        actor=ch.actor,
        new_lines=created,
    )
    reserved = [line for line in wanted if result.get(line.pk) is not None]
    short = [line for line in wanted if result.get(line.pk) is None]
    for status, group in ((S.RESERVED, reserved), (S.BACKORDERED, short)):
        changed = [line for line in group if line.stock_status != status]
        if changed:
            OrderLine.objects.filter(id__in=[line.pk for line in changed]).update(
                stock_status=status
            )
            for line in changed:
                line.stock_status = status
    if reserved:
        ch.log(
            OrderEvent.Kind.STOCK,
            to_value=S.RESERVED,
            message=_("Reserved: %(skus)s") % {"skus": ", ".join(x.sku for x in reserved)},
            data={"lines": [x.pk for x in reserved]},
        )
    if short:
        ch.log(
            OrderEvent.Kind.STOCK,
            to_value=S.BACKORDERED,
            message=_("Backordered: %(skus)s") % {"skus": ", ".join(x.sku for x in short)},
            data={"lines": [x.pk for x in short]},
        )
    return short


def shortage_detail(lines: list[OrderLine]) -> str:
    return _("Not enough stock for: %(lines)s") % {
        "lines": ", ".join(f"{line.quantity} × {line.sku}" for line in lines)
    }


def lines_release(ch: OrderChange, *, note: str = "") -> None:
    """Give back every unshipped reservation of the order; lines become released."""
    lines = ch.lines()
    reserved = [line.pk for line in lines if line.stock_status == S.RESERVED]
    if reserved:
        # One call for the order: inventory releases in product order (no deadlocks).
        stock_release_lines(order_line_ids=reserved, actor=ch.actor, note=note)
    done = [line for line in lines if line.stock_status in (S.PENDING, S.RESERVED, S.BACKORDERED)]
    if done:
        OrderLine.objects.filter(id__in=[line.pk for line in done]).update(stock_status=S.RELEASED)
        for line in done:
            line.stock_status = S.RELEASED
        ch.log(
            OrderEvent.Kind.STOCK,
            to_value=S.RELEASED,
            message=_("Released: %(skus)s") % {"skus": ", ".join(x.sku for x in done)},
        )


def hold_close(ch: OrderChange, hold: OrderHold, *, note: str) -> None:
    hold.cleared_at = timezone.now()
    hold.cleared_by = ch.actor
    hold.save(update_fields=["cleared_at", "cleared_by"])
    ch.open_holds().pop(hold.reason, None)
    ch.log(OrderEvent.Kind.HOLD_CLEARED, from_value=hold.reason, message=note)


def holds_close_all(ch: OrderChange, *, note: str) -> None:
    for hold in list(ch.open_holds().values()):
        hold_close(ch, hold, note=note)


@transaction.atomic
def order_hold_clear(
    *, hold_id: int, actor: Any, note: str = "", source: str = OrderEvent.Source.ADMIN
) -> OrderHold:
    """Clear one hold after review. A stock shortage clears only once every line is
    reserved (reservation is tried again first); the last hold cleared releases the
    order to new, or confirmed when paid."""
    order_id = OrderHold.objects.filter(pk=hold_id).values_list("order_id", flat=True).first()
    if order_id is None:
        raise NotFoundError(_("Hold %(id)s does not exist.") % {"id": hold_id})
    ch = OrderChange(order_lock(order_id), actor=actor, source=source)
    hold = OrderHold.objects.get(pk=hold_id)
    if hold.cleared_at is not None:
        raise ConflictError(_("This hold was already cleared."))
    if ch.order.status == L.CANCELLED:
        raise ConflictError(_("The order is cancelled."))
    ch.open_holds()[hold.reason] = hold
    if hold.reason == OrderHold.Reason.STOCK_SHORTAGE:
        short = lines_reserve(ch, ch.lines())
        if short:
            raise ConflictError(
                _("Still short of stock, the hold stays: %(detail)s")
                % {"detail": shortage_detail(short)}
            )
    hold_close(ch, hold, note=note or _("Cleared by staff."))
    if hold.reason == OrderHold.Reason.UNKNOWN_SKU:
        _unknown_skus_remap(ch)
    lifecycle_settle(ch)
    ch.commit()
    return hold


def _unknown_skus_remap(ch: OrderChange) -> None:
    """After review of unknown SKUs: lines whose SKU now exists in the catalogue get
    their product and a reservation (or backorder + stock hold); the rest stay as sold."""
    from inventory.models import Product

    unknown = [line for line in ch.lines() if line.stock_status == S.UNKNOWN_SKU]
    if not unknown:
        return
    products = {p.sku: p for p in Product.objects.filter(sku__in={x.sku for x in unknown})}
    mapped = [line for line in unknown if line.sku in products]
    for line in mapped:
        line.product = products[line.sku]
        line.unit_cost = line.product.cost
        line.stock_status = S.PENDING
    if not mapped:
        return
    OrderLine.objects.bulk_update(mapped, ["product", "unit_cost", "stock_status"])
    short = lines_reserve(ch, mapped)
    if short:
        ch.hold_place(OrderHold.Reason.STOCK_SHORTAGE, shortage_detail(short))


def order_backorders_retry(*, product_id: int) -> int:
    """Stock of ``product_id`` grew: try to reserve backordered lines again, oldest
    order first, one transaction per order. An order whose lines are now all reserved
    loses its stock-shortage hold. Returns how many orders became fully reserved."""
    order_ids = list(
        OrderLine.objects.filter(product_id=product_id, stock_status=S.BACKORDERED)
        .exclude(order__status=L.CANCELLED)
        .order_by("order_id")
        .values_list("order_id", flat=True)
        .distinct()
    )
    return sum(_order_backorders_retry(order_id=order_id) for order_id in order_ids)


@transaction.atomic
def _order_backorders_retry(*, order_id: int) -> int:
    ch = OrderChange(order_lock(order_id), source=OrderEvent.Source.SYSTEM)
    if ch.order.status == L.CANCELLED:
        return 0
    backordered = [line for line in ch.lines() if line.stock_status == S.BACKORDERED]
    if not backordered:
        return 0
    short = lines_reserve(ch, backordered)
    if short:
        ch.commit()
        return 0
    hold = ch.open_holds().get(OrderHold.Reason.STOCK_SHORTAGE)
    if hold is not None:
        hold_close(ch, hold, note=_("Stock arrived; every line is reserved."))
    lifecycle_settle(ch)
    ch.commit()
    return 1
