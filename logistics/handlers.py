"""Reactions to other apps' events: enqueue this app's tasks, nothing more."""

from __future__ import annotations

from backoffice.events import subscribe
from orders.events import OrderStatusChanged


def on_order_status_changed(event: OrderStatusChanged) -> None:
    if event.axis == "lifecycle" and event.to_status == "cancelled":
        from logistics.tasks import order_shipments_cancel_task

        order_shipments_cancel_task.delay(event.order_id)


def register() -> None:
    subscribe(OrderStatusChanged, on_order_status_changed)
