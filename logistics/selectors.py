"""logistics' read API: carrier scorecard, on-time rate, pick lists and packing slips."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time
from decimal import Decimal
from itertools import groupby
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Prefetch, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from logistics.models import DelayAlert, ReturnLine, Shipment, ShipmentLine


def _aware(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    return timezone.make_aware(datetime.combine(value, time.min))


def _rate(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"))


def carrier_scorecard(*, month_start: date, month_end: date) -> list[dict[str, Any]]:
    """Per carrier and month (of shipping), for shipments shipped in [month_start,
    month_end): shipped, delivered, on time (delivered on or before the promised date),
    on-time rate, average days to deliver, delay alerts and returns. Three grouped SQL
    queries, whatever the number of shipments."""
    start, end = _aware(month_start), _aware(month_end)
    tz = timezone.get_current_timezone()
    base = Shipment.objects.filter(
        shipped_at__gte=start, shipped_at__lt=end, is_replacement=False, method__isnull=False
    )
    delivered = Q(status=Shipment.Status.DELIVERED)
    rows = (
        base.annotate(month=TruncMonth("shipped_at", tzinfo=tz))
        .values("month", "method__carrier_id", "method__carrier__name")
        .annotate(
            shipped=Count("id"),
            delivered=Count("id", filter=delivered),
            on_time=Count(
                "id",
                filter=delivered
                & Q(promised_date__isnull=False, delivered_at__date__lte=F("promised_date")),
            ),
            avg_transit=Avg(
                ExpressionWrapper(
                    F("delivered_at") - F("shipped_at"), output_field=DurationField()
                ),
                filter=delivered,
            ),
        )
        .order_by("month", "method__carrier__name")
    )
    delays = (
        DelayAlert.objects.filter(shipment__in=base)
        .annotate(month=TruncMonth("shipment__shipped_at", tzinfo=tz))
        .values("month", "shipment__method__carrier_id")
        .annotate(n=Count("shipment_id", distinct=True))
    )
    returns = (
        ReturnLine.objects.filter(
            order_line__shipmentline__shipment__in=base,
        )
        .exclude(return_request__status="rejected")
        .annotate(month=TruncMonth("order_line__shipmentline__shipment__shipped_at", tzinfo=tz))
        .values("month", "order_line__shipmentline__shipment__method__carrier_id")
        .annotate(n=Count("return_request_id", distinct=True))
    )
    delay_by = {(_m(r["month"]), r["shipment__method__carrier_id"]): r["n"] for r in delays}
    return_by = {
        (_m(r["month"]), r["order_line__shipmentline__shipment__method__carrier_id"]): r["n"]
        for r in returns
    }
    out = []
    for r in rows:
        key = (_m(r["month"]), r["method__carrier_id"])
        avg = r["avg_transit"]
        out.append(
            {
                "month": key[0],
                "carrier_id": r["method__carrier_id"],
                "carrier": r["method__carrier__name"],
                "shipped": r["shipped"],
                "delivered": r["delivered"],
                "on_time": r["on_time"],
                "on_time_rate": _rate(r["on_time"], r["delivered"]),
                "avg_days_to_deliver": (
                    Decimal(avg.total_seconds() / 86400).quantize(Decimal("0.1"))
                    if avg is not None
                    else None
                ),
                "delays": delay_by.get(key, 0),
                "returns": return_by.get(key, 0),
            }
        )
    return out


def _m(value: Any) -> date:
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def delivery_on_time_rate(*, start: date | datetime, end: date | datetime) -> Decimal | None:
    """Share (0..1) of shipments delivered in [start, end) that arrived by their promised
    date; None when none was delivered."""
    qs = Shipment.objects.filter(
        status=Shipment.Status.DELIVERED,
        is_replacement=False,
        delivered_at__gte=_aware(start),
        delivered_at__lt=_aware(end),
    )
    agg = qs.aggregate(
        total=Count("id"),
        on_time=Count(
            "id",
            filter=Q(promised_date__isnull=False, delivered_at__date__lte=F("promised_date")),
        ),
    )
    return _rate(agg["on_time"], agg["total"])


def shipment_document_queryset(shipment_ids: list[int]) -> QuerySet[Shipment]:
    return (
        Shipment.objects.filter(pk__in=shipment_ids)
        .select_related("order", "warehouse", "method__carrier")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=ShipmentLine.objects.select_related("order_line__product").order_by(
                    "order_line__sku"
                ),
            ),
            "parcels",
        )
        .order_by("warehouse__code", "wave", "id")
    )


def pick_list(*, shipment_ids: list[int]) -> list[dict[str, Any]]:
    """Pick lists grouped by warehouse and wave: per group, the units to pick per SKU
    (summed over shipments) and the shipments they go to."""
    shipments = list(shipment_document_queryset(shipment_ids))
    groups = []
    for (warehouse, wave), items in groupby(shipments, key=lambda s: (s.warehouse, s.wave)):
        members = list(items)
        per_sku: dict[str, dict[str, Any]] = {}
        where: dict[str, list[str]] = defaultdict(list)
        for shipment in members:
            for line in shipment.lines.all():
                ol = line.order_line
                row = per_sku.setdefault(
                    ol.sku,
                    {
                        "sku": ol.sku,
                        "name": ol.name,
                        "barcode": ol.product.barcode if ol.product else "",
                        "quantity": 0,
                    },
                )
                row["quantity"] += line.quantity
                where[ol.sku].append(f"{shipment} ×{line.quantity}")
        rows = sorted(per_sku.values(), key=lambda r: r["sku"])
        for row in rows:
            row["shipments"] = ", ".join(where[row["sku"]])
        groups.append(
            {
                "warehouse": warehouse,
                "wave": wave,
                "shipments": members,
                "rows": rows,
                "units": sum(r["quantity"] for r in rows),
            }
        )
    return groups


def logistics_kpis() -> dict[str, int]:
    """Dashboard numbers: shipments waiting to leave, in transit, open delay alerts."""
    counts = Shipment.objects.aggregate(
        to_ship=Count("id", filter=Q(status__in=[Shipment.Status.DRAFT, Shipment.Status.PACKED])),
        in_transit=Count("id", filter=Q(status=Shipment.Status.SHIPPED)),
    )
    counts["open_delay_alerts"] = DelayAlert.objects.filter(resolved_at__isnull=True).count()
    return counts
