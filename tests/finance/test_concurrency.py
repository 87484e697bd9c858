# mypy: disable-error-code="attr-defined,misc,operator"
"""Row locks on PostgreSQL: concurrent transfers cannot overdraw an account, and
concurrent NF-e issues never share a number."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection

from backoffice.errors import ApplicationError
from finance.models import FiscalDocument
from finance.selectors import cash_account_balance
from finance.services import cash_entry_record, cash_transfer, fiscal_document_issue
from tests.factories.core import OrderFactory
from tests.factories.finance import CashAccountFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _run(n: int, target) -> list[BaseException | None]:
    barrier = threading.Barrier(n)
    results: list[BaseException | None] = [None] * n

    def worker(i: int) -> None:
        try:
            barrier.wait()
            target(i)
        except BaseException as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_transfers_never_overdraw():
    src, dst = CashAccountFactory(name="src"), CashAccountFactory(name="dst")
    cash_entry_record(account_id=src.pk, amount=Decimal("100.00"), kind="receipt")

    results = _run(
        6,
        lambda i: cash_transfer(
            from_account_id=src.pk, to_account_id=dst.pk, amount=Decimal("30.00")
        ),
    )

    ok = [r for r in results if r is None]
    assert len(ok) == 3
    assert all(isinstance(r, ApplicationError) for r in results if r is not None)
    assert cash_account_balance(account_id=src.pk) == Decimal("10.00")
    assert cash_account_balance(account_id=dst.pk) == Decimal("90.00")


def test_concurrent_issues_get_distinct_numbers():
    orders = [OrderFactory() for _ in range(5)]
    results = _run(5, lambda i: fiscal_document_issue(order_id=orders[i].pk))
    assert results == [None] * 5
    numbers = sorted(FiscalDocument.objects.values_list("number", flat=True))
    assert numbers == [1, 2, 3, 4, 5]
