"""Helpers every platform adapter shares: exact JSON decoding, HMAC checks, a collector
of payload problems, and small Brazilian-address normalizers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.utils.dateparse import parse_datetime

from backoffice.money import to_decimal
from orders.adapters.base import Delivery, OrderIn, PayloadError
from orders.status import Payment

# Amounts keep every digit: floats in the body become Decimal, never binary floats.
# Python's json already keeps integers exact, so 64-bit ids survive untouched.


def json_loads(body: bytes | str) -> Any:
    return json.loads(body, parse_float=Decimal)


def body_json(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or PayloadError naming why it is not one."""
    try:
        data = json_loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise PayloadError(
            "The body is not valid JSON.", errors=[{"field": "body", "message": str(exc)}]
        ) from exc
    if not isinstance(data, dict):
        raise PayloadError(
            "The body is not a JSON object.",
            errors=[{"field": "body", "message": "expected a JSON object"}],
        )
    return data


def hmac_sha256(secret: str, body: bytes) -> bytes:
    return hmac.new(secret.encode(), body, hashlib.sha256).digest()


def signature_matches_base64(secret: str, body: bytes, sent: str | None) -> bool:
    if not sent or not secret:
        return False
    expected = base64.b64encode(hmac_sha256(secret, body)).decode()
    return hmac.compare_digest(expected.encode(), sent.strip().encode())


def signature_matches_hex(secret: str, body: bytes, sent: str | None) -> bool:
    if not sent or not secret:
        return False
    expected = hmac_sha256(secret, body).hex()
    return hmac.compare_digest(expected.encode(), sent.strip().lower().encode())


def body_sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


class WebhookAdapter:
    """Default behaviour of an adapter (see ``orders.adapters.base.Adapter``)."""

    platform: str = ""
    signature_header: str = ""  # lower-case header name

    def signature_sent(self, *, headers: Mapping[str, str]) -> bool:
        return bool(headers.get(self.signature_header))

    def unsigned_ping(self, *, headers: Mapping[str, str], body: bytes) -> bool:
        """True for a platform's unsigned "is this URL alive?" request, answered 200 with
        nothing stored."""
        return False

    def signature_valid(self, *, secret: str, headers: Mapping[str, str], body: bytes) -> bool:
        raise NotImplementedError

    def delivery_id(self, *, headers: Mapping[str, str], body: bytes) -> str:
        raise NotImplementedError

    def topic(self, *, headers: Mapping[str, str], body: bytes) -> str:
        raise NotImplementedError

    def parse(self, delivery: Delivery) -> OrderIn | None:
        raise NotImplementedError


class Problems:
    """Collects every problem in a payload so the sender gets the whole list at once."""

    def __init__(self) -> None:
        self.errors: list[dict[str, Any]] = []

    def add(self, field: str, message: str) -> None:
        self.errors.append({"field": field, "message": message})

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self, message: str = "The order in the body has problems.") -> None:
        if self.errors:
            raise PayloadError(message, errors=self.errors)

    # --- readers: return a usable value (or None) and note what is wrong -----------------

    def text(
        self, value: Any, field: str, *, required: bool = False, max_length: int | None = None
    ) -> str:
        if value is None or value == "":
            if required:
                self.add(field, "is required")
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            self.add(field, "must be a string")
            return ""
        out = str(value).strip()
        if required and not out:
            self.add(field, "is required")
        if max_length is not None and len(out) > max_length:
            self.add(field, f"is longer than {max_length} characters")
            out = out[:max_length]
        return out

    def amount(self, value: Any, field: str, *, required: bool = False) -> Decimal | None:
        if value is None or value == "":
            if required:
                self.add(field, "is required")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
            self.add(field, f"is not an amount: {value!r}")
            return None
        try:
            out = to_decimal(value)
        except ValueError:
            self.add(field, f"is not an amount: {value!r}")
            return None
        if not out.is_finite():
            self.add(field, f"is not an amount: {value!r}")
            return None
        if out < 0:
            self.add(field, "must not be negative")
            return None
        if out >= MAX_AMOUNT:
            self.add(field, "is too large")
            return None
        return out

    def quantity(self, value: Any, field: str) -> int | None:
        if isinstance(value, bool):
            self.add(field, f"is not a whole number: {value!r}")
            return None
        try:
            dec = to_decimal(value) if value is not None else None
        except ValueError:
            dec = None
        if dec is None or not dec.is_finite() or dec != dec.to_integral_value():
            self.add(field, f"is not a whole number: {value!r}")
            return None
        if dec <= 0:
            self.add(field, "must be greater than zero")
            return None
        return int(dec)

    def moment(
        self,
        value: Any,
        field: str,
        *,
        required: bool = False,
        naive_is_utc: bool = False,
    ) -> datetime | None:
        """An aware datetime from ISO 8601. Naive values are an error unless the platform
        documents them as UTC (``naive_is_utc``)."""
        if value is None or value == "":
            if required:
                self.add(field, "is required")
            return None
        parsed = None
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip().replace("Z", "+00:00"))
            except ValueError:
                parsed = None
        if parsed is None:
            self.add(field, f"is not a date and time: {value!r}")
            return None
        if parsed.tzinfo is None:
            if not naive_is_utc:
                self.add(field, "must include a UTC offset (e.g. 2026-11-20T14:03:00-03:00)")
                return None
            parsed = parsed.replace(tzinfo=UTC)
        return parsed

    def obj(self, value: Any, field: str, *, required: bool = False) -> dict[str, Any]:
        if value is None:
            if required:
                self.add(field, "is required")
            return {}
        if not isinstance(value, dict):
            self.add(field, "must be an object")
            return {}
        return value

    def items(self, value: Any, field: str, *, required: bool = False) -> list[Any]:
        if value is None:
            if required:
                self.add(field, "is required")
            return []
        if not isinstance(value, list):
            self.add(field, "must be a list")
            return []
        return value


