"""Reactions to other apps' events: enqueue this app's tasks, nothing more."""

from __future__ import annotations

from backoffice.events import subscribe
from inventory.events import StockIncreased


def on_stock_increased(event: StockIncreased) -> None:
    from orders.tasks import order_backorders_retry_task

    order_backorders_retry_task.delay(event.product_id)


def register() -> None:
    subscribe(StockIncreased, on_stock_increased)
