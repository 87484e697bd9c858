"""The .po catalogues compile to .mo without GNU gettext, and Django reads them."""

import gettext
import io
import re
import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.signals import setting_changed
from django.urls import reverse
from django.utils import translation
from django.utils.text import capfirst
from pypdf import PdfReader

from backoffice.management.commands.compile_translations import translations_compile
from backoffice.management.commands.update_translations import (
    app_messages_update,
    project_apps,
)

PO = """\
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"

msgid "Order received"
msgstr "Pedido recebido"
"""


def test_compiles_a_catalogue_gettext_can_read_and_skips_it_when_fresh(tmp_path: Path):
    po = tmp_path / "shop" / "locale" / "pt_BR" / "LC_MESSAGES" / "django.po"
    po.parent.mkdir(parents=True)
    po.write_text(PO, encoding="utf-8")

    assert translations_compile(tmp_path) == [po.with_suffix(".mo")]
    with po.with_suffix(".mo").open("rb") as fh:
        assert gettext.GNUTranslations(fh).gettext("Order received") == "Pedido recebido"
    assert translations_compile(tmp_path) == []
    assert translations_compile(tmp_path, force=True) == [po.with_suffix(".mo")]


def test_the_project_catalogues_are_compiled_and_active():
    # make test compiles them before pytest; pt-BR is the default language.
    with translation.override("pt-br"):
        assert translation.gettext("Cancelled") != "Cancelled"


# --- the apps' catalogues: complete, not fuzzy, placeholders intact ---------------------

LOCALES = ("pt_BR", "es")
# %(name)s / %(n)+d / %s / %d, and str.format's {name}; "%%" is a literal percent sign.
PERCENT = re.compile(r"%(?:\((\w+)\))?[-+ #0]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
BRACES = re.compile(r"\{[A-Za-z_]\w*\}")


def _placeholders(text: str, *, percent: bool = True) -> list[str]:
    """The placeholders of a text; ``percent`` for the entries gettext flags python-format
    (elsewhere a "%" is just a percent sign)."""
    found = sorted(m.group(0) for m in PERCENT.finditer(text.replace("%%", ""))) if percent else []
    return found + sorted(BRACES.findall(text))


def _catalogues() -> list[Path]:
    base = Path(settings.BASE_DIR)
    return [
        base / app / "locale" / locale / "LC_MESSAGES" / "django.po"
        for app in project_apps(base)
        for locale in LOCALES
    ]


def _id(path: Path) -> str:
    return f"{path.parents[3].name}-{path.parents[1].name}"


@pytest.mark.parametrize("po_path", _catalogues(), ids=_id)
def test_every_app_catalogue_is_complete_and_keeps_its_placeholders(po_path: Path):
    assert po_path.exists(), "missing catalogue; run manage.py update_translations"
    po = polib.pofile(str(po_path))
    locale = po_path.parents[1].name
    assert po.metadata.get("Language") == locale
    assert "nplurals=" in po.metadata.get("Plural-Forms", "")
    assert not po.metadata_is_fuzzy, "a fuzzy header is ignored by gettext (plural forms too)"

    entries = [e for e in po if not e.obsolete]
    assert entries
    assert [e.msgid for e in entries if "fuzzy" in e.flags] == []
    assert [e.msgid for e in entries if not e.translated()] == []
    wrong = []
    for e in entries:
        percent = "python-format" in e.flags
        if e.msgid_plural:
            expected = set(_placeholders(e.msgid_plural, percent=percent))
            forms = list(e.msgstr_plural.values())
            wrong += [
                (e.msgid, form)
                for form in forms
                if set(_placeholders(form, percent=percent)) != expected
            ]
        elif _placeholders(e.msgstr, percent=percent) != _placeholders(e.msgid, percent=percent):
            wrong.append((e.msgid, e.msgstr))
    assert wrong == []


@pytest.mark.parametrize("app", project_apps(Path(settings.BASE_DIR)))
def test_each_app_translates_the_same_strings_into_every_language(app: str):
    def msgids(locale: str) -> set[tuple[str | None, str]]:
        po = polib.pofile(
            str(Path(settings.BASE_DIR) / app / "locale" / locale / "LC_MESSAGES" / "django.po")
        )
        return {(e.msgctxt, e.msgid) for e in po if not e.obsolete}

    assert msgids("es") ^ msgids("pt_BR") == set()


def test_the_placeholder_check_sees_a_changed_or_lost_placeholder():
    assert _placeholders("%(n)d unit(s) of %(sku)s, {code}") == ["%(n)d", "%(sku)s", "{code}"]
    assert _placeholders("%(sku)s em %(wh)s: %(delta)+d") == ["%(delta)+d", "%(sku)s", "%(wh)s"]
    assert _placeholders("100%% de %(n)s") == ["%(n)s"]
    assert _placeholders("%(n)s unidades") != _placeholders("%(n)d units")
    assert _placeholders("5% de desconto", percent=False) == []


# --- what staff see: admin pages, status labels and PDFs, per language ------------------


@pytest.fixture
def compiled_catalogues():
    """make test compiles the catalogues first; compile here too when run on its own."""
    if translations_compile(Path(settings.BASE_DIR)):
        # What Django does when LOCALE_PATHS changes: forget the catalogues loaded so far.
        setting_changed.send(
            sender=None, setting="LOCALE_PATHS", value=settings.LOCALE_PATHS, enter=False
        )


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("pt-br", ("depósito", "Saldos de estoque", "Enviada", "Recebido", "Recebida")),
        ("es", ("almacén", "Niveles de stock", "Despachado", "Recibida", "Recibida")),
        ("en", ("warehouse", "Stock levels", "Shipped", "Received", "Received")),
    ],
)
def test_model_names_and_status_labels_follow_the_language(compiled_catalogues, lang, expected):
    from inventory.models import PurchaseOrder, StockLevel, Warehouse
    from logistics.models import ReturnRequest, Shipment

    with translation.override(lang):
        assert (
            str(Warehouse._meta.verbose_name),
            capfirst(StockLevel._meta.verbose_name_plural),
            str(Shipment.Status.SHIPPED.label),
            str(PurchaseOrder.Status.RECEIVED.label),
            str(ReturnRequest.Status.RECEIVED.label),
        ) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("lang", "title", "action"),
    [
        ("pt-br", "Saldos de estoque", "Ajustar estoque"),
        ("es", "Niveles de stock", "Ajustar stock"),
        ("en", "Stock levels", "Adjust stock"),
    ],
)
def test_the_inventory_admin_speaks_the_browser_language(
    compiled_catalogues, admin_client, lang, title, action
):
    response = admin_client.get(
        reverse("admin:inventory_stocklevel_changelist"), HTTP_ACCEPT_LANGUAGE=lang
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert title in html and action in html


@pytest.mark.django_db
def test_the_default_language_is_brazilian_portuguese(compiled_catalogues, admin_client):
    response = admin_client.get(reverse("admin:logistics_shipment_changelist"))
    assert "Imprimir lista de separação (PDF)" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("lang", "heading", "counts"),
    [
        ("pt-br", "Lista de separação", "1 remessa · 3 unidades"),
        ("es", "Lista de preparación", "1 envío · 3 unidades"),
        ("en", "Pick list", "1 shipment · 3 units"),
    ],
)
def test_the_pick_list_pdf_is_printed_in_the_active_language(
    compiled_catalogues, lang, heading, counts
):
    pytest.importorskip("weasyprint")
    from logistics import services
    from logistics.documents import pick_list_pdf
    from tests.factories.logistics import correios_sedex, ready_order

    correios_sedex()
    shipment = services.shipment_create(order_id=ready_order(quantities=(2, 1)).order.pk)
    with translation.override(lang):
        pdf = pick_list_pdf(shipment_ids=[shipment.pk])
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert heading in text and counts in text


