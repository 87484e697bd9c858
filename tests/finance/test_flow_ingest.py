# mypy: disable-error-code="attr-defined,misc,operator,arg-type"
"""Cross-app: an order the store sends already paid gets its receivable, exactly once,
however often the store repeats itself."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from finance.models import Instalment, Receivable
from orders.adapters.base import CustomerIn, LineIn, OrderIn
from orders.services import order_ingest
from tests.factories.core import ChannelFactory, ProductFactory, StockLevelFactory

pytestmark = pytest.mark.django_db


def test_order_ingested_paid_gets_one_receivable(django_capture_on_commit_callbacks):
    channel = ChannelFactory(slug="shop")
    product = ProductFactory(sku="CAF-1", price=Decimal("60.00"))
    StockLevelFactory(product=product, on_hand=10)
    order_in = OrderIn(
        external_id="A-1",
        number="A-1",
        placed_at=timezone.now(),
        currency="BRL",
        customer=CustomerIn(name="Ana", email="ana@example.com"),
        lines=(LineIn(sku="CAF-1", name="Café", quantity=2, unit_price=Decimal("60.00")),),
        total=Decimal("120.00"),
        payment_status="paid",
        payment_method="credit_card",
        installments=2,
        paid_at=timezone.now(),
    )

    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            order = order_ingest(channel=channel, order_in=order_in)

    receivable = Receivable.objects.get()
    assert receivable.order_id == order.pk
    assert (receivable.gross, receivable.instalment_count) == (Decimal("120.00"), 2)
    assert Instalment.objects.filter(receivable=receivable).count() == 2
