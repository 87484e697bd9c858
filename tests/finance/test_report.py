# mypy: disable-error-code="attr-defined,misc,operator"
# (factory_boy calls are typed as the factory class, not the model they return)
"""The monthly management report: figures, query count, PDF, escaping, permission."""

from __future__ import annotations

import subprocess
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from backoffice.roles import MANAGER
from finance.models import ManagementReport
from finance.reports import render_pdf, report_data, report_html
from finance.services import management_report_email, management_report_generate
from finance.tasks import management_report_generate_task
from orders.status import Payment
from tests.factories.core import (
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    StaffUserFactory,
    StockLevelFactory,
)
from tests.factories.finance import MonthlyGoalFactory, StoreMetricsFactory
from tests.finance.test_margin import build_month, expected_margins

pytestmark = pytest.mark.django_db
D = Decimal
OCT = date(2026, 10, 1)


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_report_figures_equal_independent_sums():
    tz = timezone.get_current_timezone()
    orders = build_month(tz)
    MonthlyGoalFactory(month=OCT, revenue_goal=D("2000.00"))
    StoreMetricsFactory(month=OCT, sessions=4000, carts=200, orders=50)
    StockLevelFactory(product=ProductFactory(sku="STK", cost=D("7.00")), on_hand=10)
    exp = expected_margins(orders)

    data = report_data(OCT, today=date(2026, 11, 15))

    revenue = sum((o.total for o in orders), D("0"))
    assert data["sales"]["orders"] == len(orders)
    assert data["sales"]["revenue"] == revenue
    assert data["sales"]["average_ticket"] == (revenue / len(orders)).quantize(D("0.01"))
    assert data["sales"]["goal"] == D("2000.00")
    assert data["sales"]["attainment"] == revenue / D("2000.00")
    assert data["sales"]["days_elapsed"] == 31 and data["sales"]["projection"] == revenue
    assert sum(v for _, v in data["sales"]["daily"]) == revenue
    assert data["margin"]["margin"] == sum(e["margin"] for e in exp.values())
    assert data["top_products"][0]["revenue"] == max(r["revenue"] for r in data["top_products"])
    # every product sold in October except STK, which has stock and sold nothing
    assert [p["sku"] for p in data["dead_products"]] == ["STK"]
    assert data["stock"]["value"] == D("70.00")
    assert data["store"]["conversion"] == D("50") / D("4000")
    assert data["store"]["cart_abandonment"] == 1 - D("50") / D("200")
    assert data["receivables"]["due"] >= 0
    assert data["satisfaction"]["available"] in (True, False)


def _orders(n: int) -> None:
    tz = timezone.get_current_timezone()
    product = ProductFactory(sku=f"Q{n}")
    for i in range(n):
        order = OrderFactory(
            total=D("50.00"),
            subtotal=D("50.00"),
            utm_campaign=f"c{i % 3}",
            payment_status=Payment.PAID,
            paid_at=datetime(2026, 10, 1 + i % 28, 12, tzinfo=tz),
        )
        OrderLineFactory(order=order, product=product, unit_price=D("50.00"), discount=D("0"))


def test_report_query_count_does_not_grow_with_orders():
    _orders(5)
    with CaptureQueriesContext(connection) as five:
        report_data(OCT)
    _orders(45)
    with CaptureQueriesContext(connection) as fifty:
        data = report_data(OCT)
    assert data["sales"]["orders"] == 50
    assert len(five) == len(fifty)
    assert len(fifty) < 30


def test_the_report_lists_the_top_campaigns_and_sums_the_rest_in_one_row():
    from finance.reports import TOP_N

    tz = timezone.get_current_timezone()
    product = ProductFactory(sku="CAMP")
    n = TOP_N + 6
    for i in range(n):
        order = OrderFactory(
            total=D(10 + i),
            subtotal=D(10 + i),
            utm_campaign=f"camp-{i:02d}",
            payment_status=Payment.PAID,
            paid_at=datetime(2026, 10, 2 + i % 20, 12, tzinfo=tz),
        )
        OrderLineFactory(order=order, product=product, unit_price=D(10 + i), discount=D("0"))

    data = report_data(OCT)
    html = report_html(data)

    rows = data["margin_by_campaign"]
    assert len(rows) == TOP_N + 1
    assert rows[0]["campaign"] == f"camp-{n - 1:02d}"  # the best margin
    assert rows[-1]["others"] == n - TOP_N and rows[-1]["orders"] == n - TOP_N
    assert sum(r["margin"] for r in rows) == data["margin"]["margin"]
    assert sum(r["revenue"] for r in rows) == data["sales"]["revenue"]
    assert f"{n - TOP_N} other campaigns" in html
    assert "camp-00" not in html  # folded into the others row


