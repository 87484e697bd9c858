"""The .po catalogues compile to .mo without GNU gettext, and Django reads them."""

import gettext
from pathlib import Path

from django.utils import translation

from backoffice.management.commands.compile_translations import translations_compile

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
