"""No oversell and no deadlock on real PostgreSQL: threads, each on its own connection."""

from __future__ import annotations

import pytest

from inventory.models import Reservation, StockLevel
from inventory.selectors import stock_ledger_check
from inventory.services import LineRequest, stock_reserve_lines
from tests.concurrency import run_threads
from tests.factories.inventory import product_make, stock_put, warehouse_make

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("split", [(10,), (6, 4)], ids=["one-warehouse", "two-warehouses"])
def test_fifty_buyers_for_ten_units_get_exactly_ten(split):
    # given: 10 units on hand, in one warehouse or split over two
    product = product_make()
    for priority, units in enumerate(split):
        stock_put(product, warehouse_make(priority=priority), units)

    # when
    def buy(i: int) -> Reservation | None:
        lines = [LineRequest(order_line_id=1000 + i, product_id=product.pk, quantity=1)]
        return stock_reserve_lines(order_id=500 + i, lines=lines)[1000 + i]

    results, errors = run_threads(50, buy)

    # then
    assert errors == []
    assert sum(1 for r in results if r is not None) == 10
    assert sum(1 for r in results if r is None) == 40
    levels = list(StockLevel.objects.filter(product=product))
    assert sum(level.reserved for level in levels) == 10
    assert all(level.on_hand - level.reserved >= 0 for level in levels)
    assert Reservation.objects.filter(product=product, status="active").count() == 10
    assert stock_ledger_check() == []


def test_opposite_line_orders_do_not_deadlock():
    # given
    a, b = product_make(), product_make()
    wh = warehouse_make()
    stock_put(a, wh, 100)
    stock_put(b, wh, 100)

    # when: half the orders list [A, B], half [B, A]
    def buy(i: int) -> dict[int, Reservation | None]:
        pair = [a, b] if i % 2 else [b, a]
        lines = [
            LineRequest(order_line_id=2000 + 2 * i + j, product_id=p.pk, quantity=1)
            for j, p in enumerate(pair)
        ]
        return stock_reserve_lines(order_id=700 + i, lines=lines)

    results, errors = run_threads(20, buy)

    # then
    assert errors == []
    assert all(all(r is not None for r in result.values()) for result in results)
    assert StockLevel.objects.get(product=a).reserved == 20
    assert StockLevel.objects.get(product=b).reserved == 20
    assert stock_ledger_check() == []


def test_same_line_reserved_concurrently_is_reserved_once():
    product, wh = product_make(), warehouse_make()
    stock_put(product, wh, 10)

    def replay(i: int) -> int | None:
        lines = [LineRequest(order_line_id=3000, product_id=product.pk, quantity=2)]
        reservation = stock_reserve_lines(order_id=900, lines=lines)[3000]
        return reservation.pk if reservation else None

    results, errors = run_threads(8, replay)

    assert errors == []
    assert len(set(results)) == 1 and results[0] is not None
    assert StockLevel.objects.get(product=product).reserved == 2
    assert stock_ledger_check() == []