# --- update_translations: each app's catalogue from its code and its templates ----------


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext (xgettext)")
def test_update_translations_extracts_each_apps_code_and_templates(tmp_path: Path):
    def write(relative: str, text: str) -> None:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    write("shop/models.py", 'from django.utils.translation import gettext_lazy as _\n_("Shop")\n')
    write("shop/templates/shop/form.html", '{% load i18n %}{% translate "Save" %}')
    write("templates/shop/page.html", '{% load i18n %}{% translate "Basket" %}')
    write("templates/admin/index.html", '{% load i18n %}{% translate "Dashboard" %}')
    write("backoffice/apps.py", 'from django.utils.translation import gettext as _\n_("Kernel")\n')
    apps = ["backoffice", "shop"]

    def update(app: str) -> dict[str, polib.POFile]:
        app_messages_update(base_dir=tmp_path, app=app, all_apps=apps, locales=["pt_BR", "es"])
        return {
            lang: polib.pofile(str(tmp_path / app / "locale" / lang / "LC_MESSAGES" / "django.po"))
            for lang in ("pt_BR", "es")
        }

    shop = update("shop")
    assert {e.msgid for e in shop["pt_BR"]} == {"Shop", "Save", "Basket"}
    assert shop["es"].metadata["Language"] == "es" and not shop["es"].metadata_is_fuzzy
    # top-level template folders no app is named after belong to the kernel
    assert {e.msgid for e in update("backoffice")["pt_BR"]} == {"Kernel", "Dashboard"}

    # a second run keeps the translations and brings only the new string in, untranslated
    pt = shop["pt_BR"]
    for entry in pt:
        entry.msgstr = entry.msgid.upper()
    pt.save()
    write(
        "templates/shop/page.html", '{% load i18n %}{% translate "Basket" %}{% translate "Pay" %}'
    )
    again = update("shop")["pt_BR"]
    assert {e.msgid: e.msgstr for e in again if not e.obsolete} == {
        "Shop": "SHOP",
        "Save": "SAVE",
        "Basket": "BASKET",
        "Pay": "",
    }
    assert not (tmp_path / "locale").exists()
