from __future__ import annotations

from typing import cast

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backoffice.errors import ApplicationError
from backoffice.events import subscribe, unsubscribe
from inventory.events import StockIncreased
from inventory.models import PurchaseOrder, Reservation, StockLevel, StockMovement
from inventory.selectors import stock_available, stock_ledger_check
from inventory.services import (
    LineRequest,
    purchase_order_receive,
    stock_adjust,
    stock_consume,
    stock_receive,
    stock_release,
    stock_release_lines,
    stock_reserve_lines,
    stock_restock_return,
    stock_transfer,
)
from tests.factories import StaffUserFactory
from tests.factories.inventory import po_line_make, product_make, stock_put, warehouse_make

pytestmark = pytest.mark.django_db


def level(product, warehouse) -> StockLevel:
    return StockLevel.objects.get(product=product, warehouse=warehouse)


@pytest.fixture
def events():
    seen: list[StockIncreased] = []
    subscribe(StockIncreased, seen.append)
    yield seen
    unsubscribe(StockIncreased, seen.append)


def test_receive_creates_level_and_one_movement_and_publishes(
    events, django_capture_on_commit_callbacks
):
    # given
    product, wh = product_make(), warehouse_make()
    user = cast(User, StaffUserFactory())
    # when
    with django_capture_on_commit_callbacks(execute=True):
        movement = stock_receive(
            product_id=product.pk, warehouse_id=wh.pk, quantity=7, actor=user, reference="NF 1"
        )
    # then
    assert (level(product, wh).on_hand, level(product, wh).reserved) == (7, 0)
    assert movement.reason == StockMovement.Reason.RECEIPT
    assert (movement.on_hand_delta, movement.actor_id, movement.reference) == (7, user.pk, "NF 1")
    assert StockMovement.objects.count() == 1
    assert events == [StockIncreased(product_id=product.pk, warehouse_id=wh.pk)]


def test_receive_rejects_zero_and_unknown_warehouse():
    product = product_make()
    wh = warehouse_make()
    with pytest.raises(ApplicationError):
        stock_receive(product_id=product.pk, warehouse_id=wh.pk, quantity=0)
    with pytest.raises(ApplicationError):
        stock_receive(product_id=product.pk, warehouse_id=wh.pk + 999, quantity=1)
    assert not StockMovement.objects.exists()
    assert not StockLevel.objects.exists()


def test_reserve_uses_warehouse_priority_and_skips_inactive_and_offline():
    # given
    product = product_make()
    first = warehouse_make(priority=1, is_active=False)
    offline = warehouse_make(priority=2, sells_online=False)
    short = warehouse_make(priority=3)
    good = warehouse_make(priority=4)
    later = warehouse_make(priority=5)
    for wh, qty in ((first, 10), (offline, 10), (short, 2), (good, 5), (later, 10)):
        stock_put(product, wh, qty)
    # when
    result = stock_reserve_lines(
        order_id=1, lines=[LineRequest(order_line_id=11, product_id=product.pk, quantity=3)]
    )
    # then
    reservation = result[11]
    assert reservation is not None and reservation.pk
    assert (reservation.warehouse_id, reservation.quantity) == (good.pk, 3)
    assert level(product, good).reserved == 3
    assert sum(StockLevel.objects.values_list("reserved", flat=True)) == 3
    move = StockMovement.objects.get(reason=StockMovement.Reason.RESERVE)
    assert (move.order_id, move.order_line_id, move.reserved_delta, move.on_hand_delta) == (
        1,
        11,
        3,
        0,
    )
    assert stock_ledger_check() == []


def test_reserve_short_line_is_none_and_changes_nothing_for_it():
    product, other = product_make(), product_make()
    wh = warehouse_make()
    stock_put(product, wh, 2)
    stock_put(other, wh, 5)
    result = stock_reserve_lines(
        order_id=2,
        lines=[
            LineRequest(order_line_id=21, product_id=product.pk, quantity=3),
            LineRequest(order_line_id=22, product_id=other.pk, quantity=5),
        ],
    )
    assert result[21] is None
    assert result[22] is not None
    assert level(product, wh).reserved == 0
    assert level(other, wh).reserved == 5
    assert Reservation.objects.count() == 1
    assert StockMovement.objects.filter(reason="reserve").count() == 1


