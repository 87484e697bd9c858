from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import F

from inventory.models import Reservation, StockLevel, StockMovement
from inventory.selectors import stock_ledger_check
from inventory.services import LineRequest, stock_reserve_lines
from tests.factories.inventory import product_make, stock_put, warehouse_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def stocked():
    product, wh = product_make(), warehouse_make()
    stock_put(product, wh, 10)
    stock_reserve_lines(order_id=1, lines=[LineRequest(1, product.pk, 3)])
    return product, wh


def test_clean_ledger_passes(stocked):
    out = StringIO()
    call_command("check_stock_ledger", stdout=out)
    assert "agree" in out.getvalue()


def test_tampered_on_hand_is_reported_and_exits_non_zero(stocked):
    product, wh = stocked
    # given: someone edits the level behind the services' back
    StockLevel.objects.filter(product=product, warehouse=wh).update(on_hand=F("on_hand") + 2)
    err = StringIO()
    # when / then
    with pytest.raises(CommandError):
        call_command("check_stock_ledger", stderr=err)
    assert f"product {product.pk} @ warehouse {wh.pk}" in err.getvalue()
    [problem] = stock_ledger_check()
    assert (problem.on_hand, problem.ledger_on_hand) == (12, 10)


def test_reserved_without_reservation_is_reported(stocked):
    Reservation.objects.update(status=Reservation.Status.RELEASED)
    [problem] = stock_ledger_check()
    assert (problem.reserved, problem.ledger_reserved, problem.reservations_open) == (3, 3, 0)


def test_movements_without_a_level_are_reported():
    product, wh = product_make(), warehouse_make()
    StockMovement.objects.create(product=product, warehouse=wh, on_hand_delta=4, reason="receipt")
    [problem] = stock_ledger_check()
    assert (problem.level_id, problem.ledger_on_hand) == (None, 4)


def test_check_is_one_query(stocked, django_assert_num_queries):
    for _ in range(3):
        stock_put(product_make(), warehouse_make(), 2)
    with django_assert_num_queries(1):
        stock_ledger_check()
