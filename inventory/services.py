"""The write API of inventory: every change of ``on_hand`` or ``reserved`` goes through here.

Rules every function keeps:
- a level changes only through one conditional ``UPDATE ... SET x = x + d WHERE ...``
  (``F()`` expressions), so concurrent callers never overwrite each other and the
  database CHECK ``0 <= reserved <= on_hand`` is never the thing that says no;
- several levels are touched in one fixed order (product id, then warehouse id), so two
  transactions never wait on each other in a cycle;
- each changed level writes exactly one ``StockMovement`` (the ledger), with the actor
  and the order ids it concerns;
- when available stock grows, ``StockIncreased`` is published on commit.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Case, DecimalField, F, IntegerField, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from backoffice.errors import ApplicationError, ConflictError, NotFoundError
from backoffice.events import publish
from backoffice.money import quantize
from backoffice.sql import statement_cursor
from inventory.events import StockIncreased
from inventory.models import (
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    Reservation,
    StockLevel,
    StockMovement,
    Warehouse,
)

Reason = StockMovement.Reason
ACTIVE = Reservation.Status.ACTIVE


@dataclass(frozen=True)
class LineRequest:
    """One order line asking for stock: ``quantity`` units of ``product_id``."""

    order_line_id: int
    product_id: int
    quantity: int


# --- helpers ------------------------------------------------------------------------------


def _actor_id(actor: Any) -> int | None:
    """The user's id for the ledger; anonymous users and ``None`` record no actor."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None
    return actor.pk


def _positive(quantity: int, field: str = "quantity") -> None:
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
        raise ApplicationError(
            _("The quantity must be a whole number above zero."),
            errors=[{"field": field, "message": _("Must be greater than zero.")}],
        )


def _level_filter(product_id: int, warehouse_id: int) -> Any:
    return StockLevel.objects.filter(product_id=product_id, warehouse_id=warehouse_id)


def _check_exists(*, product_id: int, warehouse_ids: list[int]) -> None:
    # Foreign keys are checked at commit on PostgreSQL: fail early with a clear message.
    if not Product.objects.filter(pk=product_id).exists():
        raise NotFoundError(
            _("Product %(id)s does not exist.") % {"id": product_id},
            errors=[{"field": "product_id", "message": _("Unknown product.")}],
        )
    found = set(Warehouse.objects.filter(pk__in=warehouse_ids).values_list("pk", flat=True))
    for warehouse_id in warehouse_ids:
        if warehouse_id not in found:
            raise NotFoundError(
                _("Warehouse %(id)s does not exist.") % {"id": warehouse_id},
                errors=[{"field": "warehouse_id", "message": _("Unknown warehouse.")}],
            )


def _on_hand_add(*, product_id: int, warehouse_id: int, quantity: int) -> None:
    """Add units on hand, creating the level row when it is the first stock there. Two
    callers creating the same row race on the unique constraint; the loser updates."""
    now = timezone.now()
    changed = _level_filter(product_id, warehouse_id).update(
        on_hand=F("on_hand") + quantity, updated_at=now
    )
    if changed:
        return
    try:
        with transaction.atomic():
            StockLevel.objects.create(
                product_id=product_id, warehouse_id=warehouse_id, on_hand=quantity
            )
    except IntegrityError:
        changed = _level_filter(product_id, warehouse_id).update(
            on_hand=F("on_hand") + quantity, updated_at=now
        )
        if not changed:
            raise


def _level_lock(*, product_id: int, warehouse_id: int) -> StockLevel:
    """The level row locked for this transaction, created (empty) when missing."""
    level = _level_filter(product_id, warehouse_id).select_for_update().first()
    if level is not None:
        return level
    try:
        with transaction.atomic():
            StockLevel.objects.create(product_id=product_id, warehouse_id=warehouse_id)
    except IntegrityError:
        pass  # created by a concurrent caller: lock theirs
    return _level_filter(product_id, warehouse_id).select_for_update().get()


def _increased(product_id: int, warehouse_id: int) -> None:
    publish(StockIncreased(product_id=product_id, warehouse_id=warehouse_id))


# --- reservations (the order hot path) ---------------------------------------------------


