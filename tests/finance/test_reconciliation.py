# mypy: disable-error-code="attr-defined,misc,operator"
# (factory_boy calls are typed as the factory class, not the model they return)
from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from finance.models import CashEntry, Instalment, PayoutImport, PayoutLine
from finance.selectors import cash_account_balance
from finance.services import PayoutFileError, payout_import, receivable_create_for_order
from orders.status import Payment
from tests.factories.core import OrderFactory

pytestmark = pytest.mark.django_db


def _paid(number: str, total: str, method: str = "credit_card", installments: int = 1):
    order = OrderFactory(
        number=number,
        total=Decimal(total),
        payment_method=method,
        installments=installments,
        payment_status=Payment.PAID,
        paid_at=timezone.now(),
    )
    receivable = receivable_create_for_order(order_id=order.pk)
    assert receivable is not None
    return receivable


def test_payout_lines_match_instalments_by_reference_and_amount(gateway):
    two = _paid("5001", "200.00", installments=2)  # 2 × 100.00
    _paid("5002", "50.00", method="pix")
    csv = (
        "date,reference,gross,fee,net\n"
        "2026-11-20,5001,100.00,4.19,95.81\n"  # 1st parcela of 5001
        "2026-11-20,5001,100.00,4.19,95.81\n"  # 2nd parcela of 5001
        "2026-11-20,5002,49.00,0.49,48.51\n"  # wrong amount
        "2026-11-20,9999,10.00,0.00,10.00\n"  # unknown order
    )

    payout = payout_import(account_id=gateway.pk, file_name="payout.csv", content=csv.encode())

    assert (payout.rows_total, payout.rows_matched, payout.rows_unmatched) == (4, 2, 2)
    lines = {line.row_number: line for line in PayoutLine.objects.all()}
    assert lines[2].status == lines[3].status == PayoutLine.Status.MATCHED
    assert {lines[2].instalment_id, lines[3].instalment_id} == set(
        two.instalments.values_list("pk", flat=True)
    )
    assert lines[4].status == PayoutLine.Status.UNMATCHED and "49.00" in lines[4].reason
    assert lines[5].status == PayoutLine.Status.UNMATCHED and lines[5].instalment is None
    assert set(two.instalments.values_list("status", flat=True)) == {Instalment.Status.PAID}
    assert cash_account_balance(account_id=gateway.pk) == Decimal("191.62")
    # the pix instalment is still open: it shows up on the "not in any payout" side
    assert Instalment.objects.filter(status=Instalment.Status.OPEN).count() == 1

    # importing the same file again matches nothing more and books no money
    again = payout_import(account_id=gateway.pk, file_name="payout.csv", content=csv)
    assert again.rows_matched == 0
    assert CashEntry.objects.count() == 2


def test_bad_rows_are_reported_by_number_and_nothing_is_imported(gateway):
    _paid("6001", "100.00")
    csv = (
        "data;pedido;bruto;taxa;liquido\n"
        "20/11/2026;6001;100,00;4,38;95,62\n"
        "31/02/2026;6001;100,00;4,38;95,62\n"
        "20/11/2026;;abc;0;0\n"
        "20/11/2026;6001;100,00;4,38;90,00\n"
    )

    with pytest.raises(PayoutFileError) as info:
        payout_import(account_id=gateway.pk, file_name="bad.csv", content=csv)

    rows = [e["field"] for e in info.value.errors]
    assert rows == ["row 3", "row 4", "row 5"]
    assert "reference" in info.value.errors[1]["message"]
    assert not PayoutImport.objects.exists()
    assert not CashEntry.objects.exists()
    assert not Instalment.objects.filter(status=Instalment.Status.PAID).exists()


def test_missing_columns_are_reported(gateway):
    with pytest.raises(PayoutFileError) as info:
        payout_import(
            account_id=gateway.pk, file_name="x.csv", content="date,gross\n2026-11-01,1\n"
        )
    assert info.value.errors[0]["field"] == "row 1"


def test_bad_rows_are_reported_in_portuguese_by_default(gateway):
    from django.utils import translation

    with translation.override("pt-br"), pytest.raises(PayoutFileError) as info:
        payout_import(
            account_id=gateway.pk,
            file_name="x.csv",
            content="data,pedido,bruto,taxa,liquido\nontem,1,1,0,1\n",
        )
    assert info.value.errors == [{"field": "linha 2", "message": "data inválida 'ontem'"}]
