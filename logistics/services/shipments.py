"""Shipments: plan, pack, ship, deliver; order fulfilment derived from all shipments."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from backoffice.errors import ApplicationError, ConflictError
from backoffice.events import publish
from backoffice.money import quantize
from logistics.events import ShipmentDelivered, ShipmentShipped
from logistics.models import DelayAlert, Parcel, ReturnRequest, Shipment, ShipmentLine
from logistics.services.common import (
    audit,
    get_or_404,
    order_lock,
    order_notify,
    shipment_tracking_context,
)
from logistics.services.promise import method_resolve, promise_for
from orders.models import Order, OrderEvent, OrderLine
from orders.status import Fulfillment, Lifecycle

S = Shipment.Status
ACTIVE = [S.DRAFT, S.PACKED, S.SHIPPED, S.DELIVERED, S.RETURNED]
LEFT = [S.SHIPPED, S.DELIVERED, S.RETURNED]


@dataclass(frozen=True)
class ShipmentLineIn:
    order_line_id: int
    quantity: int


def planned_quantities(order_id: int, *, statuses: Sequence[str] | None = None) -> dict[int, int]:
    """Units per order line already in (non-replacement) shipments with ``statuses``."""
    rows = (
        ShipmentLine.objects.filter(
            shipment__order_id=order_id,
            shipment__is_replacement=False,
            shipment__status__in=list(statuses or ACTIVE),
        )
        .values("order_line_id")
        .annotate(q=Sum("quantity"))
    )
    return {row["order_line_id"]: row["q"] for row in rows}


def _reservations(order_line_ids: list[int]) -> dict[int, Any]:
    from inventory.models import Reservation

    return {
        r.order_line_id: r
        for r in Reservation.objects.filter(
            order_line_id__in=order_line_ids, status=Reservation.Status.ACTIVE
        )
    }


@transaction.atomic
def shipment_create(
    *,
    order_id: int,
    lines: list[ShipmentLineIn] | None = None,
    method_id: int | None = None,
    wave: str = "",
    actor: Any = None,
    is_replacement: bool = False,
    return_request_id: int | None = None,
) -> Shipment:
    """A shipment of ``lines`` (default: every reserved unit not yet in a shipment) from
    the one warehouse holding their reservations. Quantities beyond what is left to ship
    or reserved are refused."""
    order = order_lock(order_id)
    if order.status == Lifecycle.CANCELLED:
        raise ConflictError(_("Order %(n)s is cancelled.") % {"n": order.number})
    order_lines = {line.pk: line for line in OrderLine.objects.filter(order_id=order_id)}
    planned = {} if is_replacement else planned_quantities(order_id)
    reservations = _reservations(list(order_lines))
    if lines is None:
        lines = [
            ShipmentLineIn(line_id, line.quantity - planned.get(line_id, 0))
            for line_id, line in order_lines.items()
            if line_id in reservations and line.quantity - planned.get(line_id, 0) > 0
        ]
    if not lines:
        raise ApplicationError(_("Nothing left to ship on this order."))
    errors = []
    warehouses: set[int] = set()
    for i, item in enumerate(lines):
        line = order_lines.get(item.order_line_id)
        reservation = reservations.get(item.order_line_id)
        if line is None:
            errors.append({"field": f"lines[{i}]", "message": _("not a line of this order")})
            continue
        left = line.quantity - planned.get(line.pk, 0)
        if item.quantity <= 0 or item.quantity > left:
            errors.append(
                {
                    "field": f"lines[{i}].quantity",
                    "message": _("must be 1..%(max)s for %(sku)s") % {"max": left, "sku": line.sku},
                }
            )
        elif reservation is None or reservation.quantity - reservation.shipped_quantity < (
            item.quantity
        ):
            errors.append(
                {
                    "field": f"lines[{i}]",
                    "message": _("%(sku)s has no reserved stock for this") % {"sku": line.sku},
                }
            )
        else:
            warehouses.add(reservation.warehouse_id)
    if errors:
        raise ApplicationError(_("The shipment lines are not valid."), errors=errors)
    if len(warehouses) != 1:
        raise ApplicationError(
            _("These lines are reserved in different warehouses: one shipment per warehouse.")
        )
    method = None
    if method_id:
        from logistics.models import ShippingMethod

        method = get_or_404(ShippingMethod, method_id)
    else:
        method = method_resolve(order.shipping_method)
    shipment = Shipment.objects.create(
        order=order,
        warehouse_id=warehouses.pop(),
        method=method,
        wave=wave,
        promised_date=promise_for(order=order, method=method) if method else None,
        is_replacement=is_replacement,
        return_request_id=return_request_id,
    )
    ShipmentLine.objects.bulk_create(
        [
            ShipmentLine(shipment=shipment, order_line_id=i.order_line_id, quantity=i.quantity)
            for i in lines
        ]
    )
    audit("shipment_created", shipment=shipment, to_value=S.DRAFT, actor=actor)
    return shipment


def shipments_plan(*, order_id: int, wave: str = "", actor: Any = None) -> list[Shipment]:
    """One shipment per warehouse for every reserved unit not yet in a shipment."""
    order_lines = {line.pk: line for line in OrderLine.objects.filter(order_id=order_id)}
    planned = planned_quantities(order_id)
    by_warehouse: dict[int, list[ShipmentLineIn]] = defaultdict(list)
    for line_id, reservation in _reservations(list(order_lines)).items():
        left = min(
            order_lines[line_id].quantity - planned.get(line_id, 0),
            reservation.quantity - reservation.shipped_quantity,
        )
        if left > 0:
            by_warehouse[reservation.warehouse_id].append(ShipmentLineIn(line_id, left))
    return [
        shipment_create(order_id=order_id, lines=items, wave=wave, actor=actor)
        for _wh, items in sorted(by_warehouse.items())
    ]


@transaction.atomic
def parcel_add(
    *, shipment_id: int, tracking_code: str, weight_grams: int = 0, actor: Any = None
) -> Parcel:
    shipment = get_or_404(Shipment, shipment_id, lock=True)
    code = (tracking_code or "").strip().upper()
    if not code:
        raise ApplicationError(
            _("A tracking code is required."),
            errors=[{"field": "tracking_code", "message": _("required")}],
        )
    if shipment.status in (S.DELIVERED, S.CANCELLED, S.RETURNED):
        raise ConflictError(_("Shipment %(s)s is closed.") % {"s": shipment})
    try:
        with transaction.atomic():
            parcel = Parcel.objects.create(
                shipment=shipment, tracking_code=code, weight_grams=weight_grams
            )
    except IntegrityError:
        raise ApplicationError(
            _("Tracking code %(c)s is already used.") % {"c": code},
            errors=[{"field": "tracking_code", "message": _("already used")}],
        ) from None
    audit("parcel_added", shipment=shipment, to_value=code, actor=actor)
    return parcel


@dataclass
class PackResult:
    ok: bool
    missing: dict[str, int] = field(default_factory=dict)
    extra: dict[str, int] = field(default_factory=dict)


@transaction.atomic
def pack_verify(
    *, shipment_id: int, scanned: list[tuple[str, int]], actor: Any = None
) -> PackResult:
    """Check what was scanned into the box (SKU or barcode, quantity) against the
    shipment lines. On a match a draft shipment becomes packed; a mismatch changes
    nothing but the audit log, and says what is missing and what is extra."""
    shipment = get_or_404(Shipment, shipment_id, lock=True)
    lines = list(shipment.lines.select_related("order_line__product"))
    expected: Counter[str] = Counter()
    alias: dict[str, str] = {}
    for line in lines:
        sku = line.order_line.sku
        expected[sku] += line.quantity
        alias[sku.upper()] = sku
        product = line.order_line.product
        if product is not None:
            alias[product.sku.upper()] = sku
            if product.barcode:
                alias[product.barcode.upper()] = sku
    got: Counter[str] = Counter()
    for i, (code, qty) in enumerate(scanned):
        key = str(code).strip()
        if not key or int(qty) < 1:
            raise ApplicationError(
                _("Each scan needs a code and a quantity of at least 1."),
                errors=[{"field": f"scanned[{i}]", "message": f"{code!r} × {qty!r}"}],
            )
        got[alias.get(key.upper(), key)] += int(qty)
    missing = {k: v - got[k] for k, v in expected.items() if got[k] < v}
    extra = {k: v - expected[k] for k, v in got.items() if v > expected[k] and v > 0}
    result = PackResult(ok=not missing and not extra, missing=missing, extra=extra)
    if result.ok:
        if shipment.status == S.DRAFT:
            shipment.status = S.PACKED
            shipment.packed_at = timezone.now()
            shipment.save(update_fields=["status", "packed_at", "updated_at"])
            audit("packed", shipment=shipment, from_value=S.DRAFT, to_value=S.PACKED, actor=actor)
    else:
        audit(
            "pack_mismatch",
            shipment=shipment,
            actor=actor,
            data={"missing": missing, "extra": extra},
        )
    return result


def fulfillment_derive(order_id: int) -> str:
    """The order's fulfilment from its shipments and returns (DESIGN.md status model)."""
    if (
        ReturnRequest.objects.filter(
            order_id=order_id,
            status__in=[
                ReturnRequest.Status.RECEIVED,
                ReturnRequest.Status.REFUNDED,
                ReturnRequest.Status.CLOSED,
            ],
        ).exists()
        or Shipment.objects.filter(order_id=order_id, status=S.RETURNED).exists()
    ):
        return Fulfillment.RETURNED
    shipped = planned_quantities(order_id, statuses=LEFT)
    if not shipped:
        return Fulfillment.UNFULFILLED
    lines = OrderLine.objects.filter(order_id=order_id).exclude(
        stock_status=OrderLine.StockStatus.RELEASED
    )
    complete = all(shipped.get(pk, 0) >= qty for pk, qty in lines.values_list("pk", "quantity"))
    if not complete:
        return Fulfillment.PARTIALLY_SHIPPED
    in_transit = Shipment.objects.filter(
        order_id=order_id, is_replacement=False, status=S.SHIPPED
    ).exists()
    return Fulfillment.SHIPPED if in_transit else Fulfillment.DELIVERED


