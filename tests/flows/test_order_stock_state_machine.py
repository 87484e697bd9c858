"""Property test: any sequence of order and stock operations keeps stock consistent.

Each example runs inside a savepoint that is rolled back at teardown, so examples do
not see each other's rows. Events never commit here; backorder retries are a rule.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from backoffice.errors import ApplicationError
from inventory.models import Product, Reservation, StockLevel, StockMovement, Warehouse
from inventory.services import stock_adjust, stock_consume, stock_receive
from orders.models import Order, OrderLine
from orders.services import (
    order_backorders_retry,
    order_cancel,
    order_fulfillment_set,
    order_ingest,
    order_payment_set,
)
from tests.factories.orders import (
    line_in,
    make_channel,
    make_product,
    make_warehouse,
    order_in,
)

pytestmark = pytest.mark.django_db

SKUS = ["P-A", "P-B", "P-C"]


class OrderStockMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.warehouses: list[Warehouse] = [
            make_warehouse(code="sm-cd", priority=1),
            make_warehouse(code="sm-loja", priority=2),
        ]
        self.products: list[Product] = [make_product(sku=sku) for sku in SKUS]
        self.channel = make_channel(slug="sm")
        self.order_ids: list[int] = []
        self.counter = 0

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # --- rules ----------------------------------------------------------------------
    @rule(
        product=st.integers(0, 2),
        warehouse=st.integers(0, 1),
        quantity=st.integers(1, 4),
    )
    def receive(self, product: int, warehouse: int, quantity: int) -> None:
        stock_receive(
            product_id=self.products[product].pk,
            warehouse_id=self.warehouses[warehouse].pk,
            quantity=quantity,
        )

    @rule(product=st.integers(0, 2), warehouse=st.integers(0, 1), delta=st.integers(-3, 3))
    def adjust(self, product: int, warehouse: int, delta: int) -> None:
        if delta == 0:
            return
        # Going below reserved or zero is refused and changes nothing.
        with contextlib.suppress(ApplicationError):
            stock_adjust(
                product_id=self.products[product].pk,
                warehouse_id=self.warehouses[warehouse].pk,
                delta=delta,
            )

    @rule(
        lines=st.lists(
            st.tuples(st.sampled_from([*SKUS, "DESCONHECIDO"]), st.integers(1, 3)),
            min_size=1,
            max_size=3,
            unique_by=lambda t: t[0],
        ),
        paid=st.booleans(),
    )
    def create(self, lines: list[tuple[str, int]], paid: bool) -> None:
        self.counter += 1
        order = order_ingest(
            channel=self.channel,
            order_in=order_in(
                f"SM{self.counter}",
                lines=[line_in(sku, q) for sku, q in lines],
                payment_status="paid" if paid else "pending",
            ),
        )
        self.order_ids.append(order.pk)

    @precondition(lambda self: self.order_ids)
    @rule(data=st.data())
    def replay(self, data: Any) -> None:
        """The store sends an order again: nothing may be reserved twice."""
        order = Order.objects.get(pk=data.draw(st.sampled_from(self.order_ids)))
        lines = [line_in(x.sku, x.quantity) for x in order.lines.all()]
        order_ingest(channel=self.channel, order_in=order_in(order.external_id, lines=lines))

    @precondition(lambda self: self.order_ids)
    @rule(data=st.data())
    def pay(self, data: Any) -> None:
        order_id = data.draw(st.sampled_from(self.order_ids))
        with contextlib.suppress(ApplicationError):
            order_payment_set(order_id=order_id, status="paid")

    @precondition(lambda self: self.order_ids)
    @rule(data=st.data())
    def cancel(self, data: Any) -> None:
        order_id = data.draw(st.sampled_from(self.order_ids))
        try:
            order_cancel(order_id=order_id)
        except ApplicationError:
            assert Order.objects.get(pk=order_id).status in ("cancelled", "processing", "completed")

    @precondition(lambda self: self.order_ids)
    @rule(data=st.data())
    def ship(self, data: Any) -> None:
        """Logistics ships a confirmed, fully reserved order: consume, then mark shipped."""
        order = Order.objects.get(pk=data.draw(st.sampled_from(self.order_ids)))
        lines = list(order.lines.all())
        if order.status != "confirmed" or any(x.stock_status != "reserved" for x in lines):
            return
        with transaction.atomic():
            for line in lines:
                stock_consume(order_line_id=line.pk, quantity=line.quantity)
            order_fulfillment_set(order_id=order.pk, status="shipped")

    @rule(product=st.integers(0, 2))
    def retry_backorders(self, product: int) -> None:
        order_backorders_retry(product_id=self.products[product].pk)

    # --- invariants -----------------------------------------------------------------
    @invariant()
    def reserved_within_on_hand_and_ledger_adds_up(self) -> None:
        ledger: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
        for m in StockMovement.objects.all():
            ledger[(m.product_id, m.warehouse_id)][0] += m.on_hand_delta
            ledger[(m.product_id, m.warehouse_id)][1] += m.reserved_delta
        open_units: dict[tuple[int, int], int] = defaultdict(int)
        for r in Reservation.objects.filter(status="active"):
            open_units[(r.product_id, r.warehouse_id)] += r.quantity - r.shipped_quantity
        for level in StockLevel.objects.all():
            key = (level.product_id, level.warehouse_id)
            assert 0 <= level.reserved <= level.on_hand
            assert ledger[key] == [level.on_hand, level.reserved]
            assert open_units[key] == level.reserved

    @invariant()
    def lines_agree_with_reservations(self) -> None:
        active = set(
            Reservation.objects.filter(status="active").values_list("order_line_id", flat=True)
        )
        for line in OrderLine.objects.select_related("order"):
            assert (line.stock_status == "reserved") == (line.pk in active)
            if line.order.status == "cancelled":
                assert line.stock_status in ("released", "unknown_sku")
            if line.stock_status == "backordered":
                assert line.order.status == "on_hold"


def test_order_and_stock_operations_keep_stock_invariants():
    run_state_machine_as_test(
        OrderStockMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
