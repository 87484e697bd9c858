"""Random sequences of stock operations keep the invariants: 0 <= reserved <= on_hand,
levels equal their ledger sums, reserved equals the open reservations, and the levels
match a plain-Python model of what each service promised."""

from __future__ import annotations

import itertools
from functools import partial

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from backoffice.errors import ApplicationError
from inventory.models import Reservation, StockLevel
from inventory.selectors import stock_ledger_check
from inventory.services import (
    LineRequest,
    stock_adjust,
    stock_consume,
    stock_receive,
    stock_release,
    stock_reserve_lines,
    stock_transfer,
)
from tests.factories.inventory import product_make, warehouse_make

P, W = 2, 2
product_ix = st.integers(0, P - 1)
warehouse_ix = st.integers(0, W - 1)
qty = st.integers(1, 6)


class StockMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.products = [product_make().pk for _ in range(P)]
        self.warehouses = [warehouse_make(priority=i).pk for i in range(W)]
        self.model: dict[tuple[int, int], list[int]] = {}  # (p, w) -> [on_hand, reserved]
        self.lines = itertools.count(1)
        self.open: dict[int, tuple[int, int, int]] = {}  # line -> (p, w, unshipped)

    def _level(self, p: int, w: int) -> list[int]:
        return self.model.setdefault((p, w), [0, 0])

    @rule(p=product_ix, w=warehouse_ix, q=qty)
    def receive(self, p: int, w: int, q: int) -> None:
        stock_receive(product_id=self.products[p], warehouse_id=self.warehouses[w], quantity=q)
        self._level(p, w)[0] += q

    @rule(p=product_ix, q=qty)
    def reserve(self, p: int, q: int) -> None:
        line = next(self.lines)
        result = stock_reserve_lines(order_id=line, lines=[LineRequest(line, self.products[p], q)])[
            line
        ]
        fits = [w for w in range(W) if self._level(p, w)[0] - self._level(p, w)[1] >= q]
        if not fits:
            assert result is None
            return
        assert result is not None
        w = self.warehouses.index(result.warehouse_id)
        assert w == fits[0]  # highest priority that fits
        self._level(p, w)[1] += q
        self.open[line] = (p, w, q)

    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        if not self.open:
            return
        line = data.draw(st.sampled_from(sorted(self.open)))
        p, w, unshipped = self.open.pop(line)
        assert stock_release(order_line_id=line) == unshipped
        self._level(p, w)[1] -= unshipped

    @rule(data=st.data(), q=qty)
    def consume(self, data: st.DataObject, q: int) -> None:
        if not self.open:
            return
        line = data.draw(st.sampled_from(sorted(self.open)))
        p, w, unshipped = self.open[line]
        if q > unshipped:
            with pytest.raises(ApplicationError):
                stock_consume(order_line_id=line, quantity=q)
            return
        stock_consume(order_line_id=line, quantity=q)
        level = self._level(p, w)
        level[0] -= q
        level[1] -= q
        if q == unshipped:
            del self.open[line]
        else:
            self.open[line] = (p, w, unshipped - q)

    @rule(p=product_ix, w=warehouse_ix, new=st.integers(0, 15))
    def adjust(self, p: int, w: int, new: int) -> None:
        level = self._level(p, w)
        call = partial(stock_adjust, product_id=self.products[p], warehouse_id=self.warehouses[w])
        if new < level[1]:
            with pytest.raises(ApplicationError):
                call(new_on_hand=new)
            return
        call(new_on_hand=new)
        level[0] = new

    @rule(p=product_ix, src=warehouse_ix, q=qty)
    def transfer(self, p: int, src: int, q: int) -> None:
        dst = (src + 1) % W
        source = self._level(p, src)
        call = partial(
            stock_transfer,
            product_id=self.products[p],
            from_warehouse_id=self.warehouses[src],
            to_warehouse_id=self.warehouses[dst],
            quantity=q,
        )
        if source[0] - source[1] < q:
            with pytest.raises(ApplicationError):
                call()
            return
        call()
        source[0] -= q
        self._level(p, dst)[0] += q

    @invariant()
    def levels_hold(self) -> None:
        for level in StockLevel.objects.all():
            assert 0 <= level.reserved <= level.on_hand
            p = self.products.index(level.product_id)
            w = self.warehouses.index(level.warehouse_id)
            assert [level.on_hand, level.reserved] == self._level(p, w)
        assert stock_ledger_check() == []
        open_units = sum(u for _, _, u in self.open.values())
        active = Reservation.objects.filter(status="active")
        assert sum(r.quantity - r.shipped_quantity for r in active) == open_units


@pytest.mark.django_db
def test_stock_operations_keep_invariants():
    machine = settings(
        max_examples=30,
        stateful_step_count=20,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )(StockMachine)

    # Each example runs in a savepoint of the test's transaction, rolled back after it.
    class Isolated(machine):  # type: ignore[misc,valid-type]
        def __init__(self) -> None:
            self._atomic = transaction.atomic()
            self._atomic.__enter__()
            super().__init__()

        def teardown(self) -> None:
            transaction.set_rollback(True)
            self._atomic.__exit__(None, None, None)

    Isolated.TestCase().runTest()
