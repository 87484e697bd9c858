# mypy: disable-error-code="attr-defined,misc,operator"
# (factory_boy calls are typed as the factory class, not the model they return)
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from finance.models import CashEntry, Instalment
from finance.selectors import (
    cashflow_actual,
    cashflow_projected,
    goal_progress,
    receivables_summary,
)
from finance.services import (
    cash_entry_record,
    cash_transfer,
    payable_create,
    receivable_create_for_order,
)
from orders.status import Payment
from tests.factories.core import OrderFactory
from tests.factories.finance import CashAccountFactory, MonthlyGoalFactory

pytestmark = pytest.mark.django_db


def _at(entry: CashEntry, when: datetime) -> None:
    # created_at is auto_now_add; back-date the rows of the test's past.
    CashEntry.objects.filter(pk=entry.pk).update(created_at=when)


def test_actual_cash_flow_by_day_week_and_month_leaves_transfers_out(bank):
    tz = timezone.get_current_timezone()
    other = CashAccountFactory(name="Caixa")
    e1 = cash_entry_record(account_id=bank.pk, amount=Decimal("100.00"), kind="receipt")
    e2 = cash_entry_record(account_id=bank.pk, amount=Decimal("-30.00"), kind="payment")
    e3 = cash_entry_record(account_id=bank.pk, amount=Decimal("50.00"), kind="receipt")
    _at(e1, datetime(2026, 10, 5, 10, tzinfo=tz))  # Monday
    _at(e2, datetime(2026, 10, 6, 23, 30, tzinfo=tz))  # Tuesday late evening, local
    _at(e3, datetime(2026, 10, 13, 9, tzinfo=tz))
    out, into = cash_transfer(from_account_id=bank.pk, to_account_id=other.pk, amount=Decimal("10"))
    _at(out, datetime(2026, 10, 6, 12, tzinfo=tz))
    _at(into, datetime(2026, 10, 6, 12, tzinfo=tz))

    days = cashflow_actual(start=date(2026, 10, 1), end=date(2026, 10, 31), period="day")
    weeks = cashflow_actual(start=date(2026, 10, 1), end=date(2026, 10, 31), period="week")
    months = cashflow_actual(start=date(2026, 10, 1), end=date(2026, 10, 31), period="month")

    assert [(r["period"], r["net"]) for r in days] == [
        (date(2026, 10, 5), Decimal("100.00")),
        (date(2026, 10, 6), Decimal("-30.00")),
        (date(2026, 10, 13), Decimal("50.00")),
    ]
    assert [(r["period"], r["inflow"], r["outflow"]) for r in weeks] == [
        (date(2026, 10, 5), Decimal("100.00"), Decimal("30.00")),
        (date(2026, 10, 12), Decimal("50.00"), Decimal("0.00")),
    ]
    assert [(r["period"], r["net"]) for r in months] == [(date(2026, 10, 1), Decimal("120.00"))]


def test_projected_cash_flow_from_open_receivables_and_payables():
    today = timezone.localdate()
    order = OrderFactory(
        total=Decimal("300.00"),
        payment_method="credit_card",
        installments=3,
        payment_status=Payment.PAID,
        paid_at=timezone.now(),
    )
    receivable = receivable_create_for_order(order_id=order.pk)
    assert receivable is not None
    payable_create(
        description="Aluguel", amount=Decimal("80.00"), due_date=today + timedelta(days=30)
    )
    nets = list(receivable.instalments.order_by("number").values_list("due_date", "net"))

    rows = cashflow_projected(start=today, end=today + timedelta(days=120), period="day")

    expected = {d: {"in": n, "out": Decimal("0")} for d, n in nets}
    expected[today + timedelta(days=30)]["out"] = Decimal("80.00")
    assert [(r["period"], r["inflow"], r["outflow"]) for r in rows] == [
        (d, v["in"], v["out"]) for d, v in sorted(expected.items())
    ]
    assert rows[0]["net"] == nets[0][1] - Decimal("80.00")


def test_default_rate_is_overdue_over_due_in_period():
    order = OrderFactory(
        total=Decimal("200.00"),
        payment_method="boleto",
        payment_status=Payment.PAID,
        paid_at=timezone.now(),
    )
    receivable = receivable_create_for_order(order_id=order.pk)
    assert receivable is not None
    inst = receivable.instalments.get()
    start = inst.due_date.replace(day=1)
    end = inst.due_date + timedelta(days=40)

    before = receivables_summary(start=start, end=end, as_of=inst.due_date)
    after = receivables_summary(start=start, end=end, as_of=inst.due_date + timedelta(days=1))

    assert before["overdue"] == Decimal("0.00") and before["default_rate"] == 0
    assert after["due"] == inst.net and after["overdue"] == inst.net
    assert after["default_rate"] == 1
    Instalment.objects.filter(pk=inst.pk).update(status=Instalment.Status.PAID)
    assert receivables_summary(start=start, end=end, as_of=end)["default_rate"] == 0


def test_goal_projection_is_linear_from_the_month_to_date_rate():
    tz = timezone.get_current_timezone()
    MonthlyGoalFactory(month=date(2026, 11, 1), revenue_goal=Decimal("3000.00"))
    for day in (2, 5, 9):
        OrderFactory(
            total=Decimal("100.00"),
            payment_status=Payment.PAID,
            paid_at=datetime(2026, 11, day, 12, tzinfo=tz),
        )

    progress = goal_progress(month=date(2026, 11, 1), today=date(2026, 11, 10))

    assert progress.actual == Decimal("300.00")
    assert progress.days_elapsed == 10
    assert progress.projection == Decimal("900.00")  # 30/day × 30 days
    assert progress.projected_attainment == Decimal("0.3")


def test_cashflow_api_needs_the_ledger_permission_and_validates(client, bank):
    from django.contrib.auth.models import Permission

    from tests.factories.core import StaffUserFactory

    user = StaffUserFactory(username="fin")
    client.force_login(user)
    url = "/api/finance/cashflow/"
    assert client.get(url).status_code == 403

    user.user_permissions.add(Permission.objects.get(codename="view_cashentry"))
    cash_entry_record(account_id=bank.pk, amount=Decimal("10.00"), kind="receipt")
    today = timezone.localdate()
    response = client.get(url, {"start": today.isoformat(), "end": today.isoformat()})
    assert response.status_code == 200
    assert response.json()["actual"] == [
        {"period": today.isoformat(), "inflow": "10.00", "outflow": "0.00", "net": "10.00"}
    ]
    bad = client.get(url, {"start": "2026-10-10", "end": "2026-10-01", "period": "year"})
    assert bad.status_code == 400
    fields = {e["field"] for e in bad.json()["errors"]}
    assert "period" in fields
