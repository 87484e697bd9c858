# mypy: disable-error-code="attr-defined,misc,operator"
# (factory_boy calls are typed as the factory class, not the model they return)
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from backoffice.errors import ConflictError
from finance.models import CashEntry, Payable
from finance.selectors import cash_account_balance, payables_overdue
from finance.services import payable_create, payable_create_for_purchase_order, payable_pay
from inventory.models import PurchaseOrder, Supplier
from tests.factories.core import WarehouseFactory

pytestmark = pytest.mark.django_db


def test_paying_a_bill_writes_the_cash_entry_once(bank):
    bill = payable_create(
        description="Embalagens", amount=Decimal("250.00"), due_date=timezone.localdate()
    )

    payable_pay(payable_id=bill.pk, account_id=bank.pk)

    bill.refresh_from_db()
    assert bill.status == Payable.Status.PAID
    assert bill.cash_entry is not None and bill.cash_entry.amount == Decimal("-250.00")
    assert cash_account_balance(account_id=bank.pk) == Decimal("-250.00")
    with pytest.raises(ConflictError):
        payable_pay(payable_id=bill.pk, account_id=bank.pk)
    assert CashEntry.objects.count() == 1


def test_purchase_order_payable_is_created_once_with_its_due_date():
    supplier = Supplier.objects.create(name="Fornecedor")
    po = PurchaseOrder.objects.create(
        supplier=supplier,
        warehouse=WarehouseFactory(),
        status=PurchaseOrder.Status.ORDERED,
        total=Decimal("1500.00"),
        expected_at=date(2026, 12, 1),
    )

    first = payable_create_for_purchase_order(purchase_order_id=po.pk)
    second = payable_create_for_purchase_order(purchase_order_id=po.pk)

    assert first.pk == second.pk
    assert first.amount == Decimal("1500.00")
    assert first.supplier_id == supplier.pk
    assert first.due_date == date(2026, 12, 31)
    assert Payable.objects.count() == 1


def test_overdue_payables_list_only_open_past_due():
    today = timezone.localdate()
    late = payable_create(
        description="late", amount=Decimal("1"), due_date=today - timedelta(days=1)
    )
    payable_create(description="today", amount=Decimal("1"), due_date=today)
    assert list(payables_overdue(as_of=today)) == [late]
