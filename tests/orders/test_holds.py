from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from backoffice.errors import ConflictError
from orders.adapters.base import AddressIn, CustomerIn
from orders.models import OrderHold
from orders.services import order_backorders_retry, order_cancel, order_hold_clear, order_ingest
from tests.factories.orders import (
    ADDRESS,
    PriceListFactory,
    PriceListItemFactory,
    PromotionFactory,
    line_in,
    make_staff,
    order_in,
)
from tests.orders.conftest import level

pytestmark = pytest.mark.django_db


def _reasons(order) -> list[str]:
    return sorted(order.holds.filter(cleared_at__isnull=True).values_list("reason", flat=True))


def test_invalid_cpf_puts_the_order_on_hold(channel, stock):
    stock("CAFE-1")
    customer = CustomerIn(name="João", email="joao@example.com", document="111.111.111-11")

    order = order_ingest(
        channel=channel, order_in=order_in("7001", skus=["CAFE-1"], customer=customer)
    )

    assert order.status == "on_hold"
    assert _reasons(order) == ["invalid_document"]
    assert "111.111.111-11" in order.holds.get().detail  # staff see what was sent


def test_missing_document_is_a_hold_for_brazil_but_not_abroad(channel, stock):
    stock("CAFE-1")
    customer = CustomerIn(name="Ana", email="ana@example.com")
    abroad = AddressIn(name="Ana", street="Calle 1", number="2", city="Montevideo", country="UY")

    br = order_ingest(
        channel=channel, order_in=order_in("7002", skus=["CAFE-1"], customer=customer)
    )
    uy = order_ingest(
        channel=channel,
        order_in=order_in("7003", skus=["CAFE-1"], customer=customer, address=abroad),
    )

    assert _reasons(br) == ["invalid_document"]
    assert _reasons(uy) == []


@pytest.mark.parametrize(
    "change",
    [{"postal_code": "0131010"}, {"street": ""}, {"number": ""}, {"city": ""}, {"state": ""}],
)
def test_incomplete_address_puts_the_order_on_hold(channel, stock, change):
    stock("CAFE-1")
    address = AddressIn(**{**ADDRESS.__dict__, **change})

    order = order_ingest(
        channel=channel, order_in=order_in("7004", skus=["CAFE-1"], address=address)
    )

    assert _reasons(order) == ["incomplete_address"]


def test_price_below_list_beyond_tolerance_is_a_hold(channel, stock):
    product = stock("CAFE-1")
    item = PriceListItemFactory(product=product, price=Decimal("50.00"))  # tolerance 5 %
    channel.price_list = item.price_list
    channel.save()

    within = order_ingest(
        channel=channel, order_in=order_in("7005", lines=[line_in("CAFE-1", 1, "47.50")])
    )
    below = order_ingest(
        channel=channel, order_in=order_in("7006", lines=[line_in("CAFE-1", 1, "47.49")])
    )

    assert _reasons(within) == []
    assert _reasons(below) == ["price_mismatch"]
    assert "CAFE-1" in below.holds.get().detail


def test_price_list_outside_its_validity_window_is_not_applied(channel, stock):
    product = stock("CAFE-1")
    price_list = PriceListFactory(valid_until=timezone.now() - timedelta(days=1))
    PriceListItemFactory(price_list=price_list, product=product, price=Decimal("50.00"))
    channel.price_list = price_list
    channel.save()

    order = order_ingest(
        channel=channel, order_in=order_in("7007", lines=[line_in("CAFE-1", 1, "10.00")])
    )

    assert _reasons(order) == []


def test_active_promotion_explains_a_lower_price(channel, stock):
    product = stock("CAFE-1")
    item = PriceListItemFactory(product=product, price=Decimal("50.00"))
    channel.price_list = item.price_list
    channel.save()
    PromotionFactory(product=product, value=Decimal("20.00"))  # 20 % off -> 40.00
    PromotionFactory(code="VIP50", value=Decimal("50.00"))  # coupon only

    promo = order_ingest(
        channel=channel, order_in=order_in("7008", lines=[line_in("CAFE-1", 1, "40.00")])
    )
    too_low = order_ingest(
        channel=channel, order_in=order_in("7009", lines=[line_in("CAFE-1", 1, "25.00")])
    )
    coupon = order_ingest(
        channel=channel,
        order_in=order_in("7010", lines=[line_in("CAFE-1", 1, "25.00")], coupon_code="vip50"),
    )

    assert _reasons(promo) == []
    assert _reasons(too_low) == ["price_mismatch"]
    assert _reasons(coupon) == []


@override_settings(ORDERS_RISK_FIRST_ORDER_TOTAL="100.00")
def test_large_first_order_is_a_risk_hold_but_not_for_a_returning_customer(channel, stock):
    stock("CAFE-1", 20)
    first = order_ingest(
        channel=channel, order_in=order_in("7011", lines=[line_in("CAFE-1", 1, "10.00")])
    )
    big_second = order_ingest(
        channel=channel, order_in=order_in("7012", lines=[line_in("CAFE-1", 5)])
    )
    other = CustomerIn(name="Novo", email="novo@example.com", document="153.509.460-56")
    big_first = order_ingest(
        channel=channel, order_in=order_in("7013", lines=[line_in("CAFE-1", 5)], customer=other)
    )

    assert _reasons(first) == [] and _reasons(big_second) == []
    assert _reasons(big_first) == ["risk"]


