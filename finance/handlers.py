"""Reactions to other apps' events: enqueue finance tasks, nothing more."""

from __future__ import annotations

from logistics.events import RefundRequested
from orders.events import OrderStatusChanged
from orders.status import Payment

# Money that went back in full: the gateway will not pay the open instalments.
MONEY_RETURNED = {Payment.REFUNDED, Payment.CHARGEBACK}


def on_order_status_changed(event: OrderStatusChanged) -> None:
    if event.axis != "payment":
        return
    if event.to_status == Payment.PAID:
        from finance.tasks import receivable_create_task

        receivable_create_task.delay(event.order_id)
    elif event.to_status in MONEY_RETURNED:
        from finance.tasks import receivable_instalments_cancel_task

        receivable_instalments_cancel_task.delay(event.order_id, f"payment {event.to_status}")


def on_refund_requested(event: RefundRequested) -> None:
    from finance.tasks import refund_record_task

    refund_record_task.delay(event.order_id, str(event.amount), event.return_id)


def register() -> None:
    from backoffice.events import subscribe

    subscribe(OrderStatusChanged, on_order_status_changed)
    subscribe(RefundRequested, on_refund_requested)