def test_reserve_same_product_twice_in_one_order_never_overbooks():
    product, wh = product_make(), warehouse_make()
    stock_put(product, wh, 5)
    result = stock_reserve_lines(
        order_id=3,
        lines=[
            LineRequest(order_line_id=31, product_id=product.pk, quantity=3),
            LineRequest(order_line_id=32, product_id=product.pk, quantity=3),
        ],
    )
    assert result[31] is not None
    assert result[32] is None
    assert level(product, wh).reserved == 3


def test_reserve_is_idempotent_per_line(django_assert_num_queries):
    product, wh = product_make(), warehouse_make()
    stock_put(product, wh, 5)
    lines = [LineRequest(order_line_id=41, product_id=product.pk, quantity=2)]
    first = stock_reserve_lines(order_id=4, lines=lines)
    # the replay reads the active reservation and touches nothing (savepoint + select)
    with django_assert_num_queries(3):
        again = stock_reserve_lines(order_id=4, lines=lines)
    assert again[41] == first[41]
    assert level(product, wh).reserved == 2
    assert Reservation.objects.count() == 1
    assert StockMovement.objects.filter(reason="reserve").count() == 1


def test_reserve_hot_path_query_count_does_not_grow_with_warehouses(
    django_assert_num_queries,
):
    products = [product_make() for _ in range(3)]
    for i in range(4):
        wh = warehouse_make()
        for product in products:
            stock_put(product, wh, 1 + i)
    lines = [
        LineRequest(order_line_id=50 + i, product_id=p.pk, quantity=1)
        for i, p in enumerate(products)
    ]
    # savepoint, active reservations, candidate levels locked, the writes, release; the
    # writes (levels, reservations, ledger) are one statement on PostgreSQL, else three
    with django_assert_num_queries(5 if connection.vendor == "postgresql" else 7):
        result = stock_reserve_lines(order_id=5, lines=lines)
    assert all(result.values())


def test_reserve_new_lines_skips_the_replay_checks_and_locks_levels_in_product_order():

    products = [product_make() for _ in range(3)]
    wh = warehouse_make()
    for product in products:
        stock_put(product, wh, 5)
    lines = [
        LineRequest(order_line_id=70 + i, product_id=p.pk, quantity=2)
        for i, p in enumerate(reversed(products))
    ]
    # lines created in this transaction: no look-up of existing reservations, no savepoint
    with CaptureQueriesContext(connection) as ctx:
        result = stock_reserve_lines(order_id=7, lines=lines, new_lines=True)
    # the levels locked, then the writes: one statement on PostgreSQL, else the levels'
    # UPDATE and the INSERTs of reservations and movements
    assert len(ctx) == (2 if connection.vendor == "postgresql" else 4)
    if connection.vendor == "postgresql":
        lock = ctx.captured_queries[0]["sql"]
        assert lock.endswith("ORDER BY s.product_id, s.warehouse_id FOR UPDATE OF s")
    assert all(result.values())
    assert [level(p, wh).reserved for p in products] == [2, 2, 2]
    assert stock_ledger_check() == []


def test_reserve_several_lines_of_one_product_across_warehouses():
    product = product_make()
    first, second = warehouse_make(priority=1), warehouse_make(priority=2)
    stock_put(product, first, 3)
    stock_put(product, second, 2)
    result = stock_reserve_lines(
        order_id=8,
        lines=[
            LineRequest(order_line_id=81, product_id=product.pk, quantity=2),
            LineRequest(order_line_id=82, product_id=product.pk, quantity=2),
            LineRequest(order_line_id=83, product_id=product.pk, quantity=2),
        ],
        new_lines=True,
    )
    # whole lines, in order: the first from the preferred warehouse, the second no longer
    # fits there (1 left) and goes to the next, the third fits nowhere
    assert result[81] is not None and result[81].warehouse_id == first.pk
    assert result[82] is not None and result[82].warehouse_id == second.pk
    assert result[83] is None
    assert (level(product, first).reserved, level(product, second).reserved) == (2, 2)
    assert stock_ledger_check() == []


