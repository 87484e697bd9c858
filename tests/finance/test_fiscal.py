# mypy: disable-error-code="attr-defined,misc,operator"
# (factory_boy calls are typed as the factory class, not the model they return)
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from xml.etree import ElementTree as ET

import pytest
from django.test import override_settings

from finance.fiscal import (
    NFE_NAMESPACE,
    LocalEmissionProvider,
    access_key_build,
    access_key_check_digit,
    access_key_is_valid,
    emission_provider,
)
from finance.models import FiscalDocument
from finance.services import fiscal_document_issue
from tests.factories.core import OrderFactory, OrderLineFactory

NS = {"n": NFE_NAMESPACE}


def test_check_digit_matches_the_published_examples():
    # Worked example of the NF-e integration manual (sum of weights 644, remainder 6 -> 5)
    assert access_key_check_digit("5206043300991100250655012000000780026730161") == 5
    # A real key quoted in public material (Amazonas, NFC-e), check digit 0
    assert access_key_is_valid("13181017921427000125650010000000309887251170")
    assert not access_key_is_valid("13181017921427000125650010000000309887251171")


def test_check_digit_is_zero_when_the_remainder_is_zero_or_one():
    # remainder 0: all zeros; remainder 1: a 6 in the last place (weight 2) sums to 12
    assert access_key_check_digit("0" * 43) == 0
    assert access_key_check_digit("0" * 37 + "000006") == 0  # 6*2 = 12 -> remainder 1


def test_built_key_has_44_digits_and_its_fields_in_place():
    key = access_key_build(
        state_code="35",
        issued_at=datetime(2026, 10, 5),
        cnpj="11.222.333/0001-81",
        series=1,
        number=123,
        numeric_code=45678901,
    )
    assert len(key) == 44 and access_key_is_valid(key)
    assert key[:2] == "35" and key[2:6] == "2610" and key[6:20] == "11222333000181"
    assert key[20:22] == "55" and key[22:25] == "001" and key[25:34] == "000000123"
    assert key[34] == "1" and key[35:43] == "45678901"


@pytest.mark.django_db
def test_issue_builds_well_formed_xml_marked_not_authorized_once_per_order():
    order = OrderFactory(total=Decimal("59.90"), subtotal=Decimal("59.90"))
    OrderLineFactory(
        order=order, name="Café & <Chá>", unit_price=Decimal("59.90"), discount=Decimal("0")
    )

    doc = fiscal_document_issue(order_id=order.pk)
    again = fiscal_document_issue(order_id=order.pk)

    assert again.pk == doc.pk and FiscalDocument.objects.count() == 1
    assert doc.status == FiscalDocument.Status.LOCAL and access_key_is_valid(doc.access_key)
    root = ET.fromstring(doc.xml.split("\n", 1)[1])  # noqa: S314 - our own XML
    inf = root.find("n:infNFe", NS)
    assert inf is not None and inf.get("Id") == f"NFe{doc.access_key}"
    assert root.findtext("n:infNFe/n:ide/n:tpAmb", namespaces=NS) == "2"
    assert root.findtext("n:infNFe/n:ide/n:nNF", namespaces=NS) == str(doc.number)
    assert root.findtext("n:infNFe/n:det/n:prod/n:xProd", namespaces=NS) == "Café & <Chá>"
    assert "NAO AUTORIZADO PELA SEFAZ" in root.findtext(
        "n:infNFe/n:infAdic/n:infCpl", namespaces=NS
    )
    assert "protNFe" not in doc.xml and "nProt" not in doc.xml


@pytest.mark.django_db
def test_numbers_follow_the_series():
    a = fiscal_document_issue(order_id=OrderFactory().pk)
    b = fiscal_document_issue(order_id=OrderFactory().pk)
    assert (a.series, b.number) == (1, a.number + 1)


def test_provider_comes_from_the_setting():
    assert isinstance(emission_provider(), LocalEmissionProvider)
    with override_settings(FISCAL_EMISSION_PROVIDER="builtins.object"), pytest.raises(TypeError):
        emission_provider()
