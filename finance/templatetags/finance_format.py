"""Number formatting for finance templates (pt-BR style: R$ 1.234,56)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

register = template.Library()

NA = "n/a"


def _br(value: Decimal, places: int) -> str:
    text = f"{value:,.{places}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


@register.filter
def money(value: Any, currency: str = "BRL") -> str:
    if value is None or value == "":
        return NA
    symbol = {"BRL": "R$", "USD": "US$", "EUR": "€"}.get(currency, currency)
    return f"{symbol} {_br(Decimal(value), 2)}"


@register.filter
def pct(value: Any, places: int = 1) -> str:
    """A ratio (0.25) as a percentage (25,0%)."""
    if value is None or value == "":
        return NA
    return f"{_br(Decimal(value) * 100, int(places))}%"


@register.filter
def num(value: Any, places: int = 0) -> str:
    if value is None or value == "":
        return NA
    return _br(Decimal(value), int(places))