def fulfillment_sync(*, order: Order, actor: Any = None, reason: str = "") -> str:
    """Move the order's fulfilment axis to what its shipments say (through orders)."""
    from orders.services import order_fulfillment_set

    target = fulfillment_derive(order.pk)
    if target != order.fulfillment_status and order.fulfillment_status != Fulfillment.RETURNED:
        updated = order_fulfillment_set(
            order_id=order.pk,
            status=target,
            actor=actor,
            source=OrderEvent.Source.SYSTEM,
            reason=reason,
        )
        order.fulfillment_status = updated.fulfillment_status
        order.status = updated.status
    return order.fulfillment_status


@transaction.atomic
def shipment_ship(
    *,
    shipment_id: int,
    actor: Any = None,
    shipped_at: datetime | None = None,
    freight_cost: Decimal | None = None,
) -> Shipment:
    """Hand the shipment to the carrier: consume each line's reservation (on_hand and
    reserved drop), move the order's fulfilment, e-mail the customer, tell the store.
    Running it again on a shipped shipment changes nothing. ``shipped_at`` records a
    hand-over that happened earlier (default: now); ``freight_cost`` is what the carrier
    charged (the label), used by finance's margin."""
    from inventory.services import stock_consume

    order_id = get_or_404(Shipment, shipment_id).order_id
    order = order_lock(order_id)
    shipment = (
        Shipment.objects.select_for_update(of=("self",))
        .select_related("method__carrier")
        .get(pk=shipment_id)
    )
    if shipment.status in LEFT:
        return shipment
    if shipment.status == S.CANCELLED:
        raise ConflictError(_("Shipment %(s)s is cancelled.") % {"s": shipment})
    if order.status in (Lifecycle.NEW, Lifecycle.ON_HOLD, Lifecycle.CANCELLED):
        raise ConflictError(
            _("Order %(n)s is %(st)s and cannot be shipped.")
            % {"n": order.number, "st": order.get_status_display()}
        )
    if not shipment.parcels.exists():
        raise ApplicationError(
            _("Add at least one parcel with its tracking code before shipping."),
            errors=[{"field": "parcels", "message": _("required")}],
        )
    for line in shipment.lines.order_by("order_line_id"):
        stock_consume(
            order_line_id=line.order_line_id,
            quantity=line.quantity,
            actor=actor,
            reference=f"shipment:{shipment.pk}",
        )
    previous = shipment.status
    shipment.status = S.SHIPPED
    shipment.shipped_at = shipped_at or timezone.now()
    if freight_cost is not None:
        if freight_cost < 0:
            raise ApplicationError(
                _("The freight cost cannot be negative."),
                errors=[{"field": "freight_cost", "message": _("must be >= 0")}],
            )
        shipment.freight_cost = quantize(freight_cost)
    if shipment.promised_date is None and shipment.method is not None:
        shipment.promised_date = promise_for(order=order, method=shipment.method)
    shipment.save(
        update_fields=["status", "shipped_at", "promised_date", "freight_cost", "updated_at"]
    )
    audit("shipped", shipment=shipment, from_value=previous, to_value=S.SHIPPED, actor=actor)
    if not shipment.is_replacement:
        fulfillment_sync(
            order=order, actor=actor, reason=_("Shipment %(s)s shipped.") % {"s": shipment}
        )
    tracking = shipment_tracking_context(shipment)
    order_notify(order=order, kind="shipped", suffix=f":{shipment.pk}", extra=tracking)
    _outbound(order=order, shipment=shipment, event="shipped")
    publish(ShipmentShipped(shipment_id=shipment.pk, order_id=order.pk))
    return shipment