def stock_reserve_lines(
    *, order_id: int, lines: list[LineRequest], actor: Any = None, new_lines: bool = False
) -> dict[int, Reservation | None]:
    """Reserve each line whole in the first active ``sells_online`` warehouse (lowest
    priority first) that has the units; returns ``{order_line_id: Reservation | None}``,
    ``None`` meaning not enough stock anywhere (the caller backorders the line).

    The candidate levels are locked with one ``SELECT ... FOR UPDATE`` in (product id,
    warehouse id) order, so concurrent orders lock levels in the same order, and every
    line is written by one conditional ``UPDATE ... WHERE on_hand >= reserved + q``. A line
    that already has an active reservation gets it back untouched, so a replayed order
    reserves nothing twice; a concurrent duplicate loses on the one-active-per-line
    unique constraint and is answered from the winner's rows.

    ``new_lines=True`` says the order lines were created in the caller's transaction: no
    other transaction can see them, let alone have reserved them, so the look-up of
    existing reservations and the savepoint for that race are skipped (the order hot
    path)."""
    if not lines:
        return {}
    seen: set[int] = set()
    for line in lines:
        _positive(line.quantity)
        if line.order_line_id in seen:
            raise ApplicationError(
                _("Order line %(id)s appears twice.") % {"id": line.order_line_id}
            )
        seen.add(line.order_line_id)
    actor_id = _actor_id(actor)
    if new_lines:
        return _reserve_lines(order_id=order_id, lines=lines, actor_id=actor_id, new=True)
    try:
        with transaction.atomic():
            return _reserve_lines(order_id=order_id, lines=lines, actor_id=actor_id)
    except IntegrityError:
        # Another transaction reserved one of these lines first and has committed
        # (PostgreSQL waits for it before reporting the conflict): now we see its rows.
        with transaction.atomic():
            return _reserve_lines(order_id=order_id, lines=lines, actor_id=actor_id)


def _reserve_lines(
    *, order_id: int, lines: list[LineRequest], actor_id: int | None, new: bool = False
) -> dict[int, Reservation | None]:
    line_ids = [line.order_line_id for line in lines]
    result: dict[int, Reservation | None] = {line_id: None for line_id in line_ids}
    if not new:
        for reservation in Reservation.objects.filter(order_line_id__in=line_ids, status=ACTIVE):
            result[reservation.order_line_id] = reservation
    todo = sorted(
        (line for line in lines if result[line.order_line_id] is None),
        key=lambda line: (line.product_id, line.order_line_id),
    )
    if not todo:
        return result

    # Every candidate level of every product, locked in (product, warehouse) order: the
    # one lock order of this module, so concurrent orders never wait on each other in a
    # cycle. Under the lock the units read are exact: the choice is made here and written
    # with one UPDATE for all lines (on a busy SKU, the lock is held from here to commit,
    # as it would be from the first UPDATE).
    candidates: dict[int, list[list[Any]]] = defaultdict(list)
    rows = _candidate_levels_locked(sorted({line.product_id for line in todo}))
    for level_id, product_id, warehouse_id, on_hand, reserved, priority, code in rows:
        candidates[product_id].append([level_id, warehouse_id, on_hand - reserved, priority, code])
    for levels in candidates.values():
        levels.sort(key=lambda c: (c[3], c[4], c[1]))  # warehouse priority, code, id

    reservations: list[Reservation] = []
    deltas: dict[int, int] = defaultdict(int)
    for line in todo:
        q = line.quantity
        for candidate in candidates.get(line.product_id, []):
            level_id, warehouse_id, available = candidate[:3]
            if available < q:
                continue
            candidate[2] = available - q
            deltas[level_id] += q
            reservations.append(
                Reservation(
                    order_id=order_id,
                    order_line_id=line.order_line_id,
                    product_id=line.product_id,
                    warehouse_id=warehouse_id,
                    quantity=q,
                )
            )
            break
    if not deltas:
        return result
    now = timezone.now()
    if connection.vendor == "postgresql":
        written = _reserve_write_pg(
            deltas, reservations, order_id=order_id, actor_id=actor_id, now=now
        )
        for reservation in written:
            result[reservation.order_line_id] = reservation
        return result
    # Still a conditional UPDATE: it can only fail if a level changed without its lock,
    # and then nothing of this order may stand.
    delta = Case(
        *(When(pk=level_id, then=Value(q)) for level_id, q in deltas.items()),
        output_field=IntegerField(),
    )
    updated = StockLevel.objects.filter(
        pk__in=list(deltas), on_hand__gte=F("reserved") + delta
    ).update(reserved=F("reserved") + delta, updated_at=now)
    if updated != len(deltas):
        raise ConflictError(_("Stock changed while it was being reserved; try again."))
    for reservation in Reservation.objects.bulk_create(reservations):
        result[reservation.order_line_id] = reservation
    StockMovement.objects.bulk_create(
        StockMovement(
            product_id=r.product_id,
            warehouse_id=r.warehouse_id,
            reserved_delta=r.quantity,
            reason=Reason.RESERVE,
            actor_id=actor_id,
            order_id=order_id,
            order_line_id=r.order_line_id,
        )
        for r in reservations
    )
    return result


