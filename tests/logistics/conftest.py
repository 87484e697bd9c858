from __future__ import annotations

import pytest

from tests.factories.logistics import correios_sedex


@pytest.fixture
def sedex(db):
    return correios_sedex()