def test_clearing_the_last_hold_releases_the_order_and_writes_events(channel, stock):
    stock("CAFE-1")
    staff = make_staff()
    customer = CustomerIn(name="João", email="joao@example.com", document="123")
    address = AddressIn(**{**ADDRESS.__dict__, "number": ""})
    order = order_ingest(
        channel=channel,
        order_in=order_in(
            "7014", skus=["CAFE-1"], customer=customer, address=address, payment_status="paid"
        ),
    )
    assert _reasons(order) == ["incomplete_address", "invalid_document"]
    doc_hold, address_hold = (
        order.holds.get(reason="invalid_document"),
        order.holds.get(reason="incomplete_address"),
    )

    order_hold_clear(hold_id=doc_hold.pk, actor=staff, note="CPF confirmado por telefone")
    order.refresh_from_db()
    assert order.status == "on_hold"

    order_hold_clear(hold_id=address_hold.pk, actor=staff)
    order.refresh_from_db()
    assert order.status == "confirmed"  # paid, so confirmed rather than new
    cleared = order.events.filter(kind="hold_cleared")
    assert cleared.count() == 2
    first_cleared = cleared.order_by("id")[0]
    assert first_cleared.actor == staff
    assert first_cleared.message == "CPF confirmado por telefone"
    doc_hold.refresh_from_db()
    assert doc_hold.cleared_by == staff and doc_hold.cleared_at is not None

    with pytest.raises(ConflictError):
        order_hold_clear(hold_id=doc_hold.pk, actor=staff)


def test_stock_shortage_hold_clears_only_once_lines_are_reserved(channel, stock, warehouse):
    from inventory.services import stock_receive

    product = stock("CAFE-1", 1)
    staff = make_staff()
    order = order_ingest(channel=channel, order_in=order_in("7015", lines=[line_in("CAFE-1", 3)]))
    hold = order.holds.get()

    with pytest.raises(ConflictError):
        order_hold_clear(hold_id=hold.pk, actor=staff)
    hold.refresh_from_db()
    assert hold.cleared_at is None and level(product) == (1, 0)

    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=5)
    order_backorders_retry(product_id=product.pk)  # may already have run via the event
    order.refresh_from_db()
    assert order.status == "new"
    assert order.lines.get().stock_status == "reserved"
    assert level(product) == (6, 3)
    assert not OrderHold.objects.filter(cleared_at__isnull=True).exists()


def test_stock_increase_event_retries_backorders_oldest_first(
    channel, stock, warehouse, django_capture_on_commit_callbacks
):
    from inventory.services import stock_receive

    product = stock("CAFE-1", 0)
    first = order_ingest(channel=channel, order_in=order_in("7016", lines=[line_in("CAFE-1", 2)]))
    second = order_ingest(channel=channel, order_in=order_in("7017", lines=[line_in("CAFE-1", 2)]))

    with django_capture_on_commit_callbacks(execute=True):
        stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=3)

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == "new" and first.lines.get().stock_status == "reserved"
    assert second.status == "on_hold" and second.lines.get().stock_status == "backordered"
    assert level(product) == (3, 2)


def test_cancel_closes_holds_and_backorders_are_not_retried(channel, stock, warehouse):
    product = stock("CAFE-1", 0)
    order = order_ingest(channel=channel, order_in=order_in("7018", lines=[line_in("CAFE-1", 2)]))

    order_cancel(order_id=order.pk, reason="cliente desistiu")

    assert order.holds.filter(cleared_at__isnull=True).count() == 0
    assert order_backorders_retry(product_id=product.pk) == 0
    assert order.lines.get().stock_status == "released"


def test_clearing_unknown_sku_maps_lines_now_in_the_catalogue_and_reserves_them(channel, stock):
    staff = make_staff()
    order = order_ingest(
        channel=channel, order_in=order_in("7019", lines=[line_in("NOVO-1", 2), line_in("SERVICO")])
    )
    product = stock("NOVO-1", 5)  # the product is registered after the order arrived

    order_hold_clear(hold_id=order.holds.get().pk, actor=staff)

    order.refresh_from_db()
    lines = dict(order.lines.values_list("sku", "stock_status"))
    assert lines == {"NOVO-1": "reserved", "SERVICO": "unknown_sku"}
    assert order.lines.get(sku="NOVO-1").product == product
    assert level(product) == (5, 2)
    assert order.status == "new"


def test_clearing_unknown_sku_with_no_stock_leaves_a_shortage_hold(channel, stock):
    staff = make_staff()
    order = order_ingest(channel=channel, order_in=order_in("7020", lines=[line_in("NOVO-2", 2)]))
    stock("NOVO-2", 1)

    order_hold_clear(hold_id=order.holds.get().pk, actor=staff)

    order.refresh_from_db()
    assert order.status == "on_hold"
    assert _reasons(order) == ["stock_shortage"]
    assert order.lines.get().stock_status == "backordered"