def _candidate_levels_locked(product_ids: list[int]) -> list[tuple[Any, ...]]:
    """(level id, product id, warehouse id, on_hand, reserved, warehouse priority, code)
    of every level of ``product_ids`` in an active online warehouse, locked, in (product,
    warehouse) order. Hand-written: it runs for every order, and the ORM's building of
    this join cost six times the statement (bench/ingest.py)."""
    level, warehouse = StockLevel._meta.db_table, Warehouse._meta.db_table
    lock = " FOR UPDATE OF s" if connection.features.has_select_for_update_of else ""
    sql = (
        "SELECT s.id, s.product_id, s.warehouse_id, s.on_hand, s.reserved, w.priority, w.code "  # noqa: S608 - table names from the models
        f"FROM {level} s JOIN {warehouse} w ON w.id = s.warehouse_id "
        f"WHERE s.product_id IN ({', '.join(['%s'] * len(product_ids))}) "
        f"AND w.is_active = %s AND w.sells_online = %s ORDER BY s.product_id, s.warehouse_id{lock}"
    )
    cursor = statement_cursor(connection)
    cursor.execute(sql, [*product_ids, True, True])
    return cursor.fetchall()


def _reserve_write_pg(
    deltas: dict[int, int],
    reservations: list[Reservation],
    *,
    order_id: int,
    actor_id: int | None,
    now: Any,
) -> list[Reservation]:
    """The levels' conditional UPDATE, the reservations and their ledger rows in one
    statement (PostgreSQL's data-modifying CTEs): the hot path's writes in one round trip
    instead of three ORM statements; each reservation's RESERVE movement is made from
    the reservation row itself. Returns the reservations with their ids.

    The rows travel as arrays (``unnest``), so the statement's text and its 15
    parameters are the same for any number of lines: psycopg parses it once per process
    (it re-parsed the former one, with 55 parameters for 3 lines, on every order)."""
    sql = f"""
        WITH levels AS (
            UPDATE {StockLevel._meta.db_table} AS s
            SET reserved = s.reserved + d.q, updated_at = %s
            FROM unnest(%s::bigint[], %s::integer[]) AS d (id, q)
            WHERE s.id = d.id AND s.on_hand >= s.reserved + d.q
            RETURNING s.id
        ), reservations AS (
            INSERT INTO {Reservation._meta.db_table} (order_id, order_line_id, product_id,
                warehouse_id, quantity, shipped_quantity, status, created_at, updated_at)
            SELECT %s, r.line, r.product, r.warehouse, r.q, 0, %s, %s, %s
            FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::integer[])
                AS r (line, product, warehouse, q)
            RETURNING id, order_line_id, product_id, warehouse_id, quantity
        ), movements AS (
            INSERT INTO {StockMovement._meta.db_table} (product_id, warehouse_id,
                on_hand_delta, reserved_delta, reason, actor_id, order_id, order_line_id,
                reference, note, created_at)
            SELECT product_id, warehouse_id, 0, quantity, %s, %s, %s, order_line_id, '', '', %s
            FROM reservations
        )
        SELECT (SELECT count(*) FROM levels), id, order_line_id FROM reservations
    """  # noqa: S608 - only table names from the models are formatted in
    params: list[Any] = [
        now,
        list(deltas),
        list(deltas.values()),
        order_id,
        str(ACTIVE),
        now,
        now,
        [r.order_line_id for r in reservations],
        [r.product_id for r in reservations],
        [r.warehouse_id for r in reservations],
        [r.quantity for r in reservations],
        str(Reason.RESERVE),
        actor_id,
        order_id,
        now,
    ]
    cursor = statement_cursor(connection)
    cursor.execute(sql, params)
    rows = cursor.fetchall()
    if not rows or rows[0][0] != len(deltas):
        # The levels are locked and were read under the lock: a level that no longer
        # holds the units means something changed it without its lock. Nothing of this
        # order may stand (the caller's transaction rolls back).
        raise ConflictError(_("Stock changed while it was being reserved; try again."))
    ids = {order_line_id: pk for _count, pk, order_line_id in rows}
    for r in reservations:
        r.pk = ids[r.order_line_id]
        r.shipped_quantity, r.status, r.created_at, r.updated_at = 0, ACTIVE, now, now
        r._state.adding, r._state.db = False, connection.alias
    return reservations


