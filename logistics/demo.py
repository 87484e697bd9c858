"""Demo builders for logistics: reference data, dispatch (plan, pack, ship with freight),
carrier scans, returns in every state, and closing the delay tickets of late parcels.

Everything goes through ``logistics.services`` (and, from there, inventory's ledger,
orders' fulfilment axis, crm's outbox), so the demo shop's shipments, tracking, alerts,
returns and carrier scorecard are what the real flows would have produced. Each builder
acts at ``timezone.now()``; the demo loader runs it under ``backoffice.demo.demo_clock``
to place it in the past. ``demo_ship`` ships one order in one call (tests use it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from backoffice.errors import ApplicationError
from logistics.models import DelayAlert, ReturnLine, ReturnRequest, Shipment, TrackingEvent
from logistics.reference import logistics_reference_seed
from logistics.services import (
    ReturnGradeIn,
    ReturnLineIn,
    TrackingUpdate,
    pack_verify,
    parcel_add,
    return_approve,
    return_close,
    return_receive,
    return_refund,
    return_reject,
    return_request_create,
    shipment_ship,
    shipments_plan,
    tracking_event_record,
)

# Correios-style scan codes: (code, kind, description).
POSTED = ("PO01", "posted", "Objeto postado")
IN_TRANSIT = ("RO01", "in_transit", "Objeto em trânsito - por favor aguarde")
OUT_FOR_DELIVERY = ("OEC01", "out_for_delivery", "Objeto saiu para entrega ao destinatário")
DELIVERED = ("BDE01", "delivered", "Objeto entregue ao destinatário")
HUBS = ["CTE Cajamar/SP", "CTE Benfica/RJ", "CTE Contagem/MG", "CTCE Curitiba/PR", "CTE Recife/PE"]


def demo_reference() -> dict[str, int]:
    """Carriers, methods, the transit table and holidays (idempotent)."""
    return logistics_reference_seed()


@dataclass(frozen=True)
class Dispatched:
    shipment_id: int
    tracking_code: str
    promised_date: date | None
    destination: str


def demo_dispatch(*, order_id: int, freight_cost: Decimal | None = None) -> list[Dispatched]:
    """Plan the order's shipments (one per warehouse), add a parcel, scan the box at the
    packing bench and hand it to the carrier, now. An order with nothing reserved to ship
    (on hold, backordered, cancelled) gets nothing."""
    try:
        shipments = shipments_plan(order_id=order_id, wave=f"{timezone.localdate():%Y%m%d}")
    except ApplicationError:
        return []
    out = []
    for shipment in shipments:
        prefix = {"sedex": "SX", "pac": "PC"}.get(getattr(shipment.method, "code", ""), "JD")
        code = f"{prefix}{shipment.pk:09d}BR"
        parcel_add(shipment_id=shipment.pk, tracking_code=code, weight_grams=0)
        scanned = [(line.order_line.sku, line.quantity) for line in shipment.lines.all()]
        pack_verify(shipment_id=shipment.pk, scanned=scanned)
        shipped = shipment_ship(shipment_id=shipment.pk, freight_cost=freight_cost)
        order = shipped.order
        out.append(
            Dispatched(
                shipment_id=shipped.pk,
                tracking_code=code,
                promised_date=shipped.promised_date,
                destination=f"{order.ship_city}/{order.ship_state}".strip("/"),
            )
        )
    return out


def demo_scan(
    *, tracking_code: str, step: tuple[str, str, str], location: str = ""
) -> tuple[TrackingEvent | None, str]:
    """The carrier reports one scan now (as its webhook would). A delivered scan on the
    last parcel delivers the shipment (and e-mails the customer)."""
    code, kind, description = step
    return tracking_event_record(
        update=TrackingUpdate(
            tracking_code=tracking_code,
            code=code,
            occurred_at=timezone.now(),
            kind=kind,
            description=description,
            location=location,
        ),
        source=TrackingEvent.Source.WEBHOOK,
    )


def demo_ship(*, order_id: int, shipped_at: datetime, delivered_at: datetime | None = None) -> int:
    """Plan, pack, ship and (optionally) deliver every reserved unit of an order in one
    call, with tracking events at the given times; returns the number of shipments."""
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


def demo_delay_tickets_resolve(*, shipment_id: int, note: str) -> int:
    """Customer service closes the delay ticket(s) of a parcel that finally arrived."""
    from crm.models import Ticket
    from crm.services import ticket_status_set

    ticket_ids = (
        DelayAlert.objects.filter(shipment_id=shipment_id, ticket_id__isnull=False)
        .values_list("ticket_id", flat=True)
        .distinct()
    )
    done = 0
    for ticket_id in Ticket.objects.filter(
        pk__in=list(ticket_ids), status__in=[Ticket.Status.OPEN, Ticket.Status.PENDING]
    ).values_list("pk", flat=True):
        ticket_status_set(ticket_id=ticket_id, status=Ticket.Status.RESOLVED, note=note)
        done += 1
    return done


# --- returns ----------------------------------------------------------------------------


def demo_return_open(
    *, order_id: int, reason: str, is_exchange: bool = False, note: str = ""
) -> int | None:
    """The customer asks to send back one unit of the order's first shipped line."""
    shipment = (
        Shipment.objects.filter(order_id=order_id, status=Shipment.Status.DELIVERED)
        .order_by("pk")
        .first()
    )
    if shipment is None:
        return None
    line = shipment.lines.order_by("order_line_id").first()
    if line is None:
        return None
    try:
        ret = return_request_create(
            order_id=order_id,
            lines=[ReturnLineIn(order_line_id=line.order_line_id, quantity=1, reason=reason)],
            is_exchange=is_exchange,
            note=note,
        )
    except ApplicationError:
        return None
    return ret.pk


def demo_return_step(*, return_id: int, step: str, reason: str = "") -> ReturnRequest:
    """Move a return one step: approve, reject, receive (graded by the reason: damaged
    and defective units are scrapped, the rest goes back to stock), refund or close."""
    if step == "approve":
        return return_approve(return_id=return_id)
    if step == "reject":
        return return_reject(return_id=return_id, reason=reason)
    if step == "receive":
        grades = [
            ReturnGradeIn(
                return_line_id=line.pk,
                grading=(
                    ReturnLine.Grading.SCRAP
                    if line.reason in (ReturnLine.Reason.DAMAGED, ReturnLine.Reason.DEFECTIVE)
                    else ReturnLine.Grading.RESELL
                ),
                received_quantity=line.quantity,
            )
            for line in ReturnLine.objects.filter(return_request_id=return_id)
        ]
        return return_receive(return_id=return_id, grades=grades)
    if step == "refund":
        return return_refund(return_id=return_id)
    if step == "close":
        return return_close(return_id=return_id)
    raise ValueError(f"unknown return step {step!r}")
