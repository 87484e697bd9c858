"""Demo helper: ship (and deliver) an order through the real services, with tracking
events, so the demo shop's shipments, tracking and carrier scorecard look lived-in.
Call it from the demo loader for orders that should appear shipped."""

from __future__ import annotations

from datetime import datetime, timedelta

from logistics.models import TrackingEvent
from logistics.services import (
    TrackingUpdate,
    parcel_add,
    shipment_ship,
    shipments_plan,
    tracking_event_record,
)


def demo_ship(*, order_id: int, shipped_at: datetime, delivered_at: datetime | None = None) -> int:
    """Plan, pack, ship and (optionally) deliver every reserved unit of an order; returns
    the number of shipments."""
    shipments = shipments_plan(order_id=order_id, wave=f"{shipped_at:%Y%m%d}")
    for shipment in shipments:
        code = f"DM{shipment.pk:09d}BR"
        parcel_add(shipment_id=shipment.pk, tracking_code=code)
        shipment_ship(shipment_id=shipment.pk, shipped_at=shipped_at)
        steps = [("PO01", shipped_at + timedelta(hours=2), "posted")]
        if delivered_at is not None:
            steps += [
                ("RO01", shipped_at + (delivered_at - shipped_at) / 2, "in_transit"),
                ("OEC01", delivered_at - timedelta(hours=4), "out_for_delivery"),
                ("BDE01", delivered_at, "delivered"),
            ]
        for step_code, at, kind in steps:
            tracking_event_record(
                update=TrackingUpdate(
                    tracking_code=code, code=step_code, occurred_at=at, kind=kind
                ),
                source=TrackingEvent.Source.MANUAL,
            )
    return len(shipments)