def _active_reservation_lock(order_line_id: int) -> Reservation | None:
    return (
        Reservation.objects.select_for_update()
        .filter(order_line_id=order_line_id, status=ACTIVE)
        .first()
    )


def _release(reservation: Reservation, *, actor_id: int | None, note: str) -> int:
    units = reservation.quantity - reservation.shipped_quantity
    now = timezone.now()
    if units:
        changed = StockLevel.objects.filter(
            product_id=reservation.product_id,
            warehouse_id=reservation.warehouse_id,
            reserved__gte=units,
        ).update(reserved=F("reserved") - units, updated_at=now)
        if not changed:
            raise ConflictError(
                _("Stock level of reservation %(id)s holds fewer reserved units than it.")
                % {"id": reservation.pk}
            )
        StockMovement.objects.create(
            product_id=reservation.product_id,
            warehouse_id=reservation.warehouse_id,
            reserved_delta=-units,
            reason=Reason.RELEASE,
            actor_id=actor_id,
            order_id=reservation.order_id,
            order_line_id=reservation.order_line_id,
            note=note,
        )
    reservation.status = Reservation.Status.RELEASED
    reservation.updated_at = now
    reservation.save(update_fields=["status", "updated_at"])
    return units


@transaction.atomic
def stock_release(*, order_line_id: int, actor: Any = None, note: str = "") -> int:
    """Give back what the line holds and has not shipped; returns the units released
    (0 when the line has no active reservation, so calling it twice is harmless)."""
    reservation = _active_reservation_lock(order_line_id)
    if reservation is None:
        return 0
    units = _release(reservation, actor_id=_actor_id(actor), note=note)
    if units:
        _increased(reservation.product_id, reservation.warehouse_id)
    return units


@transaction.atomic
def stock_release_lines(
    *, order_line_ids: list[int], actor: Any = None, note: str = ""
) -> dict[int, int]:
    """``stock_release`` for several lines (e.g. a whole order), in product order so it
    never deadlocks against a concurrent reservation; returns units released per line."""
    reservations = list(
        Reservation.objects.select_for_update()
        .filter(order_line_id__in=order_line_ids, status=ACTIVE)
        .order_by("product_id", "warehouse_id", "order_line_id")
    )
    actor_id = _actor_id(actor)
    released = dict.fromkeys(order_line_ids, 0)
    grown: set[tuple[int, int]] = set()
    for reservation in reservations:
        units = _release(reservation, actor_id=actor_id, note=note)
        released[reservation.order_line_id] = units
        if units:
            grown.add((reservation.product_id, reservation.warehouse_id))
    for product_id, warehouse_id in sorted(grown):
        _increased(product_id, warehouse_id)
    return released


@transaction.atomic
def stock_consume(
    *, order_line_id: int, quantity: int, actor: Any = None, reference: str = ""
) -> Reservation:
    """Ship ``quantity`` reserved units of the line: on hand and reserved both drop; the
    reservation is consumed once everything in it has shipped. Asking for more than is
    reserved and unshipped raises ``ApplicationError`` and changes nothing."""
    _positive(quantity)
    reservation = _active_reservation_lock(order_line_id)
    if reservation is None:
        raise ApplicationError(
            _("Order line %(id)s has no stock reserved.") % {"id": order_line_id},
            errors=[{"field": "order_line_id", "message": _("Nothing reserved.")}],
        )
    open_units = reservation.quantity - reservation.shipped_quantity
    if quantity > open_units:
        raise ApplicationError(
            _("Only %(open)s unit(s) are reserved and unshipped; cannot ship %(q)s.")
            % {"open": open_units, "q": quantity},
            errors=[{"field": "quantity", "message": _("More than reserved.")}],
        )
    now = timezone.now()
    changed = StockLevel.objects.filter(
        product_id=reservation.product_id,
        warehouse_id=reservation.warehouse_id,
        reserved__gte=quantity,
        on_hand__gte=quantity,
    ).update(on_hand=F("on_hand") - quantity, reserved=F("reserved") - quantity, updated_at=now)
    if not changed:
        raise ConflictError(_("The stock level does not hold the reserved units."))
    StockMovement.objects.create(
        product_id=reservation.product_id,
        warehouse_id=reservation.warehouse_id,
        on_hand_delta=-quantity,
        reserved_delta=-quantity,
        reason=Reason.SHIP,
        actor_id=_actor_id(actor),
        order_id=reservation.order_id,
        order_line_id=reservation.order_line_id,
        reference=reference[:120],
    )
    reservation.shipped_quantity += quantity
    if reservation.shipped_quantity == reservation.quantity:
        reservation.status = Reservation.Status.CONSUMED
    reservation.updated_at = now
    reservation.save(update_fields=["shipped_quantity", "status", "updated_at"])
    return reservation


