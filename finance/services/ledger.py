"""Cash accounts and the append-only ledger."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from backoffice.errors import ApplicationError
from backoffice.money import quantize
from finance.models import CashAccount, CashEntry


def _balance(account_id: int) -> Decimal:
    total = CashEntry.objects.filter(account_id=account_id).aggregate(s=Sum("amount"))["s"]
    return total or Decimal("0.00")


def cash_entry_record(
    *,
    account_id: int,
    amount: Decimal,
    kind: str,
    reference: str = "",
    description: str = "",
    actor: Any = None,
    transfer_id: uuid.UUID | None = None,
) -> CashEntry:
    """Append one movement to an account's ledger (+ money in, - money out)."""
    amount = quantize(amount)
    if amount == 0:
        raise ApplicationError(
            _("A cash entry needs a non-zero amount."),
            errors=[{"field": "amount", "message": _("Must not be zero.")}],
        )
    account = CashAccount.objects.filter(pk=account_id, is_active=True).first()
    if account is None:
        raise ApplicationError(
            _("Unknown or inactive cash account."),
            errors=[{"field": "account", "message": _("Choose an active account.")}],
        )
    return CashEntry.objects.create(
        account=account,
        amount=amount,
        kind=kind,
        reference=reference[:120],
        description=description[:255],
        actor=actor if getattr(actor, "pk", None) else None,
        transfer_id=transfer_id,
    )


@transaction.atomic
def cash_transfer(
    *,
    from_account_id: int,
    to_account_id: int,
    amount: Decimal,
    actor: Any = None,
    description: str = "",
) -> tuple[CashEntry, CashEntry]:
    """Move money between two accounts of the same currency: two entries, one transaction.

    Both accounts are locked in ascending id order (two opposite transfers cannot
    deadlock) and the source must hold the amount: the ledger never goes negative
    through a transfer."""
    amount = quantize(amount)
    if amount <= 0:
        raise ApplicationError(
            _("The transfer amount must be positive."),
            errors=[{"field": "amount", "message": _("Must be greater than zero.")}],
        )
    if from_account_id == to_account_id:
        raise ApplicationError(
            _("Choose two different accounts."),
            errors=[{"field": "to_account", "message": _("Same as the source account.")}],
        )
    accounts = {
        a.pk: a
        for a in CashAccount.objects.select_for_update()
        .filter(pk__in=[from_account_id, to_account_id], is_active=True)
        .order_by("pk")
    }
    if len(accounts) != 2:
        raise ApplicationError(_("Unknown or inactive cash account."))
    source, target = accounts[from_account_id], accounts[to_account_id]
    if source.currency != target.currency:
        raise ApplicationError(
            _("Transfers between accounts in different currencies are not supported."),
            errors=[{"field": "to_account", "message": _("Different currency.")}],
        )
    if _balance(source.pk) < amount:
        raise ApplicationError(
            _("Insufficient balance in %(account)s.") % {"account": source.name},
            errors=[{"field": "amount", "message": _("More than the account holds.")}],
        )
    transfer_id = uuid.uuid4()
    text = description or _("Transfer %(src)s → %(dst)s") % {
        "src": source.name,
        "dst": target.name,
    }
    out = cash_entry_record(
        account_id=source.pk,
        amount=-amount,
        kind=CashEntry.Kind.TRANSFER_OUT,
        reference=f"transfer:{transfer_id}",
        description=text,
        actor=actor,
        transfer_id=transfer_id,
    )
    into = cash_entry_record(
        account_id=target.pk,
        amount=amount,
        kind=CashEntry.Kind.TRANSFER_IN,
        reference=f"transfer:{transfer_id}",
        description=text,
        actor=actor,
        transfer_id=transfer_id,
    )
    return out, into