PAYMENT_STATUSES = frozenset(Payment.values)
MAX_AMOUNT = Decimal(10) ** 12  # MoneyField: 14 digits, 2 of them decimals

_DIGITS = re.compile(r"\D")


def cep(value: str, country: str = "BR") -> str:
    """A Brazilian postal code as ``01310-100``; other countries' codes as sent."""
    value = (value or "").strip()
    if country.upper() == "BR":
        digits = _DIGITS.sub("", value)
        if len(digits) == 8:
            return f"{digits[:5]}-{digits[5:]}"
    return value[:9]


BR_STATES = {
    "acre": "AC",
    "alagoas": "AL",
    "amapa": "AP",
    "amazonas": "AM",
    "bahia": "BA",
    "ceara": "CE",
    "distrito federal": "DF",
    "espirito santo": "ES",
    "goias": "GO",
    "maranhao": "MA",
    "mato grosso": "MT",
    "mato grosso do sul": "MS",
    "minas gerais": "MG",
    "para": "PA",
    "paraiba": "PB",
    "parana": "PR",
    "pernambuco": "PE",
    "piaui": "PI",
    "rio de janeiro": "RJ",
    "rio grande do norte": "RN",
    "rio grande do sul": "RS",
    "rondonia": "RO",
    "roraima": "RR",
    "santa catarina": "SC",
    "sao paulo": "SP",
    "sergipe": "SE",
    "tocantins": "TO",
}
_ACCENTS = str.maketrans("áàâãäéêíóôõöúüç", "aaaaaeeioooouuc")


def state_code(value: str, country: str = "BR") -> str:
    """A two-letter state: Brazilian names (``São Paulo``) become UFs (``SP``); any other
    value longer than two letters is dropped rather than cut into a wrong code."""
    value = (value or "").strip()
    if len(value) <= 2:
        return value.upper()
    if country.upper() == "BR":
        key = value.lower().translate(_ACCENTS)
        key = key.removeprefix("estado de ").removeprefix("estado do ")
        return BR_STATES.get(key, "")
    return ""


_STREET_NUMBER = re.compile(
    r"^(?P<street>.*?)[,\s]+(?:n[º°o.]?\s*)?(?P<number>\d+[A-Za-z]?|s/?n)$", re.I
)


def split_street_number(address1: str) -> tuple[str, str]:
    """``Avenida Paulista, 1000`` -> (``Avenida Paulista``, ``1000``): Brazilian checkouts
    on Shopify put the number in the street line."""
    address1 = (address1 or "").strip()
    match = _STREET_NUMBER.match(address1)
    if match and match.group("street").strip():
        return match.group("street").strip().rstrip(","), match.group("number")
    return address1, ""


def utm_from_url(url: str | None) -> dict[str, str]:
    """utm_source/medium/campaign from a landing URL or path (``/?utm_source=...``)."""
    if not url:
        return {}
    try:
        query = parse_qs(urlsplit(str(url)).query)
    except ValueError:
        return {}
    out = {}
    for key in ("utm_source", "utm_medium", "utm_campaign"):
        if query.get(key):
            out[key] = query[key][0][:100]
    return out


def language_code(locale: str | None) -> str:
    """A platform locale (``pt-BR``, ``es_AR``, ``en``) as one of our languages."""
    locale = (locale or "").lower().replace("_", "-")
    if locale.startswith("es"):
        return "es"
    if locale.startswith("en"):
        return "en"
    return "pt-br"


def clip(value: Any, length: int) -> str:
    return ("" if value is None else str(value)).strip()[:length]