def _pdf_pages_to_png(pdf: bytes, tmp_path: Path) -> list[Path]:
    src = tmp_path / "report.pdf"
    src.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(src), str(tmp_path / "page")], check=True)
    return sorted(tmp_path.glob("page-*.png"))


def test_the_pdf_renders_every_page(tmp_path):
    build_month(timezone.get_current_timezone())
    MonthlyGoalFactory(month=OCT, revenue_goal=D("1500.00"))

    pdf = render_pdf(report_html(report_data(OCT, today=date(2026, 11, 2))))

    assert pdf.startswith(b"%PDF")
    pages = _pdf_pages_to_png(pdf, tmp_path)
    assert len(pages) >= 2
    for page in pages:
        assert page.stat().st_size > 1000


class SpyFetcher:
    """Stands in for WeasyPrint's URL fetcher and records every URL it is asked for."""

    def __init__(self):
        from weasyprint.urls import URLFetcher

        class _Spy(URLFetcher):
            calls: list[str] = []

            def fetch(inner, url, headers=None):
                inner.calls.append(url)
                raise ValueError("no fetching in tests")

        _Spy.calls = []
        self.fetcher = _Spy()

    @property
    def calls(self) -> list[str]:
        return self.fetcher.calls


def test_a_hostile_product_name_is_printed_literally_and_fetches_nothing(tmp_path):
    evil = '<img src="http://x.invalid/t.png"><link rel=stylesheet href=http://x.invalid/s.css>'
    product = ProductFactory(sku="EVIL", name=evil)
    order = OrderFactory(
        total=D("10.00"),
        subtotal=D("10.00"),
        payment_status=Payment.PAID,
        paid_at=datetime(2026, 10, 10, 12, tzinfo=timezone.get_current_timezone()),
        utm_campaign='"><svg onload=x>',
    )
    OrderLineFactory(
        order=order, product=product, name=evil, unit_price=D("10.00"), discount=D("0")
    )
    spy = SpyFetcher()

    html = report_html(report_data(OCT))
    pdf = render_pdf(html, url_fetcher=spy.fetcher)

    assert spy.calls == []
    assert "&lt;img src=&quot;http://x.invalid/t.png&quot;&gt;" in html
    assert "<img" not in html
    src = tmp_path / "r.pdf"
    src.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(src), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert '<img src="http://x.invalid/t.png">' in text.replace("\n", "")


def test_the_default_fetcher_refuses_the_network():
    from finance.reports import no_network_fetcher

    fetcher = no_network_fetcher()
    with pytest.raises(ValueError):
        fetcher.fetch("http://example.com/x.png")
    with pytest.raises(ValueError):
        fetcher.fetch("file:///etc/passwd")


def test_download_needs_the_report_permission(client):
    report = ManagementReport.objects.create(month=OCT, status=ManagementReport.Status.READY)
    report.file.save("r.pdf", ContentFile(b"%PDF-1.7"))
    url = reverse("admin:finance_managementreport_download", args=[report.pk])
    clerk = StaffUserFactory(username="clerk")
    clerk.user_permissions.add(Permission.objects.get(codename="view_managementreport"))
    manager = StaffUserFactory(username="boss")
    manager.user_permissions.add(Permission.objects.get(codename="view_management_report"))

    client.force_login(clerk)
    assert client.get(url).status_code == 403
    client.force_login(manager)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_generate_task_stores_the_pdf_and_emails_managers_once():
    build_month(timezone.get_current_timezone())
    group, _ = Group.objects.get_or_create(name=MANAGER)
    boss = StaffUserFactory(username="boss2", email="boss@example.com")
    boss.groups.add(group)
    StaffUserFactory(username="nobody", email="clerk@example.com")

    pk = management_report_generate_task.delay("2026-10", email=True).get()

    report = ManagementReport.objects.get(pk=pk)
    assert report.status == ManagementReport.Status.READY and report.generated_at
    assert report.file.read(4) == b"%PDF"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["boss@example.com"]
    assert mail.outbox[0].attachments[0][2] == "application/pdf"
    # again: regenerated, not e-mailed twice
    management_report_generate(month=OCT)
    assert management_report_email(report_id=pk) == 0
    assert len(mail.outbox) == 1