@transaction.atomic
def shipment_deliver(
    *, shipment_id: int, delivered_at: datetime | None = None, actor: Any = None
) -> Shipment:
    """Close a shipment as delivered; when every shipment of the order is delivered the
    order is delivered and the customer gets the 'delivered' e-mail (its context carries
    the lines with consumption_days, so crm schedules surveys and reminders)."""
    order_id = get_or_404(Shipment, shipment_id).order_id
    order = order_lock(order_id)
    shipment = (
        Shipment.objects.select_for_update(of=("self",))
        .select_related("method__carrier")
        .get(pk=shipment_id)
    )
    if shipment.status == S.DELIVERED:
        return shipment
    if shipment.status != S.SHIPPED:
        raise ConflictError(_("Shipment %(s)s has not shipped.") % {"s": shipment})
    shipment.status = S.DELIVERED
    shipment.delivered_at = delivered_at or timezone.now()
    shipment.save(update_fields=["status", "delivered_at", "updated_at"])
    DelayAlert.objects.filter(shipment=shipment, resolved_at__isnull=True).update(
        resolved_at=timezone.now()
    )
    audit("delivered", shipment=shipment, from_value=S.SHIPPED, to_value=S.DELIVERED, actor=actor)
    if not shipment.is_replacement:
        status = fulfillment_sync(
            order=order, actor=actor, reason=_("Shipment %(s)s delivered.") % {"s": shipment}
        )
        if status == Fulfillment.DELIVERED:
            order_notify(
                order=order,
                kind="delivered",
                extra={
                    **shipment_tracking_context(shipment),
                    "delivered_at": shipment.delivered_at.isoformat(),
                },
            )
    _outbound(order=order, shipment=shipment, event="delivered")
    publish(ShipmentDelivered(shipment_id=shipment.pk, order_id=order.pk))
    return shipment


