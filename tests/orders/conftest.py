from __future__ import annotations

from collections.abc import Callable
from typing import cast

import pytest

from inventory.models import Product, StockLevel, Warehouse
from tests.factories import ChannelFactory, ProductFactory, WarehouseFactory


@pytest.fixture
def warehouse(db) -> Warehouse:
    return cast(Warehouse, WarehouseFactory(code="cd-sp", name="CD São Paulo", priority=1))


@pytest.fixture
def channel(db):
    return ChannelFactory(slug="loja-teste", name="Loja Teste")


@pytest.fixture
def stock(warehouse: Warehouse) -> Callable[..., Product]:
    """stock("SKU-1", 5) -> the product, with 5 units received through inventory services."""
    from inventory.services import stock_receive

    def make(sku: str, quantity: int = 10, **kw) -> Product:
        product = cast(Product, ProductFactory(sku=sku, **kw))
        if quantity:
            stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=quantity)
        return product

    return make


def level(product: Product) -> tuple[int, int]:
    """(on_hand, reserved) summed over warehouses."""
    rows = StockLevel.objects.filter(product=product)
    return sum(r.on_hand for r in rows), sum(r.reserved for r in rows)
