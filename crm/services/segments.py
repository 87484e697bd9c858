"""RFM segments: recency, frequency and monetary value in 1-5 quintiles.

crm never imports orders: the aggregation runs over the ``Customer.orders`` reverse
relation (the ORM join, not an import), with cancelled orders left out by their status
value. Quintiles come from SQL ``PERCENT_RANK()`` windows over the aggregated rows, so
ties share a score (the lower one): the many one-order customers all get F=1 instead of
being spread over tiles by id, as ``NTILE`` would do.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, F, Max, Q, Sum, Window
from django.db.models.functions import PercentRank
from django.utils import timezone

from crm.models import Customer, CustomerRFM

CANCELLED = "cancelled"  # orders.status.Lifecycle.CANCELLED, by value
Segment = CustomerRFM.Segment


def rfm_segment(*, r: int, f: int, m: int, frequency: int) -> str:
    """The usual RFM map, reduced to the labels staff act on."""
    if r >= 4 and f >= 4:
        return Segment.CHAMPIONS
    if r >= 4 and frequency == 1:
        return Segment.NEW
    if r >= 3 and f >= 3:
        return Segment.LOYAL
    if r >= 3:
        return Segment.POTENTIAL
    if f >= 3:
        return Segment.AT_RISK
    if r == 2:
        return Segment.HIBERNATING
    return Segment.LOST


def _quintile(percent_rank: float | None) -> int:
    """0.0 -> 1 ... 1.0 -> 5."""
    return min(5, 1 + int((percent_rank or 0.0) * 5))


def rfm_compute(*, now: datetime | None = None) -> int:
    """Recompute every customer's scores (scheduled by beat); returns rows written."""
    now = now or timezone.now()
    valid = ~Q(orders__status=CANCELLED)
    rows = (
        Customer.objects.annotate(
            last_order_at=Max("orders__placed_at", filter=valid),
            frequency=Count("orders", filter=valid),
            monetary=Sum("orders__total", filter=valid),
        )
        .filter(frequency__gt=0)
        .annotate(
            # Older last order -> lower tile; fewer/lower -> lower tile.
            r_rank=Window(PercentRank(), order_by=F("last_order_at").asc()),
            f_rank=Window(PercentRank(), order_by=F("frequency").asc()),
            m_rank=Window(PercentRank(), order_by=F("monetary").asc()),
        )
        .values("id", "last_order_at", "frequency", "monetary", "r_rank", "f_rank", "m_rank")
    )
    scores = []
    for row in rows:
        r, f, m = (_quintile(row[k]) for k in ("r_rank", "f_rank", "m_rank"))
        recency_days = max((now - row["last_order_at"]).days, 0)
        scores.append(
            CustomerRFM(
                customer_id=row["id"],
                last_order_at=row["last_order_at"],
                recency_days=recency_days,
                frequency=row["frequency"],
                monetary=row["monetary"] or Decimal("0"),
                r=r,
                f=f,
                m=m,
                segment=rfm_segment(r=r, f=f, m=m, frequency=row["frequency"]),
                computed_at=now,
            )
        )
    with transaction.atomic():
        CustomerRFM.objects.all().delete()
        CustomerRFM.objects.bulk_create(scores, batch_size=1000)
    return len(scores)
