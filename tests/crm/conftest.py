from __future__ import annotations

import pytest

from tests.factories.core import CustomerFactory


@pytest.fixture
def customer(db):
    return CustomerFactory.create(name="Maria Silva", email="maria@example.com", language="pt-br")
