# mypy: disable-error-code="attr-defined,misc,operator"
# (factory_boy calls are typed as the factory class, not the model they return)
"""Finance admin: pages load with a fixed number of queries; the payout upload reports
bad rows by number; payables are paid through the action."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from finance.models import CashEntry, Payable, PayoutImport
from finance.services import cash_entry_record, payable_create, receivable_create_for_order
from orders.status import Payment
from tests.factories.core import OrderFactory
from tests.factories.finance import CashAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.com", "x")
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _paid_orders(n: int) -> None:
    for _ in range(n):
        order = OrderFactory(
            payment_method="credit_card",
            installments=2,
            payment_status=Payment.PAID,
            paid_at=timezone.now(),
        )
        receivable_create_for_order(order_id=order.pk)


@pytest.mark.parametrize(
    "name",
    [
        "cashaccount",
        "cashentry",
        "receivable",
        "instalment",
        "payable",
        "payoutimport",
        "payoutline",
        "managementreport",
    ],
)
def test_changelists_query_count_does_not_grow_with_rows(admin_client, name):
    url = reverse(f"admin:finance_{name}_changelist")
    account = CashAccountFactory(name="Banco")

    def grow(k: int) -> None:
        _paid_orders(k)
        for i in range(k):
            cash_entry_record(account_id=account.pk, amount=Decimal(i + 1), kind="receipt")
            payable_create(description=f"b{i}", amount=Decimal("5"), due_date=timezone.localdate())

    grow(2)
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url).status_code == 200
    grow(8)
    with CaptureQueriesContext(connection) as many:
        assert admin_client.get(url).status_code == 200
    assert len(few) == len(many)


def test_payout_upload_reports_bad_rows_by_number(admin_client):
    account = CashAccountFactory(name="Gateway")
    csv = b"date,reference,gross,fee,net\n2026-11-01,1,10.00,1.00,9.00\nnot-a-date,1,10,1,9\n"

    response = admin_client.post(
        reverse("admin:finance_payoutimport_upload"),
        {"account": account.pk, "file": SimpleUploadedFile("p.csv", csv, "text/csv")},
        follow=True,
    )

    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any(t.startswith("row 3:") and "invalid date" in t for t in texts)
    assert not PayoutImport.objects.exists()


def test_payout_upload_imports_a_good_file(admin_client):
    account = CashAccountFactory(name="Gateway")
    csv = b"date,reference,gross,fee,net\n2026-11-01,nope,10.00,1.00,9.00\n"
    response = admin_client.post(
        reverse("admin:finance_payoutimport_upload"),
        {"account": account.pk, "file": SimpleUploadedFile("p.csv", csv, "text/csv")},
    )
    payout = PayoutImport.objects.get()
    assert response.status_code == 302
    assert payout.rows_unmatched == 1


def test_pay_action_pays_from_the_chosen_account(admin_client):
    account = CashAccountFactory(name="Banco")
    bill = payable_create(description="x", amount=Decimal("12.00"), due_date=timezone.localdate())

    admin_client.post(
        reverse("admin:finance_payable_changelist"),
        {"action": "pay", "_selected_action": [bill.pk], "account": account.pk},
    )

    bill.refresh_from_db()
    assert bill.status == Payable.Status.PAID
    assert CashEntry.objects.get().amount == Decimal("-12.00")


def test_transfer_view_records_two_entries(admin_client):
    a, b = CashAccountFactory(name="A"), CashAccountFactory(name="B")
    cash_entry_record(account_id=a.pk, amount=Decimal("50"), kind="receipt")
    response = admin_client.post(
        reverse("admin:finance_cashaccount_transfer_form"),
        {"from_account": a.pk, "to_account": b.pk, "amount": "20.00", "description": ""},
    )
    assert response.status_code == 302
    assert CashEntry.objects.filter(transfer_id__isnull=False).count() == 2


def test_dashboard_shows_finance_figures(admin_client):
    response = admin_client.get(reverse("admin:index"))
    assert response.status_code == 200
    titles = [k["title"] for k in response.context["kpis"]]
    assert "Overdue receivables" in titles or "Recebíveis vencidos" in titles


def test_issue_view_generates_the_nfe_of_an_order(admin_client):
    from finance.models import FiscalDocument

    order = OrderFactory(number="7001")
    response = admin_client.post(
        reverse("admin:finance_fiscaldocument_issue_form"), {"order_number": "#7001"}
    )
    doc = FiscalDocument.objects.get(order=order)
    assert response.status_code == 302
    assert (
        admin_client.get(reverse("admin:finance_fiscaldocument_change", args=[doc.pk])).status_code
        == 200
    )
    missing = admin_client.post(
        reverse("admin:finance_fiscaldocument_issue_form"), {"order_number": "nope"}
    )
    assert missing.status_code == 200 and FiscalDocument.objects.count() == 1


def test_store_metrics_import_page_and_due_filter_load(admin_client):
    assert admin_client.get(reverse("admin:finance_storemetrics_import")).status_code == 200
    assert admin_client.get(reverse("admin:finance_cashentry_export")).status_code == 200
    url = reverse("admin:finance_instalment_changelist")
    assert admin_client.get(url, {"due": "overdue"}).status_code == 200
    assert admin_client.get(url, {"payout": "missing"}).status_code == 200


@pytest.mark.parametrize(
    ("button", "form"),
    [
        ("finance_cashaccount_transfer", "finance_cashaccount_transfer_form"),
        ("finance_fiscaldocument_issue", "finance_fiscaldocument_issue_form"),
        ("finance_payoutimport_import_payout", "finance_payoutimport_upload"),
    ],
)
def test_changelist_buttons_lead_to_their_forms(admin_client, button, form):
    response = admin_client.get(reverse(f"admin:{button}"))
    assert response.status_code == 302 and response["Location"] == reverse(f"admin:{form}")
    page = admin_client.get(reverse(f"admin:{form}"))
    assert page.status_code == 200 and b"<form" in page.content


def test_generate_previous_month_button_creates_the_report(admin_client, settings, tmp_path):
    from finance.models import ManagementReport

    settings.MEDIA_ROOT = tmp_path
    response = admin_client.get(reverse("admin:finance_managementreport_generate_previous_month"))
    assert response.status_code == 302
    report = ManagementReport.objects.get()
    assert report.month == (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)
    assert report.status == ManagementReport.Status.READY