# --- stock in, out and between warehouses ------------------------------------------------


@transaction.atomic
def stock_receive(
    *,
    product_id: int,
    warehouse_id: int,
    quantity: int,
    actor: Any = None,
    reference: str = "",
    reason: str = Reason.RECEIPT,
    note: str = "",
) -> StockMovement:
    """Units arrive in a warehouse (a supplier delivery, by default)."""
    _positive(quantity)
    _check_exists(product_id=product_id, warehouse_ids=[warehouse_id])
    _on_hand_add(product_id=product_id, warehouse_id=warehouse_id, quantity=quantity)
    movement = StockMovement.objects.create(
        product_id=product_id,
        warehouse_id=warehouse_id,
        on_hand_delta=quantity,
        reason=reason,
        actor_id=_actor_id(actor),
        reference=reference[:120],
        note=note,
    )
    _increased(product_id, warehouse_id)
    return movement


@transaction.atomic
def stock_restock_return(
    *,
    product_id: int,
    warehouse_id: int,
    quantity: int,
    order_id: int,
    order_line_id: int,
    actor: Any = None,
) -> StockMovement:
    """A customer's returned units go back on the shelf, sellable again."""
    _positive(quantity)
    _check_exists(product_id=product_id, warehouse_ids=[warehouse_id])
    _on_hand_add(product_id=product_id, warehouse_id=warehouse_id, quantity=quantity)
    movement = StockMovement.objects.create(
        product_id=product_id,
        warehouse_id=warehouse_id,
        on_hand_delta=quantity,
        reason=Reason.RETURN,
        actor_id=_actor_id(actor),
        order_id=order_id,
        order_line_id=order_line_id,
    )
    _increased(product_id, warehouse_id)
    return movement


@transaction.atomic
def stock_adjust(
    *,
    product_id: int,
    warehouse_id: int,
    new_on_hand: int | None = None,
    delta: int | None = None,
    actor: Any = None,
    note: str = "",
) -> StockMovement | None:
    """Correct units on hand: ``new_on_hand`` records a count, ``delta`` an adjustment
    (found, damaged, lost). On hand can never drop below what is reserved: release or
    ship those first. Returns the movement, or ``None`` when nothing changed."""
    if (new_on_hand is None) == (delta is None):
        raise ApplicationError(
            _("Give either the counted quantity or the change, not both."),
            errors=[{"field": "new_on_hand", "message": _("Give exactly one of the two.")}],
        )
    if new_on_hand is not None and new_on_hand < 0:
        raise ApplicationError(
            _("A count cannot be negative."),
            errors=[{"field": "new_on_hand", "message": _("Must be zero or more.")}],
        )
    _check_exists(product_id=product_id, warehouse_ids=[warehouse_id])
    level = _level_lock(product_id=product_id, warehouse_id=warehouse_id)
    change = new_on_hand - level.on_hand if new_on_hand is not None else int(delta or 0)
    if change == 0:
        return None
    if level.on_hand + change < level.reserved:
        raise ApplicationError(
            _(
                "On hand would be %(new)s but %(reserved)s unit(s) are reserved for orders; "
                "release or ship them first."
            )
            % {"new": level.on_hand + change, "reserved": level.reserved},
            errors=[
                {
                    "field": "new_on_hand" if delta is None else "delta",
                    "message": _("Below reserved."),
                }
            ],
        )
    StockLevel.objects.filter(pk=level.pk).update(
        on_hand=F("on_hand") + change, updated_at=timezone.now()
    )
    movement = StockMovement.objects.create(
        product_id=product_id,
        warehouse_id=warehouse_id,
        on_hand_delta=change,
        reason=Reason.COUNT if new_on_hand is not None else Reason.ADJUSTMENT,
        actor_id=_actor_id(actor),
        note=note,
    )
    if change > 0:
        _increased(product_id, warehouse_id)
    return movement


