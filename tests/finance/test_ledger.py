# mypy: disable-error-code="attr-defined,misc,operator"
# (factory_boy calls are typed as the factory class, not the model they return)
from __future__ import annotations

from decimal import Decimal

import pytest

from backoffice.errors import ApplicationError
from finance.models import CashEntry
from finance.selectors import cash_account_balance, cash_balances
from finance.services import cash_entry_record, cash_transfer
from tests.factories.finance import CashAccountFactory

pytestmark = pytest.mark.django_db


def test_transfer_writes_two_entries_and_moves_the_balance(bank, gateway):
    cash_entry_record(account_id=gateway.pk, amount=Decimal("500.00"), kind="receipt")

    out, into = cash_transfer(
        from_account_id=gateway.pk, to_account_id=bank.pk, amount=Decimal("120.50")
    )

    assert out.amount == Decimal("-120.50") and out.account_id == gateway.pk
    assert into.amount == Decimal("120.50") and into.account_id == bank.pk
    assert out.transfer_id == into.transfer_id is not None
    assert cash_account_balance(account_id=gateway.pk) == Decimal("379.50")
    assert cash_account_balance(account_id=bank.pk) == Decimal("120.50")
    balances = {a.name: a.balance for a in cash_balances()}
    assert balances == {"Banco": Decimal("120.50"), "Gateway": Decimal("379.50")}


def test_transfer_beyond_the_balance_writes_nothing(bank, gateway):
    cash_entry_record(account_id=gateway.pk, amount=Decimal("10.00"), kind="receipt")

    with pytest.raises(ApplicationError):
        cash_transfer(from_account_id=gateway.pk, to_account_id=bank.pk, amount=Decimal("10.01"))

    assert CashEntry.objects.count() == 1


def test_transfer_between_currencies_is_refused(bank):
    usd = CashAccountFactory(name="USD", currency="USD")
    cash_entry_record(account_id=bank.pk, amount=Decimal("10.00"), kind="receipt")
    with pytest.raises(ApplicationError):
        cash_transfer(from_account_id=bank.pk, to_account_id=usd.pk, amount=Decimal("1.00"))
    assert CashEntry.objects.count() == 1


def test_zero_entry_is_refused(bank):
    with pytest.raises(ApplicationError):
        cash_entry_record(account_id=bank.pk, amount=Decimal("0"), kind="adjustment")
