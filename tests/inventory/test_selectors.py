from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from inventory.models import StockMovement
from inventory.selectors import (
    inventory_kpis,
    product_list,
    stock_aging,
    stock_available,
    stock_level_list,
    stock_value_total,
)
from inventory.services import LineRequest, stock_consume, stock_reserve_lines
from tests.factories.inventory import product_make, stock_put, warehouse_make

pytestmark = pytest.mark.django_db


def test_stock_available_counts_only_active_selling_warehouses():
    product = product_make()
    online, offline, closed = (
        warehouse_make(),
        warehouse_make(sells_online=False),
        warehouse_make(is_active=False),
    )
    for wh in (online, offline, closed):
        stock_put(product, wh, 4)
    stock_reserve_lines(order_id=1, lines=[LineRequest(1, product.pk, 3)])
    assert stock_available(product_id=product.pk) == 1
    assert stock_available(product_id=product.pk, warehouse_id=offline.pk) == 4
    assert stock_available(product_id=product_make().pk) == 0


def test_stock_value_total_at_cost():
    a, b = product_make(cost=Decimal("10.50")), product_make(cost=Decimal("3.00"))
    wh, other = warehouse_make(), warehouse_make()
    stock_put(a, wh, 2)
    stock_put(b, wh, 5)
    stock_put(b, other, 1)
    assert stock_value_total() == Decimal("39.00")
    assert stock_value_total(warehouse_id=other.pk) == Decimal("3.00")


def test_stock_aging_counts_units_beyond_recent_receipts():
    # given: 10 units received 100 days ago, 4 received yesterday, 6 shipped since
    product, wh = product_make(cost=Decimal("2.00")), warehouse_make()
    old = stock_put(product, wh, 10)
    StockMovement.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=100))
    stock_put(product, wh, 4)
    stock_reserve_lines(order_id=1, lines=[LineRequest(1, product.pk, 6)])
    stock_consume(order_line_id=1, quantity=6)
    fresh = product_make()
    stock_put(fresh, wh, 3)
    # when
    aging = stock_aging(days=90)
    # then: 8 on hand, the 4 recent ones are young, so 4 units are old (FIFO)
    assert (aging.units, aging.value) == (4, Decimal("8.00"))
    assert [row.product_id for row in aging.rows] == [product.pk]
    assert stock_aging(days=200).units == 0


def test_product_list_totals_and_filters(django_assert_num_queries):
    wh = warehouse_make()
    mug = product_make(sku="CANECA", name="Caneca", barcode="789123")
    stock_put(mug, wh, 5)
    product_make(sku="OFF", is_active=False)
    with django_assert_num_queries(1):
        products: list[Any] = list(product_list())
    rows = {p.sku: (p.on_hand_total, p.available_total) for p in products}
    assert rows == {"CANECA": (5, 5), "OFF": (0, 0)}
    assert [p.sku for p in product_list(filters={"search": "9123"})] == ["CANECA"]
    assert [p.sku for p in product_list(filters={"is_active": False})] == ["OFF"]


def test_stock_level_list_filters(django_assert_num_queries):
    a, b = product_make(sku="A"), product_make(sku="B")
    wh1, wh2 = warehouse_make(code="sp"), warehouse_make(code="rj")
    for p in (a, b):
        for wh in (wh1, wh2):
            stock_put(p, wh, 2)
    with django_assert_num_queries(1):
        levels: list[Any] = list(stock_level_list())
        rows = [(lv.product.sku, lv.warehouse.code, lv.available_units) for lv in levels]
    assert len(rows) == 4
    assert {lv.warehouse.code for lv in stock_level_list(filters={"sku": "A"})} == {"sp", "rj"}
    assert {lv.product.sku for lv in stock_level_list(filters={"warehouse": "rj"})} == {"A", "B"}


def test_inventory_kpis_and_dashboard(admin_client):
    wh = warehouse_make()
    stocked, empty = product_make(cost=Decimal("5.00")), product_make()
    stock_put(stocked, wh, 2)
    product_make(is_active=False)
    assert inventory_kpis() == {"out_of_stock": 1, "stock_value": Decimal("10.00")}
    listing = admin_client.get(
        reverse("admin:inventory_product_changelist"),
        {"is_active__exact": "1", "availability": "out"},
    )
    assert [p.pk for p in listing.context["cl"].result_list] == [empty.pk]
