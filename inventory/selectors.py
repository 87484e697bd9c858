"""The read API of inventory: lists, totals and the ledger check, each in a fixed
number of queries whatever the number of rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from backoffice.money import quantize
from inventory.models import Product, Reservation, StockLevel, StockMovement

_ONLINE = Q(warehouse__is_active=True, warehouse__sells_online=True)
_AVAILABLE = ExpressionWrapper(F("on_hand") - F("reserved"), output_field=IntegerField())
_MONEY: DecimalField = DecimalField(max_digits=20, decimal_places=2)


def stock_available(*, product_id: int, warehouse_id: int | None = None) -> int:
    """Units of the product that online orders can still reserve (active, selling
    warehouses), or in one warehouse when ``warehouse_id`` is given."""
    levels = StockLevel.objects.filter(product_id=product_id)
    levels = levels.filter(warehouse_id=warehouse_id) if warehouse_id else levels.filter(_ONLINE)
    return int(levels.aggregate(n=Coalesce(Sum(_AVAILABLE), 0))["n"])


def stock_level_list(*, filters: dict[str, Any] | None = None) -> QuerySet[StockLevel]:
    """Levels with product and warehouse joined and ``available_units`` computed in SQL.
    filters: ``sku``, ``product_id``, ``warehouse`` (code), ``warehouse_id``."""
    filters = filters or {}
    qs = StockLevel.objects.select_related("product", "warehouse").annotate(
        available_units=_AVAILABLE
    )
    if filters.get("sku"):
        qs = qs.filter(product__sku=filters["sku"])
    if filters.get("product_id"):
        qs = qs.filter(product_id=filters["product_id"])
    if filters.get("warehouse"):
        qs = qs.filter(warehouse__code=filters["warehouse"])
    if filters.get("warehouse_id"):
        qs = qs.filter(warehouse_id=filters["warehouse_id"])
    return qs.order_by("product__sku", "warehouse__priority", "warehouse_id")


def product_list(*, filters: dict[str, Any] | None = None) -> QuerySet[Product]:
    """Products with ``on_hand_total`` and ``available_total`` (online warehouses)
    computed by subqueries, so the list costs one query.
    filters: ``sku``, ``is_active``, ``search`` (sku, name or barcode contains)."""
    filters = filters or {}
    online = StockLevel.objects.filter(_ONLINE, product_id=OuterRef("pk")).order_by()
    qs = Product.objects.select_related("supplier").annotate(
        on_hand_total=Coalesce(
            Subquery(
                StockLevel.objects.filter(product_id=OuterRef("pk"))
                .order_by()
                .values("product_id")
                .annotate(n=Sum("on_hand"))
                .values("n")
            ),
            0,
        ),
        available_total=Coalesce(
            Subquery(online.values("product_id").annotate(n=Sum(_AVAILABLE)).values("n")),
            0,
        ),
    )
    if filters.get("sku"):
        qs = qs.filter(sku=filters["sku"])
    if filters.get("is_active") is not None:
        qs = qs.filter(is_active=filters["is_active"])
    if filters.get("search"):
        term = filters["search"]
        qs = qs.filter(
            Q(sku__icontains=term) | Q(name__icontains=term) | Q(barcode__icontains=term)
        )
    return qs


def stock_value_total(*, warehouse_id: int | None = None) -> Decimal:
    """Value of the units on hand at the products' unit cost."""
    levels = StockLevel.objects.all()
    if warehouse_id:
        levels = levels.filter(warehouse_id=warehouse_id)
    total = levels.aggregate(
        v=Coalesce(
            Sum(
                ExpressionWrapper(F("on_hand") * F("product__cost"), output_field=_MONEY),
            ),
            Value(Decimal("0")),
            output_field=_MONEY,
        )
    )["v"]
    return quantize(total)


@dataclass(frozen=True)
class AgingRow:
    product_id: int
    sku: str
    warehouse_id: int
    on_hand: int
    aged_units: int
    aged_value: Decimal


@dataclass(frozen=True)
class StockAging:
    days: int
    units: int
    value: Decimal
    rows: list[AgingRow]


_INBOUND = [
    StockMovement.Reason.RECEIPT,
    StockMovement.Reason.TRANSFER_IN,
    StockMovement.Reason.RETURN,
]