def test_reserve_rejects_bad_quantity_and_duplicate_lines():
    product, wh = product_make(), warehouse_make()
    stock_put(product, wh, 5)
    with pytest.raises(ApplicationError):
        stock_reserve_lines(order_id=6, lines=[LineRequest(61, product.pk, 0)])
    with pytest.raises(ApplicationError):
        stock_reserve_lines(
            order_id=6, lines=[LineRequest(61, product.pk, 1), LineRequest(61, product.pk, 1)]
        )
    assert level(product, wh).reserved == 0
    assert not Reservation.objects.exists()


def test_release_gives_back_unshipped_and_is_harmless_twice(
    events, django_capture_on_commit_callbacks
):
    product, wh = product_make(), warehouse_make()
    stock_put(product, wh, 5)
    stock_reserve_lines(order_id=7, lines=[LineRequest(71, product.pk, 4)])
    stock_consume(order_line_id=71, quantity=1)
    with django_capture_on_commit_callbacks(execute=True):
        released = stock_release(order_line_id=71, note="cancelled")
    assert released == 3
    assert (level(product, wh).on_hand, level(product, wh).reserved) == (4, 0)
    assert Reservation.objects.get().status == Reservation.Status.RELEASED
    assert events == [StockIncreased(product_id=product.pk, warehouse_id=wh.pk)]
    assert stock_release(order_line_id=71) == 0
    assert StockMovement.objects.filter(reason="release").count() == 1
    assert stock_ledger_check() == []


def test_release_lines_releases_several(events, django_capture_on_commit_callbacks):
    a, b = product_make(), product_make()
    wh = warehouse_make()
    stock_put(a, wh, 5)
    stock_put(b, wh, 5)
    stock_reserve_lines(
        order_id=8,
        lines=[LineRequest(81, b.pk, 2), LineRequest(82, a.pk, 1), LineRequest(84, a.pk, 1)],
    )
    with django_capture_on_commit_callbacks(execute=True):
        released = stock_release_lines(order_line_ids=[81, 82, 83, 84])
    assert released == {81: 2, 82: 1, 83: 0, 84: 1}
    # one event per product and warehouse that grew, however many lines
    assert sorted(e.product_id for e in events) == sorted([a.pk, b.pk])
    assert sum(StockLevel.objects.values_list("reserved", flat=True)) == 0
    assert stock_ledger_check() == []


def test_consume_ships_and_completes_reservation():
    product, wh = product_make(), warehouse_make()
    stock_put(product, wh, 5)
    stock_reserve_lines(order_id=9, lines=[LineRequest(91, product.pk, 3)])
    partial = stock_consume(order_line_id=91, quantity=2, reference="SHIP-1")
    assert (partial.shipped_quantity, partial.status) == (2, Reservation.Status.ACTIVE)
    done = stock_consume(order_line_id=91, quantity=1)
    assert done.status == Reservation.Status.CONSUMED
    assert (level(product, wh).on_hand, level(product, wh).reserved) == (2, 0)
    ships = StockMovement.objects.filter(reason="ship").order_by("id")
    assert [(m.on_hand_delta, m.reserved_delta) for m in ships] == [(-2, -2), (-1, -1)]
    assert stock_ledger_check() == []


def test_consume_over_ship_raises_and_changes_nothing():
    # given
    product, wh = product_make(), warehouse_make()
    stock_put(product, wh, 5)
    stock_reserve_lines(order_id=10, lines=[LineRequest(101, product.pk, 2)])
    movements = StockMovement.objects.count()
    # when / then
    with pytest.raises(ApplicationError):
        stock_consume(order_line_id=101, quantity=3)
    with pytest.raises(ApplicationError):
        stock_consume(order_line_id=999, quantity=1)
    assert (level(product, wh).on_hand, level(product, wh).reserved) == (5, 2)
    reservation = Reservation.objects.get()
    assert (reservation.shipped_quantity, reservation.status) == (0, Reservation.Status.ACTIVE)
    assert StockMovement.objects.count() == movements


def test_adjust_count_and_delta(events, django_capture_on_commit_callbacks):
    product, wh = product_make(), warehouse_make()
    stock_put(product, wh, 5)
    stock_reserve_lines(order_id=11, lines=[LineRequest(111, product.pk, 2)])
    with django_capture_on_commit_callbacks(execute=True):
        count = stock_adjust(product_id=product.pk, warehouse_id=wh.pk, new_on_hand=8)
        down = stock_adjust(product_id=product.pk, warehouse_id=wh.pk, delta=-3, note="broken")
    assert count is not None and count.reason == "count" and count.on_hand_delta == 3
    assert down is not None and down.reason == "adjustment" and down.on_hand_delta == -3
    assert level(product, wh).on_hand == 5
    assert len(events) == 1  # only the count raised availability
    assert stock_adjust(product_id=product.pk, warehouse_id=wh.pk, new_on_hand=5) is None
    assert stock_ledger_check() == []


