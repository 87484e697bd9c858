"""Many ingests at once against real PostgreSQL: nothing oversold, nobody fails."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import pytest
from django.db import connection
from faker import Faker

from inventory.models import Reservation, StockLevel, StockMovement
from inventory.services import stock_receive
from orders.adapters.base import CustomerIn
from orders.models import Order, OrderHold, OrderLine
from orders.services import order_ingest
from tests.factories.orders import (
    line_in,
    make_channel,
    make_product,
    make_warehouse,
    order_in,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 25  # two per core would do; enough to pile up on one row lock


def _run_concurrently(calls: list[Callable[[], Any]]) -> list[BaseException | None]:
    barrier = threading.Barrier(min(THREADS, len(calls)))

    def run(call: Callable[[], Any]) -> BaseException | None:
        try:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=30)
            call()
            return None
        except BaseException as exc:  # reported by the test
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(run, calls))


def _customer(fake: Faker, i: int) -> CustomerIn:
    return CustomerIn(name=fake.name(), email=f"c{i}@example.com", document=fake.cpf())


def test_fifty_concurrent_orders_for_ten_units_reserve_ten_and_backorder_forty():
    # given 10 units of one SKU
    warehouse = make_warehouse(code="cd", priority=1)
    product = make_product(sku="ESCASSO")
    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=10)
    channel = make_channel(slug="concorrencia")
    fake = Faker("pt_BR")
    fake.seed_instance(7)
    payloads = [
        order_in(f"C{i}", lines=[line_in("ESCASSO", 1)], customer=_customer(fake, i))
        for i in range(50)
    ]

    # when 50 orders arrive at once
    errors = _run_concurrently(
        [partial(order_ingest, channel=channel, order_in=p) for p in payloads]
    )

    # then every caller succeeded, 10 lines are reserved, 40 backordered, none oversold
    assert errors == [None] * 50
    level = StockLevel.objects.get(product=product)
    assert (level.on_hand, level.reserved) == (10, 10)
    assert Order.objects.count() == 50
    statuses = list(OrderLine.objects.values_list("stock_status", flat=True))
    assert statuses.count("reserved") == 10 and statuses.count("backordered") == 40
    assert Reservation.objects.filter(status="active").count() == 10
    short = OrderHold.objects.filter(reason="stock_shortage", cleared_at__isnull=True)
    assert short.count() == 40
    assert set(Order.objects.filter(holds__in=short).values_list("status", flat=True)) == {
        "on_hold"
    }
    ledger = StockMovement.objects.filter(product=product)
    assert sum(m.reserved_delta for m in ledger) == 10
    assert sum(m.on_hand_delta for m in ledger) == 10


def test_the_same_order_ingested_concurrently_is_one_order_with_one_reservation():
    warehouse = make_warehouse(code="cd", priority=1)
    product = make_product(sku="UNICO")
    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=5)
    channel = make_channel(slug="replay")
    payload = order_in("R1", lines=[line_in("UNICO", 2)])

    errors = _run_concurrently([lambda: order_ingest(channel=channel, order_in=payload)] * 10)

    assert errors == [None] * 10
    assert Order.objects.count() == 1
    assert Reservation.objects.filter(status="active").count() == 1
    assert StockLevel.objects.get(product=product).reserved == 2


def test_orders_for_a_b_and_b_a_at_once_do_not_deadlock_or_fail():
    warehouse = make_warehouse(code="cd", priority=1)
    a, b = make_product(sku="AAA"), make_product(sku="BBB")
    for product in (a, b):
        stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=100)
    channel = make_channel(slug="cruzado")
    fake = Faker("pt_BR")
    fake.seed_instance(11)
    payloads = [
        order_in(
            f"X{i}",
            lines=[line_in("AAA"), line_in("BBB")] if i % 2 else [line_in("BBB"), line_in("AAA")],
            customer=_customer(fake, i),
        )
        for i in range(40)
    ]

    errors = _run_concurrently(
        [partial(order_ingest, channel=channel, order_in=p) for p in payloads]
    )

    assert errors == [None] * 40
    assert {lvl.reserved for lvl in StockLevel.objects.all()} == {40}
    assert OrderLine.objects.filter(stock_status="reserved").count() == 80


def test_concurrent_cancels_and_ingests_keep_reserved_within_on_hand():
    from orders.services import order_cancel

    warehouse = make_warehouse(code="cd", priority=1)
    product = make_product(sku="GIRO")
    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=5)
    channel = make_channel(slug="giro")
    fake = Faker("pt_BR")
    fake.seed_instance(3)
    first = [
        order_ingest(
            channel=channel,
            order_in=order_in(f"G{i}", lines=[line_in("GIRO")], customer=_customer(fake, i)),
        )
        for i in range(5)
    ]
    more = [
        order_in(f"H{i}", lines=[line_in("GIRO")], customer=_customer(fake, 100 + i))
        for i in range(10)
    ]
    calls: list[Callable[[], Any]] = [partial(order_cancel, order_id=o.pk) for o in first]
    calls += [partial(order_ingest, channel=channel, order_in=p) for p in more]

    errors = _run_concurrently(calls)

    assert errors == [None] * 15
    level = StockLevel.objects.get(product=product)
    assert 0 <= level.reserved <= level.on_hand == 5
    active = Reservation.objects.filter(status="active")
    assert sum(r.quantity for r in active) == level.reserved
