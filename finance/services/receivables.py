"""Receivables from paid orders, their instalments, and refunds."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backoffice.errors import ApplicationError, ConflictError, NotFoundError
from backoffice.money import quantize
from finance.conf import payment_terms
from finance.models import CashEntry, Instalment, Receivable, Refund
from finance.services.common import audit
from finance.services.ledger import cash_entry_record
from orders.models import Order
from orders.status import Payment

# An order whose money arrived at some point has a receivable; later refunds are Refunds.
PAID_STATUSES = {
    Payment.PAID,
    Payment.PARTIALLY_REFUNDED,
    Payment.REFUNDED,
    Payment.CHARGEBACK,
}


def split_amount(total: Decimal, parts: int) -> list[Decimal]:
    """``total`` in ``parts`` cent-exact pieces; the last takes the rounding remainder."""
    share = quantize(total / parts)
    pieces = [share] * (parts - 1)
    return [*pieces, quantize(total - sum(pieces, Decimal("0")))]


@transaction.atomic
def receivable_create_for_order(*, order_id: int) -> Receivable | None:
    """Create the receivable of a paid order with its instalments and the gateway fee.

    Idempotent: the order row is locked and an existing receivable is returned as is,
    so a repeated event or task creates nothing more. Returns None when the order is
    not paid (nothing is owed to us yet)."""
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None:
        raise NotFoundError(_("Order not found."))
    existing = Receivable.objects.filter(order_id=order_id).first()
    if existing is not None:
        return existing
    if order.payment_status not in PAID_STATUSES:
        return None

    terms = payment_terms(order.payment_method)
    count = min(max(order.installments or 1, 1), terms.max_instalments)
    gross = quantize(order.total)
    fee = quantize(gross * terms.fee_percent / 100 + terms.fee_fixed) if gross else Decimal("0")
    fee = min(fee, gross)
    receivable = Receivable.objects.create(
        order=order,
        payment_method=terms.key,
        instalment_count=count,
        gross=gross,
        fee=fee,
        net=gross - fee,
        currency=order.currency,
    )
    paid_on = timezone.localdate(order.paid_at or timezone.now())
    instalments = []
    for i, (part_gross, part_fee) in enumerate(
        zip(split_amount(gross, count), split_amount(fee, count), strict=True), start=1
    ):
        instalments.append(
            Instalment(
                receivable=receivable,
                number=i,
                due_date=paid_on + timedelta(days=terms.first_due_days + terms.step_days * (i - 1)),
                gross=part_gross,
                fee=part_fee,
                net=part_gross - part_fee,
            )
        )
    Instalment.objects.bulk_create(instalments)
    audit(
        obj=receivable,
        action="created",
        to_value=Instalment.Status.OPEN,
        message=f"{terms.key} {count}x gross={gross} fee={fee}",
    )
    return receivable


def _settle(
    instalment: Instalment,
    *,
    account_id: int,
    amount: Decimal,
    reference: str,
    actor: Any = None,
    received_at: datetime | None = None,
) -> Instalment:
    """Mark a locked, open instalment received and book the money (caller's transaction)."""
    entry = cash_entry_record(
        account_id=account_id,
        amount=amount,
        kind=CashEntry.Kind.RECEIPT,
        reference=reference,
        description=_("Instalment %(n)s of order %(order)s")
        % {"n": instalment.number, "order": instalment.receivable.order.number},
        actor=actor,
    )
    instalment.status = Instalment.Status.PAID
    instalment.paid_at = received_at or timezone.now()
    instalment.cash_entry = entry
    instalment.save(update_fields=["status", "paid_at", "cash_entry"])
    audit(
        obj=instalment,
        action="settled",
        from_value=Instalment.Status.OPEN,
        to_value=Instalment.Status.PAID,
        actor=actor,
        message=reference,
    )
    return instalment


@transaction.atomic
def instalment_settle(
    *, instalment_id: int, account_id: int, actor: Any = None, amount: Decimal | None = None
) -> Instalment:
    """Record that an instalment was received into ``account_id`` (by hand, e.g. a boleto
    paid straight into the bank). ``amount`` defaults to the expected net."""
    instalment = (
        Instalment.objects.select_for_update(of=("self",))
        .select_related("receivable__order")
        .filter(pk=instalment_id)
        .first()
    )
    if instalment is None:
        raise NotFoundError(_("Instalment not found."))
    if instalment.status != Instalment.Status.OPEN:
        raise ConflictError(_("This instalment is not open."))
    return _settle(
        instalment,
        account_id=account_id,
        amount=instalment.net if amount is None else amount,
        reference=f"instalment:{instalment.pk}",
        actor=actor,
    )


@transaction.atomic
def refund_record(
    *, order_id: int, amount: Decimal, return_id: int | None = None, reason: str = ""
) -> Refund:
    """Book a refund owed to a customer. With a ``return_id`` it is recorded once only."""
    amount = quantize(amount)
    if amount <= 0:
        raise ApplicationError(
            _("The refund amount must be positive."),
            errors=[{"field": "amount", "message": _("Must be greater than zero.")}],
        )
    if return_id is not None:
        existing = Refund.objects.filter(return_id=return_id).first()
        if existing is not None:
            return existing
    refund = Refund.objects.create(
        order_id=order_id, amount=amount, return_id=return_id, reason=reason[:255]
    )
    audit(obj=refund, action="created", message=reason)
    return refund


@transaction.atomic
def receivable_instalments_cancel(*, order_id: int, reason: str = "", actor: Any = None) -> int:
    """Cancel the still-open instalments of an order whose money went back (full refund,
    chargeback): they will not be paid out. Returns how many were cancelled; running it
    again cancels nothing more."""
    instalments = list(
        Instalment.objects.select_for_update()
        .filter(receivable__order_id=order_id, status=Instalment.Status.OPEN)
        .order_by("pk")
    )
    for instalment in instalments:
        instalment.status = Instalment.Status.CANCELLED
        instalment.save(update_fields=["status"])
        audit(
            obj=instalment,
            action="cancelled",
            from_value=Instalment.Status.OPEN,
            to_value=Instalment.Status.CANCELLED,
            actor=actor,
            message=reason,
        )
    return len(instalments)