@transaction.atomic
def shipment_cancel(*, shipment_id: int, actor: Any = None, reason: str = "") -> Shipment:
    """Drop a shipment that has not left (its reservations stay with the order)."""
    shipment = get_or_404(Shipment, shipment_id, lock=True)
    if shipment.status not in (S.DRAFT, S.PACKED):
        raise ConflictError(_("Only shipments not yet shipped can be cancelled."))
    previous = shipment.status
    shipment.status = S.CANCELLED
    shipment.save(update_fields=["status", "updated_at"])
    audit(
        "cancelled",
        shipment=shipment,
        from_value=previous,
        to_value=S.CANCELLED,
        actor=actor,
        message=reason,
    )
    return shipment


def order_shipments_cancel(*, order_id: int, actor: Any = None) -> int:
    """Cancel the shipments of an order that have not left (the order was cancelled)."""
    ids = Shipment.objects.filter(order_id=order_id, status__in=[S.DRAFT, S.PACKED]).values_list(
        "pk", flat=True
    )
    for shipment_id in list(ids):
        shipment_cancel(shipment_id=shipment_id, actor=actor, reason=_("Order cancelled."))
    return len(ids)


def _outbound(*, order: Order, shipment: Shipment, event: str) -> None:
    from logistics.services.webhooks import outbound_webhook_queue

    outbound_webhook_queue(order=order, shipment=shipment, event=event)
