from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import translation

from tests.factories.finance import CashAccountFactory


@pytest.fixture(autouse=True)
def english():
    """Assertions read in English; pt-BR (the default) has its own tests."""
    with translation.override("en"):
        yield


@pytest.fixture
def bank():
    return CashAccountFactory(name="Banco", kind="bank")


@pytest.fixture
def gateway():
    return CashAccountFactory(name="Gateway", kind="gateway")


def line_kwargs(**kw):
    """OrderLineFactory needs an explicit discount (its total refers to it)."""
    kw.setdefault("discount", Decimal("0.00"))
    return kw
