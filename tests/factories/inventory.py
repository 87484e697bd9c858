"""Factories for inventory's purchasing models, and a helper that stocks through the
service (so the ledger stays consistent) rather than writing levels directly."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

import factory

from inventory.models import (
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    StockMovement,
    Supplier,
    Warehouse,
)
from inventory.services import stock_receive
from tests.factories.core import ProductFactory, WarehouseFactory


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supplier

    name = factory.Sequence(lambda n: f"Fornecedor {n}")
    document = "11222333000181"
    email = factory.Sequence(lambda n: f"fornecedor{n}@example.com")


class PurchaseOrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PurchaseOrder

    supplier = factory.SubFactory(SupplierFactory)
    warehouse = factory.SubFactory(WarehouseFactory)
    status = PurchaseOrder.Status.ORDERED


class PurchaseOrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PurchaseOrderLine

    purchase_order = factory.SubFactory(PurchaseOrderFactory)
    product = factory.SubFactory(ProductFactory)
    quantity = 10
    unit_cost = Decimal("20.00")


def product_make(**kwargs: Any) -> Product:
    """``ProductFactory(**kwargs)`` typed as the model (factory_boy has no stubs)."""
    return cast(Product, ProductFactory(**kwargs))


def warehouse_make(**kwargs: Any) -> Warehouse:
    return cast(Warehouse, WarehouseFactory(**kwargs))


def po_line_make(**kwargs: Any) -> PurchaseOrderLine:
    return cast(PurchaseOrderLine, PurchaseOrderLineFactory(**kwargs))


def stock_put(product: Product, warehouse: Warehouse, quantity: int) -> StockMovement:
    """Put ``quantity`` units on hand through ``stock_receive`` (ledger included)."""
    return stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=quantity)
