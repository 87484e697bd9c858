from __future__ import annotations

import io
from typing import Any

import pytest
from django.conf import settings
from pypdf import PdfReader

from logistics import services
from logistics.documents import (
    packing_slips_pdf,
    pick_list_pdf,
    render_pdf,
    safe_url_fetcher_class,
    url_allowed,
)
from orders.models import OrderLine
from tests.factories.logistics import ready_order

pytestmark = pytest.mark.django_db
EVIL = "<img src=http://x>"


def spy_fetcher():
    base: Any = safe_url_fetcher_class()

    class Spy(base):
        def __init__(self):
            super().__init__()
            self.requested: list[str] = []
            self.served: list[str] = []

        def fetch(self, url, headers=None):
            self.requested.append(url)
            response = super().fetch(url, headers)
            self.served.append(url)
            return response

    return Spy()


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture
def shipments(sedex):
    ro = ready_order(quantities=(2, 1))
    OrderLine.objects.filter(pk=ro.lines[0].pk).update(name=EVIL)
    first = services.shipment_create(
        order_id=ro.order.pk, lines=[services.ShipmentLineIn(ro.lines[0].pk, 2)], wave="A"
    )
    second = services.shipment_create(order_id=ro.order.pk, wave="A")
    other = ready_order(quantities=(1,))
    third = services.shipment_create(order_id=other.order.pk, wave="B")
    return ro, [first.pk, second.pk, third.pk]


def test_pick_list_groups_by_warehouse_and_wave_and_fetches_nothing(shipments):
    ro, ids = shipments
    spy = spy_fetcher()
    pdf = pick_list_pdf(shipment_ids=ids, url_fetcher=spy)
    assert pdf.startswith(b"%PDF")
    assert not [u for u in spy.requested if "x" in u and u.startswith("http")]
    assert spy.served == []
    text = _text(pdf)
    assert EVIL in text  # printed as text, not markup
    assert ro.warehouse.name in text
    pages = PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) == 2  # (warehouse 1, wave A) and (warehouse 2, wave B)


def test_packing_slips_one_page_per_shipment(shipments):
    ro, ids = shipments
    spy = spy_fetcher()
    pdf = packing_slips_pdf(shipment_ids=ids, url_fetcher=spy)
    assert pdf.startswith(b"%PDF")
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 3
    text = _text(pdf)
    assert EVIL in text and ro.order.number in text
    assert spy.served == []


def test_the_fetcher_refuses_the_network_even_for_real_markup():
    # markup that is not escaped (a template bug, say) still fetches nothing remote
    spy = spy_fetcher()
    from django.template import engines

    engine = engines["django"]
    template = engine.from_string(
        '<p>hi</p><img src="http://127.0.0.1:9/x.png"><img src="{{ d }}">'
    )
    pixel = (
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
        "YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
    )
    html = template.render({"d": pixel})
    from weasyprint import HTML

    pdf = HTML(string=html, url_fetcher=spy).write_pdf()
    assert pdf.startswith(b"%PDF")
    assert "http://127.0.0.1:9/x.png" in spy.requested
    assert spy.served == [pixel]
    assert not url_allowed("https://example.com/a.png")
    assert not url_allowed("file:///etc/passwd")
    assert url_allowed("data:text/plain,hi")


def test_render_pdf_uses_the_safe_fetcher_by_default(monkeypatch, shipments):
    calls = []
    base: Any = safe_url_fetcher_class()
    original = base.fetch

    def record(self, url, headers=None):
        calls.append(url)
        return original(self, url, headers)

    monkeypatch.setattr(base, "fetch", record)
    from django.template import engines

    html = engines["django"].from_string('<img src="http://127.0.0.1:9/y.png">').render({})
    monkeypatch.setattr("logistics.documents.render_to_string", lambda t, c: html)
    assert render_pdf("ignored.html", {}).startswith(b"%PDF")
    assert calls == ["http://127.0.0.1:9/y.png"]


def test_the_app_starts_without_weasyprint():
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['weasyprint'] = None\n"
        "import django; django.setup()\n"
        "import logistics.admin, logistics.documents, logistics.tasks, logistics.api\n"
        "from django.urls import reverse; reverse('admin:logistics_shipment_changelist')\n"
        "print('ok')\n"
    )
    env = {"DJANGO_SETTINGS_MODULE": "backoffice.test_settings", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=str(settings.BASE_DIR),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
