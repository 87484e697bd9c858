"""The demo shop `make run` loads: every app has lived-in data, made by the services.

These tests commit for real (``transaction=True``): the demo relies on what happens on
commit (e-mails sent by the outbox, receivables created by finance's handler), exactly
as in the embedded mode.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db.models import Max
from django.utils import timezone

from backoffice.demo import demo_clock
from crm.models import CustomerRFM, Notification, SurveyResponse, Ticket
from finance.models import (
    CampaignCost,
    CashEntry,
    FiscalDocument,
    Instalment,
    ManagementReport,
    MonthlyGoal,
    Payable,
    Receivable,
    StoreMetrics,
)
from finance.reports import report_data
from finance.selectors import cash_balances, payables_overdue
from inventory.selectors import stock_ledger_check
from logistics.models import DelayAlert, Parcel, ReturnRequest, Shipment, TrackingEvent
from orders.models import Order
from orders.status import Payment


def _load(**kw) -> str:
    out = StringIO()
    call_command("demo_data", stdout=out, **kw)
    return out.getvalue()


def test_demo_clock_moves_now_and_puts_it_back():
    real = timezone.now()
    past = real - timedelta(days=30)
    with demo_clock(past):
        first, second = timezone.now(), timezone.now()
        assert past <= first < second < past + timedelta(seconds=1)
        assert timezone.localdate() == timezone.localtime(past).date()
    assert timezone.now() >= real
    with pytest.raises(ValueError), demo_clock(real + timedelta(days=1)):
        pass
    with pytest.raises(ValueError), demo_clock(datetime(2026, 1, 1)):
        pass
    assert timezone.now() >= real


@pytest.mark.django_db(transaction=True)
def test_demo_data_fills_every_app_and_the_previous_months_report(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # the report PDF of the 1st is stored there
    started = timezone.now()
    out = _load(orders=150)
    assert "150 orders" in out

    # logistics: real shipments, parcels with carrier scans, late and lost ones flagged.
    assert Shipment.objects.filter(status="delivered").count() >= 50
    assert Shipment.objects.filter(status="shipped").exists()
    assert Parcel.objects.count() == Shipment.objects.exclude(status="draft").count()
    assert set(TrackingEvent.objects.values_list("kind", flat=True)) >= {
        "posted",
        "in_transit",
        "out_for_delivery",
        "delivered",
    }
    assert not Parcel.objects.filter(events__isnull=True).exists()
    assert DelayAlert.objects.filter(kind="past_promise").exists()
    assert DelayAlert.objects.filter(ticket_id__isnull=False).exists()
    assert len(set(ReturnRequest.objects.values_list("status", flat=True))) >= 3
    delivered = Order.objects.filter(fulfillment_status="delivered")
    assert delivered.exists() and not delivered.filter(shipments__isnull=True).exists()

    # finance: a receivable per paid order (from the handler), payouts, bills, goals.
    paid = Order.objects.filter(
        payment_status__in=[Payment.PAID, Payment.PARTIALLY_REFUNDED, Payment.REFUNDED]
    )
    assert Receivable.objects.count() == paid.count() > 0
    assert Instalment.objects.filter(status="paid").exists()
    assert Instalment.objects.filter(status="open").exists()
    assert CashEntry.objects.filter(kind="opening").exists()
    assert CashEntry.objects.filter(kind="receipt").exists()
    assert CashEntry.objects.filter(kind="payment").exists()
    assert all(getattr(account, "balance", 0) >= 0 for account in cash_balances())
    assert Payable.objects.filter(status="paid").exists()
    assert payables_overdue().exists()
    assert Payable.objects.filter(status="open", due_date__gt=timezone.localdate()).exists()
    this_month = timezone.localdate().replace(day=1)
    previous = (this_month - timedelta(days=1)).replace(day=1)
    assert MonthlyGoal.objects.filter(month__in=[this_month, previous]).count() == 2
    campaigns = set(Order.objects.exclude(utm_campaign="").values_list("utm_campaign", flat=True))
    assert campaigns and set(CampaignCost.objects.values_list("campaign", flat=True)) == campaigns
    assert StoreMetrics.objects.filter(month=previous).exists()
    assert FiscalDocument.objects.count() >= Shipment.objects.filter(status="delivered").count()

    # crm: e-mails sent, survey answers (detractors open tickets), cases, segments.
    assert Notification.objects.filter(status="sent", kind="shipped").exists()
    assert not Notification.objects.filter(status="failed").exists()
    assert {"promoter", "detractor"} <= {r.category for r in SurveyResponse.objects.all()}
    assert Ticket.objects.filter(source="survey").exists()
    assert len(set(Ticket.objects.values_list("status", flat=True))) >= 3
    assert CustomerRFM.objects.exists()
    # Only the last day and a half of e-mail reached the backend (var/mail/ in make run).
    sent = Notification.objects.filter(status="sent").count()
    assert 0 < len(mail.outbox) < sent / 10

    # Nothing happened in the future.
    for model, field in [
        (Order, "placed_at"),
        (Shipment, "delivered_at"),
        (TrackingEvent, "occurred_at"),
        (Notification, "sent_at"),
        (SurveyResponse, "answered_at"),
        (CashEntry, "created_at"),
        (ReturnRequest, "requested_at"),
        (Ticket, "created_at"),
    ]:
        latest = model._default_manager.aggregate(latest=Max(field))["latest"]
        assert latest is not None and latest <= timezone.now(), (model, field)
    oldest = Order.objects.order_by("placed_at").values_list("placed_at", flat=True).first()
    assert oldest is not None and oldest < started - timedelta(days=100)

    # Stock ledger and levels agree after all those reservations, shipments and returns.
    assert stock_ledger_check() == []
    call_command("check_stock_ledger", stdout=StringIO())

    # The previous month's management report has real figures.
    data = report_data(previous)
    assert data["sales"]["orders"] > 0 and data["sales"]["revenue"] > 0
    assert data["sales"]["goal"] is not None
    assert data["margin"]["freight"] > 0 and data["margin"]["cogs"] > 0
    assert data["delivery"]["available"] and data["delivery"]["rate"] > 0
    assert data["satisfaction"]["answers"] > 0 and data["satisfaction"]["nps"] > 0
    assert data["cash"]["actual"] and any(r["inflow"] > 0 for r in data["cash"]["actual"])
    assert data["store"]["available"]
    report = ManagementReport.objects.get(month=previous)
    assert report.status == "ready" and report.file.read(5) == b"%PDF-"

    # A second `make run` leaves the data alone.
    counts = (Order.objects.count(), Shipment.objects.count(), CashEntry.objects.count())
    assert "not loaded" in _load(orders=150, if_empty=True)
    assert (Order.objects.count(), Shipment.objects.count(), CashEntry.objects.count()) == counts
