"""NF-e emission behind a provider interface.

``EmissionProvider`` is what an integration with SEFAZ (directly or through a service such
as a fiscal API vendor) implements. ``LocalEmissionProvider`` is the one that ships: it
builds a well-formed NF-e-like XML with a correct 44-digit access key, in the *homologação*
environment (tpAmb=2), and says plainly that it was NOT authorized by SEFAZ: there is no
protocol number and the document has no fiscal value. Pick the provider with the setting
``FISCAL_EMISSION_PROVIDER`` (dotted path).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable
from xml.etree import ElementTree as ET

from django.utils.module_loading import import_string

from finance.conf import fiscal_issuer, fiscal_provider_path

NFE_NAMESPACE = "http://www.portalfiscal.inf.br/nfe"
MODEL_NFE = "55"
NOT_AUTHORIZED_NOTICE = (
    "DOCUMENTO GERADO LOCALMENTE PELO RETAGUARDA - NAO AUTORIZADO PELA SEFAZ - SEM VALOR FISCAL"
)


def access_key_check_digit(first_43: str) -> int:
    """cDV of the NF-e access key: modulo 11 of the 43 digits with weights 2..9 applied
    from right to left (repeating); remainder 0 or 1 gives 0, otherwise 11 - remainder
    (Manual de Orientação do Contribuinte, "Cálculo do dígito verificador")."""
    if len(first_43) != 43 or not first_43.isdigit():
        raise ValueError("the access key needs 43 digits before the check digit")
    total = 0
    weight = 2
    for digit in reversed(first_43):
        total += int(digit) * weight
        weight = 2 if weight == 9 else weight + 1
    remainder = total % 11
    return 0 if remainder in (0, 1) else 11 - remainder


def access_key_build(
    *,
    state_code: str,
    issued_at: datetime,
    cnpj: str,
    series: int,
    number: int,
    numeric_code: int,
    model: str = MODEL_NFE,
    emission_type: int = 1,
) -> str:
    """cUF(2) AAMM(4) CNPJ(14) mod(2) serie(3) nNF(9) tpEmis(1) cNF(8) cDV(1) = 44 digits."""
    digits = "".join(ch for ch in cnpj if ch.isdigit())
    body = (
        f"{int(state_code):02d}{issued_at:%y%m}{digits:0>14}{model:0>2}"
        f"{series:03d}{number:09d}{emission_type:1d}{numeric_code:08d}"
    )
    if len(body) != 43:
        raise ValueError("access key fields have the wrong length")
    return body + str(access_key_check_digit(body))


def access_key_is_valid(key: str) -> bool:
    return len(key) == 44 and key.isdigit() and access_key_check_digit(key[:43]) == int(key[43])


@dataclass(frozen=True)
class InvoiceLine:
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    total: Decimal


@dataclass(frozen=True)
class InvoiceData:
    """What an emission provider needs about one order, as plain values."""

    order_number: str
    series: int
    number: int
    issued_at: datetime
    customer_name: str
    customer_document: str
    customer_email: str
    address: dict[str, str]
    lines: list[InvoiceLine]
    products_total: Decimal
    shipping_total: Decimal
    discount_total: Decimal
    total: Decimal
    payment_method: str = ""
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EmissionResult:
    access_key: str
    xml: str
    status: str  # a FiscalDocument.Status value
    provider: str


@runtime_checkable
class EmissionProvider(Protocol):
    name: str

    def emit(self, data: InvoiceData) -> EmissionResult: ...


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


class LocalEmissionProvider:
    """Builds the document locally; never talks to SEFAZ and never claims it did."""

    name = "local"

    def emit(self, data: InvoiceData) -> EmissionResult:
        issuer = fiscal_issuer()
        numeric_code = secrets.randbelow(10**8)
        key = access_key_build(
            state_code=issuer["state_code"],
            issued_at=data.issued_at,
            cnpj=issuer["cnpj"],
            series=data.series,
            number=data.number,
            numeric_code=numeric_code,
        )
        return EmissionResult(
            access_key=key,
            xml=self._xml(data, issuer, key, numeric_code),
            status="local",
            provider=self.name,
        )

    def _xml(self, data: InvoiceData, issuer: dict[str, str], key: str, cnf: int) -> str:
        ET.register_namespace("", NFE_NAMESPACE)
        ns = f"{{{NFE_NAMESPACE}}}"

        def sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
            el = ET.SubElement(parent, ns + tag)
            if text is not None:
                el.text = text
            return el

        root = ET.Element(ns + "NFe")
        inf = sub(root, "infNFe")
        inf.set("Id", f"NFe{key}")
        inf.set("versao", "4.00")
        ide = sub(inf, "ide")
        sub(ide, "cUF", f"{int(issuer['state_code']):02d}")
        sub(ide, "cNF", f"{cnf:08d}")
        sub(ide, "natOp", "VENDA DE MERCADORIA")
        sub(ide, "mod", MODEL_NFE)
        sub(ide, "serie", str(data.series))
        sub(ide, "nNF", str(data.number))
        sub(ide, "dhEmi", data.issued_at.isoformat(timespec="seconds"))
        sub(ide, "tpNF", "1")
        sub(ide, "tpEmis", "1")
        sub(ide, "cDV", key[-1])
        # 2 = homologação: this document is a draft for testing, not a real invoice.
        sub(ide, "tpAmb", "2")
        sub(ide, "finNFe", "1")
        sub(ide, "procEmi", "0")
        sub(ide, "verProc", "Retaguarda-local")
        emit = sub(inf, "emit")
        sub(emit, "CNPJ", issuer["cnpj"])
        sub(emit, "xNome", issuer["name"])
        ender = sub(emit, "enderEmit")
        sub(ender, "cMun", issuer["city_code"])
        sub(ender, "xMun", issuer["city"])
        sub(ender, "UF", issuer["state"])
        sub(emit, "IE", issuer["ie"])
        dest = sub(inf, "dest")
        doc = "".join(ch for ch in data.customer_document if ch.isdigit())
        if len(doc) == 14:
            sub(dest, "CNPJ", doc)
        elif doc:
            sub(dest, "CPF", doc)
        sub(dest, "xNome", data.customer_name)
        ender_dest = sub(dest, "enderDest")
        for tag, source in (
            ("xLgr", "street"),
            ("nro", "number"),
            ("xCpl", "complement"),
            ("xBairro", "district"),
            ("xMun", "city"),
            ("UF", "state"),
            ("CEP", "postal_code"),
        ):
            value = data.address.get(source, "")
            if tag == "CEP":
                value = "".join(ch for ch in value if ch.isdigit())
            if value:
                sub(ender_dest, tag, value)
        if data.customer_email:
            sub(dest, "email", data.customer_email)
        for i, line in enumerate(data.lines, start=1):
            det = sub(inf, "det")
            det.set("nItem", str(i))
            prod = sub(det, "prod")
            sub(prod, "cProd", line.sku)
            sub(prod, "xProd", line.name)
            sub(prod, "uCom", "UN")
            sub(prod, "qCom", f"{line.quantity:.4f}")
            sub(prod, "vUnCom", _money(line.unit_price))
            sub(prod, "vProd", _money(line.total))
        total = sub(inf, "total")
        icms = sub(total, "ICMSTot")
        sub(icms, "vProd", _money(data.products_total))
        sub(icms, "vFrete", _money(data.shipping_total))
        sub(icms, "vDesc", _money(data.discount_total))
        sub(icms, "vNF", _money(data.total))
        pag = sub(inf, "pag")
        det_pag = sub(pag, "detPag")
        sub(det_pag, "xPag", data.payment_method or "-")
        sub(det_pag, "vPag", _money(data.total))
        inf_adic = sub(inf, "infAdic")
        sub(inf_adic, "infCpl", f"{NOT_AUTHORIZED_NOTICE}. Pedido {data.order_number}.")
        body = ET.tostring(root, encoding="unicode")
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + body


def emission_provider() -> EmissionProvider:
    """The provider named by ``FISCAL_EMISSION_PROVIDER``."""
    provider = import_string(fiscal_provider_path())()
    if not isinstance(provider, EmissionProvider):
        raise TypeError(f"{fiscal_provider_path()} is not an EmissionProvider")
    return provider
