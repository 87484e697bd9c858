"""orders' write API (DESIGN.md): ingest, one service per status axis, holds, backorders."""

from orders.services.ingest import order_ingest
from orders.services.stock import order_backorders_retry, order_hold_clear
from orders.services.transitions import (
    order_cancel,
    order_confirm,
    order_fulfillment_set,
    order_payment_set,
)

__all__ = [
    "order_backorders_retry",
    "order_cancel",
    "order_confirm",
    "order_fulfillment_set",
    "order_hold_clear",
    "order_ingest",
    "order_payment_set",
]
