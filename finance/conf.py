"""Finance settings with their defaults; each can be overridden in Django settings.

``FINANCE_PAYMENT_METHODS``: per payment method, how the gateway pays us out:
``max_instalments`` (1 for pix/boleto), ``first_due_days`` (days after payment of the
first parcela), ``step_days`` (days between parcelas), ``fee_percent`` and ``fee_fixed``
(charged once per order). ``FINANCE_PAYMENT_METHOD_ALIASES`` maps what the platforms
send ("bank_slip", "creditcard", ...) to those keys; anything unknown uses "other".
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings

DEFAULT_PAYMENT_METHODS: dict[str, dict[str, Any]] = {
    "pix": {
        "max_instalments": 1,
        "first_due_days": 0,
        "step_days": 30,
        "fee_percent": "0.99",
        "fee_fixed": "0",
    },
    "boleto": {
        "max_instalments": 1,
        "first_due_days": 2,
        "step_days": 30,
        "fee_percent": "0",
        "fee_fixed": "3.49",
    },
    "credit_card": {
        "max_instalments": 12,
        "first_due_days": 30,
        "step_days": 30,
        "fee_percent": "3.99",
        "fee_fixed": "0.39",
    },
    "debit_card": {
        "max_instalments": 1,
        "first_due_days": 1,
        "step_days": 30,
        "fee_percent": "1.99",
        "fee_fixed": "0",
    },
    "other": {
        "max_instalments": 1,
        "first_due_days": 30,
        "step_days": 30,
        "fee_percent": "0",
        "fee_fixed": "0",
    },
}

DEFAULT_ALIASES: dict[str, str] = {
    "pix": "pix",
    "boleto": "boleto",
    "bank_slip": "boleto",
    "ticket": "boleto",
    "credit_card": "credit_card",
    "creditcard": "credit_card",
    "credit": "credit_card",
    "card": "credit_card",
    "cartao": "credit_card",
    "cartao_credito": "credit_card",
    "debit_card": "debit_card",
    "debit": "debit_card",
}

DEFAULT_FISCAL_ISSUER: dict[str, str] = {
    "cnpj": "11222333000181",
    "name": "Loja Demo Ltda",
    "state_code": "35",  # IBGE code of the UF (35 = SP)
    "state": "SP",
    "city": "São Paulo",
    "city_code": "3550308",
    "ie": "ISENTO",
    "series": "1",
}


@dataclass(frozen=True)
class MethodTerms:
    key: str
    max_instalments: int
    first_due_days: int
    step_days: int
    fee_percent: Decimal
    fee_fixed: Decimal


def payment_terms(method: str) -> MethodTerms:
    """The terms for what a platform called ``method`` (case and separators ignored)."""
    methods = getattr(settings, "FINANCE_PAYMENT_METHODS", DEFAULT_PAYMENT_METHODS)
    aliases = {**DEFAULT_ALIASES, **getattr(settings, "FINANCE_PAYMENT_METHOD_ALIASES", {})}
    raw = (method or "").strip().lower().replace("-", "_").replace(" ", "_")
    key = aliases.get(raw, raw if raw in methods else "other")
    conf = methods.get(key) or methods.get("other") or DEFAULT_PAYMENT_METHODS["other"]
    return MethodTerms(
        key=key,
        max_instalments=max(1, int(conf.get("max_instalments", 1))),
        first_due_days=int(conf.get("first_due_days", 30)),
        step_days=int(conf.get("step_days", 30)),
        fee_percent=Decimal(str(conf.get("fee_percent", "0"))),
        fee_fixed=Decimal(str(conf.get("fee_fixed", "0"))),
    )


def fiscal_issuer() -> dict[str, str]:
    return {**DEFAULT_FISCAL_ISSUER, **getattr(settings, "FISCAL_ISSUER", {})}


def fiscal_provider_path() -> str:
    return getattr(settings, "FISCAL_EMISSION_PROVIDER", "finance.fiscal.LocalEmissionProvider")


# PostgreSQL settings for the queries of the monthly report, set with SET LOCAL in the
# report's read transaction only (bench/report.py, docs/benchmarks.md): JIT compilation
# of their many aggregate expressions costs more than it saves, and with the default
# work_mem (4MB) their hash joins over a month of orders spill to disk; 16MB measured
# better than 4MB and 64MB at 150k and 1.5M orders a month. Empty dict: leave the
# server's settings alone.
DEFAULT_REPORT_PG_SETTINGS = {"jit": "off", "work_mem": "16MB"}


def report_pg_settings() -> dict[str, str]:
    return dict(getattr(settings, "FINANCE_REPORT_PG_SETTINGS", DEFAULT_REPORT_PG_SETTINGS))
