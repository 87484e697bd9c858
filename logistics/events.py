"""Events logistics publishes (on commit, carrying ids): finance and crm subscribe.

Refunds: logistics decides that money goes back (a received return, its amount) and
publishes ``RefundRequested``; finance subscribes and books/pays the refund. The order's
payment axis is moved by logistics through ``orders.services.order_payment_set`` in the
same transaction, so the order page and the customer e-mail agree with the return.
"""

from __future__ import annotations

from dataclasses import dataclass

from backoffice.events import DomainEvent


@dataclass(frozen=True)
class ShipmentShipped(DomainEvent):
    shipment_id: int
    order_id: int


@dataclass(frozen=True)
class ShipmentDelivered(DomainEvent):
    shipment_id: int
    order_id: int


@dataclass(frozen=True)
class ReturnReceived(DomainEvent):
    return_id: int
    order_id: int


@dataclass(frozen=True)
class RefundRequested(DomainEvent):
    """``amount`` is a decimal string (events carry plain values)."""

    return_id: int
    order_id: int
    amount: str
