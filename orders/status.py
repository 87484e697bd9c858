"""Order status axes and their transition tables (DESIGN.md, "Status model").

Lifecycle, payment and fulfilment move independently; ``orders.services`` enforces
these tables, one service per axis. Fulfilment is derived from shipments (logistics).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Lifecycle(models.TextChoices):
    NEW = "new", _("New")
    ON_HOLD = "on_hold", _("On hold")
    CONFIRMED = "confirmed", _("Confirmed")
    PROCESSING = "processing", _("Processing")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class Payment(models.TextChoices):
    PENDING = "pending", _("Pending")
    AUTHORIZED = "authorized", _("Authorized")
    PAID = "paid", _("Paid")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
    REFUNDED = "refunded", _("Refunded")
    FAILED = "failed", _("Failed")
    CHARGEBACK = "chargeback", _("Chargeback")


class Fulfillment(models.TextChoices):
    UNFULFILLED = "unfulfilled", _("Unfulfilled")
    PARTIALLY_SHIPPED = "partially_shipped", _("Partially shipped")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    RETURNED = "returned", _("Returned")


L, P, F = Lifecycle, Payment, Fulfillment

LIFECYCLE_TRANSITIONS: dict[str, set[str]] = {
    L.NEW: {L.ON_HOLD, L.CONFIRMED, L.CANCELLED},
    L.ON_HOLD: {L.NEW, L.CONFIRMED, L.CANCELLED},
    L.CONFIRMED: {L.ON_HOLD, L.PROCESSING, L.COMPLETED, L.CANCELLED},
    L.PROCESSING: {L.ON_HOLD, L.COMPLETED, L.CANCELLED},
    L.COMPLETED: set(),
    L.CANCELLED: set(),
}

PAYMENT_TRANSITIONS: dict[str, set[str]] = {
    P.PENDING: {P.AUTHORIZED, P.PAID, P.FAILED},
    P.AUTHORIZED: {P.PAID, P.FAILED, P.REFUNDED},
    P.FAILED: {P.PENDING, P.AUTHORIZED, P.PAID},
    P.PAID: {P.PARTIALLY_REFUNDED, P.REFUNDED, P.CHARGEBACK},
    P.PARTIALLY_REFUNDED: {P.PARTIALLY_REFUNDED, P.REFUNDED, P.CHARGEBACK},
    P.REFUNDED: set(),
    P.CHARGEBACK: {P.PAID},
}

FULFILLMENT_TRANSITIONS: dict[str, set[str]] = {
    F.UNFULFILLED: {F.PARTIALLY_SHIPPED, F.SHIPPED},
    F.PARTIALLY_SHIPPED: {F.SHIPPED, F.DELIVERED, F.RETURNED},
    F.SHIPPED: {F.DELIVERED, F.RETURNED},
    F.DELIVERED: {F.RETURNED},
    F.RETURNED: set(),
}


def can_transition(table: dict[str, set[str]], current: str, target: str) -> bool:
    return target == current or target in table.get(current, set())