def test_adjust_below_reserved_is_refused():
    product, wh = product_make(), warehouse_make()
    stock_put(product, wh, 5)
    stock_reserve_lines(order_id=12, lines=[LineRequest(121, product.pk, 4)])
    with pytest.raises(ApplicationError):
        stock_adjust(product_id=product.pk, warehouse_id=wh.pk, new_on_hand=3)
    with pytest.raises(ApplicationError):
        stock_adjust(product_id=product.pk, warehouse_id=wh.pk, delta=-2)
    with pytest.raises(ApplicationError):
        stock_adjust(product_id=product.pk, warehouse_id=wh.pk, delta=1, new_on_hand=1)
    assert level(product, wh).on_hand == 5
    assert StockMovement.objects.filter(reason__in=["count", "adjustment"]).count() == 0


def test_adjust_creates_missing_level():
    product, wh = product_make(), warehouse_make()
    stock_adjust(product_id=product.pk, warehouse_id=wh.pk, new_on_hand=4)
    assert level(product, wh).on_hand == 4
    assert stock_ledger_check() == []


def test_transfer_moves_available_units_only(events, django_capture_on_commit_callbacks):
    product = product_make()
    src, dst = warehouse_make(), warehouse_make()
    stock_put(product, src, 5)
    stock_reserve_lines(order_id=13, lines=[LineRequest(131, product.pk, 2)])
    with pytest.raises(ApplicationError):
        stock_transfer(
            product_id=product.pk, from_warehouse_id=src.pk, to_warehouse_id=dst.pk, quantity=4
        )
    assert not StockLevel.objects.filter(warehouse=dst, on_hand__gt=0).exists()
    with django_capture_on_commit_callbacks(execute=True):
        out, into = stock_transfer(
            product_id=product.pk, from_warehouse_id=src.pk, to_warehouse_id=dst.pk, quantity=3
        )
    assert (out.reason, out.on_hand_delta, into.reason, into.on_hand_delta) == (
        "transfer_out",
        -3,
        "transfer_in",
        3,
    )
    assert (level(product, src).on_hand, level(product, src).reserved) == (2, 2)
    assert level(product, dst).on_hand == 3
    assert events[-1] == StockIncreased(product_id=product.pk, warehouse_id=dst.pk)
    with pytest.raises(ApplicationError):
        stock_transfer(
            product_id=product.pk, from_warehouse_id=src.pk, to_warehouse_id=src.pk, quantity=1
        )
    assert stock_ledger_check() == []


def test_transfer_back_to_lower_id_warehouse():
    product = product_make()
    low, high = warehouse_make(), warehouse_make()
    stock_put(product, high, 4)
    stock_transfer(
        product_id=product.pk, from_warehouse_id=high.pk, to_warehouse_id=low.pk, quantity=4
    )
    assert (level(product, low).on_hand, level(product, high).on_hand) == (4, 0)
    assert stock_ledger_check() == []


def test_restock_return_records_order_ids():
    product, wh = product_make(), warehouse_make()
    movement = stock_restock_return(
        product_id=product.pk, warehouse_id=wh.pk, quantity=1, order_id=14, order_line_id=141
    )
    assert (movement.reason, movement.order_id, movement.order_line_id) == ("return", 14, 141)
    assert stock_available(product_id=product.pk) == 1


def test_purchase_order_receive_is_repeatable():
    line = po_line_make(quantity=6)
    po = line.purchase_order
    assert purchase_order_receive(purchase_order_id=po.pk) == 6
    assert purchase_order_receive(purchase_order_id=po.pk) == 0
    po.refresh_from_db()
    line.refresh_from_db()
    assert po.status == PurchaseOrder.Status.RECEIVED
    assert line.received_quantity == 6
    assert level(line.product, po.warehouse).on_hand == 6
    assert StockMovement.objects.get().reference == f"PO-{po.pk}"
