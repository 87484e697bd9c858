"""Events inventory publishes (on commit, carrying ids); higher apps subscribe."""

from __future__ import annotations

from dataclasses import dataclass

from backoffice.events import DomainEvent


@dataclass(frozen=True)
class StockIncreased(DomainEvent):
    """Available stock (on hand minus reserved) of a product grew in a warehouse:
    a receipt, an adjustment up, a transfer in, a released reservation or a return.
    Orders subscribes to retry backordered lines."""

    product_id: int
    warehouse_id: int