def test_beat_runs_the_report_on_the_first_of_the_month():
    entry = settings.CELERY_BEAT_SCHEDULE["finance-management-report"]
    assert entry["task"] == management_report_generate_task.name
    assert entry["schedule"].day_of_month == {1}
    assert entry["schedule"].hour == {6} and entry["schedule"].minute == {0}


def test_management_command_writes_a_pdf(tmp_path):
    out = tmp_path / "oct.pdf"
    call_command("management_report", "--month", "2026-10", "--out", str(out))
    assert out.read_bytes().startswith(b"%PDF")
    call_command("management_report", "--month", "2026-10")
    assert ManagementReport.objects.get(month=OCT).status == ManagementReport.Status.READY


def test_the_report_speaks_portuguese_by_default():
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):
        html = report_html(report_data(OCT))
    assert "Relatório gerencial" in html and "Outubro 2026" in html
    assert "Inadimplência" in html and "Fluxo de caixa" in html


def test_freight_returns_on_time_and_nps_come_from_logistics_and_crm():
    from logistics.models import ReturnRequest, Shipment
    from tests.factories.core import WarehouseFactory

    tz = timezone.get_current_timezone()
    orders = build_month(tz, n_orders=4)
    wh = WarehouseFactory()
    # two deliveries in October: one on time, one a day late; freight 15 + 9.50
    Shipment.objects.create(
        order=orders[0],
        warehouse=wh,
        freight_cost=D("15.00"),
        promised_date=date(2026, 10, 10),
        delivered_at=datetime(2026, 10, 10, 18, tzinfo=tz),
    )
    Shipment.objects.create(
        order=orders[1],
        warehouse=wh,
        freight_cost=D("9.50"),
        promised_date=date(2026, 10, 10),
        delivered_at=datetime(2026, 10, 11, 9, tzinfo=tz),
    )
    rma = ReturnRequest.objects.create(order=orders[2])
    ReturnRequest.objects.filter(pk=rma.pk).update(requested_at=datetime(2026, 10, 20, tzinfo=tz))
    exp = expected_margins(orders)

    data = report_data(OCT, today=date(2026, 10, 31))

    assert data["margin"]["freight"] == D("24.50")
    assert data["margin"]["margin"] == sum(e["margin"] for e in exp.values()) - D("24.50")
    assert data["delivery"] == {
        "available": True,
        "delivered": 2,
        "on_time": 1,
        "rate": D("0.5"),
    }
    assert data["returns"]["available"] and data["returns"]["count"] == 1
    assert data["returns"]["rate"] == D(1) / D(4)
    assert data["satisfaction"]["available"] and data["satisfaction"]["answers"] == 0
    assert data["satisfaction"]["nps"] is None


@pytest.mark.django_db(transaction=True)
def test_the_report_queries_run_with_their_own_postgres_settings_and_leave_them(settings):
    from finance.reports import report_session

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://...")

    def show(name: str) -> str:
        with connection.cursor() as cursor:
            cursor.execute(f"SHOW {name}")
            return cursor.fetchone()[0]

    before = show("jit"), show("work_mem")
    settings.FINANCE_REPORT_PG_SETTINGS = {"jit": "off", "work_mem": "7MB"}
    with report_session():
        assert (show("jit"), show("work_mem")) == ("off", "7MB")
    assert (show("jit"), show("work_mem")) == before
    report_data(OCT)  # runs inside such a session
    assert (show("jit"), show("work_mem")) == before


def test_report_postgres_settings_can_be_turned_off(settings):
    from finance.conf import report_pg_settings

    assert report_pg_settings() == {"jit": "off", "work_mem": "16MB"}
    settings.FINANCE_REPORT_PG_SETTINGS = {}
    assert report_pg_settings() == {}
    assert report_data(OCT)["sales"]["orders"] == 0
