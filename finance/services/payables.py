"""Supplier bills and purchase orders to pay."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backoffice.errors import ApplicationError, ConflictError, NotFoundError
from backoffice.money import quantize
from finance.models import CashAccount, CashEntry, Payable
from finance.services.common import audit
from finance.services.ledger import cash_entry_record
from inventory.models import PurchaseOrder

DEFAULT_PURCHASE_TERMS_DAYS = 30


@transaction.atomic
def payable_create(
    *,
    description: str,
    amount: Decimal,
    due_date: date,
    supplier_id: int | None = None,
    document_number: str = "",
    currency: str = "BRL",
    actor: Any = None,
) -> Payable:
    """A supplier bill to pay on ``due_date``."""
    amount = quantize(amount)
    if amount <= 0:
        raise ApplicationError(
            _("The amount must be positive."),
            errors=[{"field": "amount", "message": _("Must be greater than zero.")}],
        )
    payable = Payable.objects.create(
        description=description[:255],
        amount=amount,
        due_date=due_date,
        supplier_id=supplier_id,
        document_number=document_number[:60],
        currency=currency,
    )
    audit(obj=payable, action="created", to_value=Payable.Status.OPEN, actor=actor)
    return payable


@transaction.atomic
def payable_create_for_purchase_order(
    *, purchase_order_id: int, due_date: date | None = None, actor: Any = None
) -> Payable:
    """The payable of a purchase order (one per order; a second call returns it).
    Due ``DEFAULT_PURCHASE_TERMS_DAYS`` after the expected delivery unless given."""
    po = (
        PurchaseOrder.objects.select_for_update(of=("self",))
        .select_related("supplier")
        .filter(pk=purchase_order_id)
        .first()
    )
    if po is None:
        raise NotFoundError(_("Purchase order not found."))
    existing = Payable.objects.filter(purchase_order_id=po.pk).first()
    if existing is not None:
        return existing
    if po.status == PurchaseOrder.Status.CANCELLED:
        raise ConflictError(_("The purchase order is cancelled."))
    if po.total <= 0:
        raise ApplicationError(_("The purchase order has no total to pay."))
    base = po.expected_at or timezone.localdate()
    payable = Payable.objects.create(
        supplier=po.supplier,
        purchase_order=po,
        description=_("Purchase order %(po)s") % {"po": str(po)},
        document_number=f"PO-{po.pk}",
        amount=quantize(po.total),
        currency=po.currency,
        due_date=due_date or base + timedelta(days=DEFAULT_PURCHASE_TERMS_DAYS),
    )
    audit(obj=payable, action="created", to_value=Payable.Status.OPEN, actor=actor)
    return payable


@transaction.atomic
def payable_pay(*, payable_id: int, account_id: int, actor: Any = None) -> Payable:
    """Pay an open payable from ``account_id``: writes the (negative) cash entry."""
    payable = Payable.objects.select_for_update().filter(pk=payable_id).first()
    if payable is None:
        raise NotFoundError(_("Payable not found."))
    if payable.status != Payable.Status.OPEN:
        raise ConflictError(
            _("This payable is %(status)s, not open.") % {"status": payable.get_status_display()}
        )
    account = CashAccount.objects.filter(pk=account_id).first()
    if account is None or account.currency != payable.currency:
        raise ApplicationError(
            _("Pay from an account in %(currency)s.") % {"currency": payable.currency},
            errors=[{"field": "account", "message": _("Wrong currency or unknown account.")}],
        )
    entry = cash_entry_record(
        account_id=account_id,
        amount=-payable.amount,
        kind=CashEntry.Kind.PAYMENT,
        reference=f"payable:{payable.pk}",
        description=payable.description,
        actor=actor,
    )
    payable.status = Payable.Status.PAID
    payable.paid_at = timezone.now()
    payable.cash_entry = entry
    payable.save(update_fields=["status", "paid_at", "cash_entry"])
    audit(
        obj=payable,
        action="paid",
        from_value=Payable.Status.OPEN,
        to_value=Payable.Status.PAID,
        actor=actor,
    )
    return payable


@transaction.atomic
def payable_cancel(*, payable_id: int, actor: Any = None, reason: str = "") -> Payable:
    payable = Payable.objects.select_for_update().filter(pk=payable_id).first()
    if payable is None:
        raise NotFoundError(_("Payable not found."))
    if payable.status != Payable.Status.OPEN:
        raise ConflictError(_("Only open payables can be cancelled."))
    payable.status = Payable.Status.CANCELLED
    payable.save(update_fields=["status"])
    audit(
        obj=payable,
        action="cancelled",
        from_value=Payable.Status.OPEN,
        to_value=Payable.Status.CANCELLED,
        actor=actor,
        message=reason,
    )
    return payable