@transaction.atomic
def stock_transfer(
    *,
    product_id: int,
    from_warehouse_id: int,
    to_warehouse_id: int,
    quantity: int,
    actor: Any = None,
    note: str = "",
) -> tuple[StockMovement, StockMovement]:
    """Move available (unreserved) units between warehouses: one movement out, one in."""
    _positive(quantity)
    if from_warehouse_id == to_warehouse_id:
        raise ApplicationError(
            _("Choose a different destination warehouse."),
            errors=[{"field": "to_warehouse_id", "message": _("Same as the origin.")}],
        )
    _check_exists(product_id=product_id, warehouse_ids=[from_warehouse_id, to_warehouse_id])
    now = timezone.now()
    # Both levels in warehouse id order: two opposite transfers cannot deadlock.
    for warehouse_id in sorted((from_warehouse_id, to_warehouse_id)):
        if warehouse_id == to_warehouse_id:
            _on_hand_add(product_id=product_id, warehouse_id=warehouse_id, quantity=quantity)
            continue
        taken = (
            _level_filter(product_id, warehouse_id)
            .filter(on_hand__gte=F("reserved") + quantity)
            .update(on_hand=F("on_hand") - quantity, updated_at=now)
        )
        if not taken:
            available = (
                _level_filter(product_id, warehouse_id).values_list("on_hand", "reserved").first()
            )
            raise ApplicationError(
                _("Only %(n)s unit(s) are available to transfer.")
                % {"n": available[0] - available[1] if available else 0},
                errors=[{"field": "quantity", "message": _("More than available.")}],
            )
    actor_id = _actor_id(actor)
    out, into = StockMovement.objects.bulk_create(
        [
            StockMovement(
                product_id=product_id,
                warehouse_id=from_warehouse_id,
                on_hand_delta=-quantity,
                reason=Reason.TRANSFER_OUT,
                actor_id=actor_id,
                note=note,
            ),
            StockMovement(
                product_id=product_id,
                warehouse_id=to_warehouse_id,
                on_hand_delta=quantity,
                reason=Reason.TRANSFER_IN,
                actor_id=actor_id,
                note=note,
            ),
        ]
    )
    _increased(product_id, to_warehouse_id)
    return out, into


# --- purchasing ----------------------------------------------------------------------------


@transaction.atomic
def purchase_order_receive(*, purchase_order_id: int, actor: Any = None) -> int:
    """Receive everything still outstanding on a purchase order into its warehouse;
    returns the units received. Receiving it again receives nothing more."""
    po = PurchaseOrder.objects.select_for_update().filter(pk=purchase_order_id).first()
    if po is None:
        raise NotFoundError(_("Purchase order %(id)s does not exist.") % {"id": purchase_order_id})
    if po.status == PurchaseOrder.Status.CANCELLED:
        raise ConflictError(_("PO-%(id)s is cancelled.") % {"id": po.pk})
    total = 0
    lines = PurchaseOrderLine.objects.filter(purchase_order=po).order_by("product_id", "id")
    for line in lines:
        outstanding = line.quantity - line.received_quantity
        if outstanding <= 0:
            continue
        stock_receive(
            product_id=line.product_id,
            warehouse_id=po.warehouse_id,
            quantity=outstanding,
            actor=actor,
            reference=f"PO-{po.pk}",
        )
        line.received_quantity = line.quantity
        line.save(update_fields=["received_quantity"])
        total += outstanding
    if po.status != PurchaseOrder.Status.RECEIVED:
        po.status = PurchaseOrder.Status.RECEIVED
        po.save(update_fields=["status"])
    return total


def purchase_order_total_refresh(*, purchase_order_id: int) -> Decimal:
    """Recompute the order's total from its lines (quantity × unit cost)."""
    total = quantize(
        PurchaseOrderLine.objects.filter(purchase_order_id=purchase_order_id).aggregate(
            t=Coalesce(
                Sum(F("quantity") * F("unit_cost"), output_field=DecimalField()),
                Value(Decimal("0")),
                output_field=DecimalField(),
            )
        )["t"]
    )
    PurchaseOrder.objects.filter(pk=purchase_order_id).update(total=total)
    return total
