"""Events orders publishes (on commit, carrying ids): crm, logistics and finance subscribe."""

from __future__ import annotations

from dataclasses import dataclass

from backoffice.events import DomainEvent


@dataclass(frozen=True)
class OrderCreated(DomainEvent):
    order_id: int


@dataclass(frozen=True)
class OrderStatusChanged(DomainEvent):
    """``axis`` is one of "lifecycle", "payment", "fulfillment"."""

    order_id: int
    axis: str
    from_status: str
    to_status: str
