"""Gateway payout reconciliation: import the payout file, match it to instalments."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import tablib
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from backoffice.errors import ApplicationError
from backoffice.money import quantize
from finance.models import CashAccount, Instalment, PayoutImport, PayoutLine
from finance.services.common import audit
from finance.services.receivables import _settle

# Accepted header names (lower-case, accents dropped) for each column.
COLUMNS: dict[str, tuple[str, ...]] = {
    "date": ("date", "data", "payout_date", "data_pagamento"),
    "reference": ("reference", "order", "pedido", "referencia", "order_number", "ref"),
    "gross": ("gross", "bruto", "valor_bruto", "amount"),
    "fee": ("fee", "taxa", "tarifa"),
    "net": ("net", "liquido", "valor_liquido"),
}
_ACCENTS = str.maketrans("áàãâéêíóôõúç", "aaaaeeiooouc")


class PayoutFileError(ApplicationError):
    """The file has bad rows; nothing was imported. ``errors`` lists them by row number."""


@dataclass(frozen=True)
class ParsedLine:
    row_number: int
    date: date
    reference: str
    gross: Decimal
    fee: Decimal
    net: Decimal


def _norm_header(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", (value or "").strip().lower().translate(_ACCENTS)).strip("_")


def _parse_amount(raw: Any) -> Decimal:
    text = str(raw if raw is not None else "").strip().replace("R$", "").replace(" ", "")
    if not text:
        raise ValueError("empty")
    if "," in text and "." in text:
        # 1.234,56 (pt-BR) or 1,234.56 (en): the last separator is the decimal one.
        if text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    elif "," in text:
        text = text.replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(raw) from exc
    if not value.is_finite():
        raise ValueError(raw)
    return quantize(value)


def _parse_date(raw: Any) -> date:
    text = str(raw or "").strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%Y/%m/%d"):
        try:
            return datetime.strptime(text[:10], fmt).date()  # noqa: DTZ007 - a date only
        except ValueError:
            continue
    raise ValueError(raw)


def payout_file_parse(content: bytes | str) -> tuple[list[ParsedLine], list[dict[str, Any]]]:
    """Parse a payout CSV. Returns the good lines and the bad rows as
    ``{"field": "row N", "message": ...}`` (row 1 is the header; the label is translated)."""
    text = content.decode("utf-8-sig") if isinstance(content, bytes) else content
    text = text.lstrip("\ufeff")
    if not text.strip():
        return [], [{"field": "file", "message": _("The file is empty.")}]
    delimiter = ";" if text.splitlines()[0].count(";") > text.splitlines()[0].count(",") else ","
    try:
        dataset = tablib.Dataset().load(text, format="csv", delimiter=delimiter)
    except Exception as exc:  # tablib raises several kinds on malformed CSV
        return [], [{"field": "file", "message": _("Unreadable CSV: %(e)s") % {"e": exc}}]
    headers = [_norm_header(h) for h in (dataset.headers or [])]
    index: dict[str, int] = {}
    for column, names in COLUMNS.items():
        for i, header in enumerate(headers):
            if header in names:
                index[column] = i
                break
    missing = [c for c in COLUMNS if c not in index]
    if missing:
        return [], [
            {
                "field": _("row %(n)s") % {"n": 1},
                "message": _("Missing column(s): %(cols)s") % {"cols": ", ".join(missing)},
            }
        ]
    lines: list[ParsedLine] = []
    errors: list[dict[str, Any]] = []
    for offset, row in enumerate(dataset, start=2):
        if not any(str(v or "").strip() for v in row):
            continue
        problems = []
        values: dict[str, Any] = {}
        try:
            values["date"] = _parse_date(row[index["date"]])
        except ValueError:
            problems.append(_("invalid date %(v)r") % {"v": row[index["date"]]})
        reference = str(row[index["reference"]] or "").strip().lstrip("#")
        if not reference:
            problems.append(_("missing reference"))
        for column in ("gross", "fee", "net"):
            try:
                values[column] = _parse_amount(row[index[column]])
            except ValueError:
                problems.append(
                    _("invalid %(col)s amount %(v)r") % {"col": column, "v": row[index[column]]}
                )
        if not problems and values["gross"] - values["fee"] != values["net"]:
            problems.append(
                _("net %(net)s is not gross %(gross)s minus fee %(fee)s")
                % {"net": values["net"], "gross": values["gross"], "fee": values["fee"]}
            )
        if problems:
            errors.append({"field": _("row %(n)s") % {"n": offset}, "message": "; ".join(problems)})
            continue
        lines.append(ParsedLine(row_number=offset, reference=reference[:120], **values))
    return lines, errors


@transaction.atomic
def payout_import(
    *, account_id: int, file_name: str, content: bytes | str, actor: Any = None
) -> PayoutImport:
    """Import a gateway payout file into ``account_id`` and reconcile it.

    All or nothing: with any bad row, ``PayoutFileError`` lists every bad row by number
    and nothing is stored. Each good line matches the lowest-numbered OPEN instalment of
    the order named by its reference (order number or platform id) with the same gross
    amount; a match settles the instalment with the net actually paid out. Lines that
    match nothing stay ``unmatched`` with the reason, for a person to look at."""
    account = CashAccount.objects.filter(pk=account_id, is_active=True).first()
    if account is None:
        raise ApplicationError(
            _("Unknown or inactive cash account."),
            errors=[{"field": "account", "message": _("Choose an active account.")}],
        )
    lines, errors = payout_file_parse(content)
    if errors:
        raise PayoutFileError(
            _("%(n)s bad row(s) in %(file)s; nothing was imported.")
            % {"n": len(errors), "file": file_name},
            errors=errors,
        )
    payout = PayoutImport.objects.create(
        account=account,
        file_name=file_name[:255],
        actor=actor if getattr(actor, "pk", None) else None,
    )
    references = {line.reference for line in lines}
    # One query for every candidate, locked in id order.
    candidates = list(
        Instalment.objects.select_for_update(of=("self",))
        .select_related("receivable__order")
        .filter(
            Q(receivable__order__number__in=references)
            | Q(receivable__order__external_id__in=references)
        )
        .order_by("pk")
    )
    by_reference: dict[str, list[Instalment]] = {}
    for inst in candidates:
        order = inst.receivable.order
        for ref in {order.number, order.external_id} & references:
            by_reference.setdefault(ref, []).append(inst)
    used: set[int] = set()
    rows: list[PayoutLine] = []
    matched = 0
    for line in lines:
        known = sorted(by_reference.get(line.reference, []), key=lambda i: i.number)
        open_ = [i for i in known if i.status == Instalment.Status.OPEN and i.pk not in used]
        hit = next((i for i in open_ if i.gross == line.gross), None)
        row = PayoutLine(
            payout_import=payout,
            row_number=line.row_number,
            date=line.date,
            reference=line.reference,
            gross=line.gross,
            fee=line.fee,
            net=line.net,
        )
        if hit is not None:
            used.add(hit.pk)
            _settle(
                hit,
                account_id=account.pk,
                amount=line.net,
                reference=f"payout:{payout.pk}:{line.row_number}",
                actor=actor,
            )
            row.status = PayoutLine.Status.MATCHED
            row.instalment = hit
            if line.net != hit.net:
                row.reason = _("fee differs from expected (%(exp)s)") % {"exp": hit.fee}
            matched += 1
        else:
            row.status = PayoutLine.Status.UNMATCHED
            if not known:
                row.reason = _("no order with this reference")
            elif not open_:
                row.reason = _("instalments already received")
            else:
                row.reason = _("no open instalment with gross %(g)s") % {"g": line.gross}
        rows.append(row)
    PayoutLine.objects.bulk_create(rows)
    payout.rows_total = len(rows)
    payout.rows_matched = matched
    payout.rows_unmatched = len(rows) - matched
    payout.save(update_fields=["rows_total", "rows_matched", "rows_unmatched"])
    audit(
        obj=payout,
        action="imported",
        actor=actor,
        message=f"{matched}/{len(rows)} matched",
    )
    return payout