def stock_aging(*, days: int, as_of: datetime | None = None) -> StockAging:
    """Units (and their value at cost) that have sat for more than ``days``.

    Approximation, first in first out: what leaves is the oldest, so the units still
    on hand are the most recently arrived; units older than ``days`` are what is on
    hand beyond the receipts, transfers in and returns of the last ``days``."""
    cutoff = (as_of or timezone.now()) - timedelta(days=days)
    recent = (
        StockMovement.objects.filter(
            product_id=OuterRef("product_id"),
            warehouse_id=OuterRef("warehouse_id"),
            reason__in=_INBOUND,
            created_at__gt=cutoff,
            on_hand_delta__gt=0,
        )
        .order_by()
        .values("product_id")
        .annotate(n=Sum("on_hand_delta"))
        .values("n")
    )
    levels = (
        StockLevel.objects.filter(on_hand__gt=0)
        .annotate(
            aged=Greatest(
                F("on_hand") - Coalesce(Subquery(recent, output_field=IntegerField()), 0),
                Value(0),
                output_field=IntegerField(),
            )
        )
        .filter(aged__gt=0)
        .order_by("product__sku", "warehouse_id")
        .values_list(
            "product_id", "product__sku", "warehouse_id", "on_hand", "aged", "product__cost"
        )
    )
    rows = [
        AgingRow(pid, sku, wid, on_hand, aged, quantize(aged * cost))
        for pid, sku, wid, on_hand, aged, cost in levels
    ]
    return StockAging(
        days=days,
        units=sum(r.aged_units for r in rows),
        value=quantize(sum((r.aged_value for r in rows), Decimal("0"))),
        rows=rows,
    )


@dataclass(frozen=True)
class LedgerDiscrepancy:
    level_id: int | None
    product_id: int
    warehouse_id: int
    on_hand: int
    reserved: int
    ledger_on_hand: int
    ledger_reserved: int
    reservations_open: int

    def __str__(self) -> str:
        return (
            f"product {self.product_id} @ warehouse {self.warehouse_id}: "
            f"on_hand {self.on_hand} vs ledger {self.ledger_on_hand}; "
            f"reserved {self.reserved} vs ledger {self.ledger_reserved} "
            f"vs open reservations {self.reservations_open}"
        )


def stock_ledger_check() -> list[LedgerDiscrepancy]:
    """Every stock level whose numbers the ledger does not explain: on hand must equal
    the sum of its movements' on-hand changes, reserved the sum of their reserved
    changes and the unshipped units of its active reservations. Movements for a
    product and warehouse with no level row are reported too. One statement: the
    movements and reservations are aggregated with GROUP BY and joined to the levels."""
    level = StockLevel._meta.db_table
    movement = StockMovement._meta.db_table
    reservation = Reservation._meta.db_table
    sql = f"""
        SELECT l.id, l.product_id, l.warehouse_id, l.on_hand, l.reserved,
               COALESCE(m.on_hand_sum, 0), COALESCE(m.reserved_sum, 0), COALESCE(r.open_units, 0)
        FROM {level} l
        LEFT JOIN (
            SELECT product_id, warehouse_id,
                   SUM(on_hand_delta) AS on_hand_sum, SUM(reserved_delta) AS reserved_sum
            FROM {movement} GROUP BY product_id, warehouse_id
        ) m ON m.product_id = l.product_id AND m.warehouse_id = l.warehouse_id
        LEFT JOIN (
            SELECT product_id, warehouse_id, SUM(quantity - shipped_quantity) AS open_units
            FROM {reservation} WHERE status = %s GROUP BY product_id, warehouse_id
        ) r ON r.product_id = l.product_id AND r.warehouse_id = l.warehouse_id
        WHERE l.on_hand <> COALESCE(m.on_hand_sum, 0)
           OR l.reserved <> COALESCE(m.reserved_sum, 0)
           OR l.reserved <> COALESCE(r.open_units, 0)
        UNION ALL
        SELECT NULL, m.product_id, m.warehouse_id, 0, 0,
               SUM(m.on_hand_delta), SUM(m.reserved_delta), 0
        FROM {movement} m
        WHERE NOT EXISTS (
            SELECT 1 FROM {level} l2
            WHERE l2.product_id = m.product_id AND l2.warehouse_id = m.warehouse_id
        )
        GROUP BY m.product_id, m.warehouse_id
        HAVING SUM(m.on_hand_delta) <> 0 OR SUM(m.reserved_delta) <> 0
        ORDER BY 2, 3
    """  # noqa: S608 - table names come from model metadata, values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [Reservation.Status.ACTIVE.value])
        return [LedgerDiscrepancy(*(row[0:1] + tuple(int(v) for v in row[1:]))) for row in cursor]


def inventory_kpis() -> dict[str, Any]:
    """Dashboard numbers: active SKUs that online orders cannot reserve any more, and
    the stock's value at cost. Two queries."""
    out_of_stock = product_list(filters={"is_active": True}).filter(Q(available_total__lte=0))
    return {"out_of_stock": out_of_stock.count(), "stock_value": stock_value_total()}
