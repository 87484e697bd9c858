"""Money: Decimal everywhere, rounded in one place only."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

CENT = Decimal("0.01")
DEFAULT_CURRENCY = "BRL"


class Currency(models.TextChoices):
    BRL = "BRL", _("Brazilian real")
    USD = "USD", _("US dollar")
    EUR = "EUR", _("Euro")
    ARS = "ARS", _("Argentine peso")
    MXN = "MXN", _("Mexican peso")
    CLP = "CLP", _("Chilean peso")
    COP = "COP", _("Colombian peso")
    UYU = "UYU", _("Uruguayan peso")


def quantize(value: Decimal | int | str, places: Decimal = CENT) -> Decimal:
    """Round half-up to cents (or ``places``): the only rounding in the project."""
    return Decimal(value).quantize(places, rounding=ROUND_HALF_UP)


def to_decimal(value: Any) -> Decimal:
    """Parse a platform's amount (str, int or float) exactly; floats go through ``str``
    so ``19.9`` stays ``19.90`` and never becomes ``19.899999...``."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        value = repr(value)
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"not an amount: {value!r}") from exc


def MoneyField(verbose_name: Any = None, **kwargs: Any) -> models.DecimalField:
    """``DecimalField(max_digits=14, decimal_places=2)``, the one shape of money columns."""
    kwargs.setdefault("max_digits", 14)
    kwargs.setdefault("decimal_places", 2)
    kwargs.setdefault("default", Decimal("0.00"))
    return models.DecimalField(verbose_name, **kwargs)


def CurrencyField(verbose_name: Any = None, **kwargs: Any) -> models.CharField:
    kwargs.setdefault("max_length", 3)
    kwargs.setdefault("choices", Currency.choices)
    kwargs.setdefault("default", DEFAULT_CURRENCY)
    return models.CharField(verbose_name or _("currency"), **kwargs)
