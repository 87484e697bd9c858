"""Factories for logistics' reference data, and a helper that builds an order ready to
ship (confirmed, paid, stock reserved through inventory.services)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import cast

import factory
from django.utils import timezone

from inventory.models import Product, Warehouse
from logistics.models import Carrier, ShippingMethod, TransitTime
from orders.models import Order, OrderLine
from tests.factories.core import (
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    StockLevelFactory,
    WarehouseFactory,
)


class CarrierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Carrier
        django_get_or_create = ("slug",)

    name = factory.LazyAttribute(lambda o: o.slug.title())
    slug = factory.Sequence(lambda n: f"carrier-{n}")
    kind = Carrier.Kind.PRIVATE
    webhook_secret = "carrier-test-secret"
    tracking_url_template = "https://rastreio.example/{code}"


class ShippingMethodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShippingMethod
        django_get_or_create = ("carrier", "code")

    carrier = factory.SubFactory(CarrierFactory)
    code = factory.Sequence(lambda n: f"svc{n}")
    name = factory.LazyAttribute(lambda o: o.code.upper())
    handling_days = 1
    default_transit_days = 10


class TransitTimeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TransitTime

    method = factory.SubFactory(ShippingMethodFactory)
    cep_from = "00000000"
    cep_to = "99999999"
    business_days = 5


def correios_sedex() -> ShippingMethod:
    carrier = CarrierFactory(slug="correios", name="Correios", kind=Carrier.Kind.CORREIOS)
    return cast(
        ShippingMethod,
        ShippingMethodFactory(carrier=carrier, code="sedex", name="SEDEX", handling_days=1),
    )


@dataclass
class ReadyOrder:
    order: Order
    lines: list[OrderLine]
    products: list[Product]
    warehouse: Warehouse


def ready_order(
    *,
    quantities: tuple[int, ...] = (2, 1),
    on_hand: int = 10,
    warehouse: Warehouse | None = None,
    shipping_method: str = "sedex",
    **order_kwargs,
) -> ReadyOrder:
    """A confirmed, paid order whose lines are reserved by inventory.services."""
    from inventory.services import LineRequest, stock_reserve_lines

    warehouse = warehouse or cast(Warehouse, WarehouseFactory())
    order = cast(
        Order,
        OrderFactory(
            status="confirmed",
            payment_status="paid",
            paid_at=timezone.now() - timedelta(minutes=30),
            shipping_method=shipping_method,
            **order_kwargs,
        ),
    )
    lines: list[OrderLine] = []
    products: list[Product] = []
    for qty in quantities:
        product = cast(Product, ProductFactory())
        StockLevelFactory(product=product, warehouse=warehouse, on_hand=on_hand)
        line = cast(
            OrderLine,
            OrderLineFactory(
                order=order,
                product=product,
                quantity=qty,
                discount=Decimal("0.00"),
                stock_status="reserved",
            ),
        )
        lines.append(line)
        products.append(product)
    order.total = sum((line.total for line in lines), start=order.shipping_total)
    order.subtotal = order.total
    order.save(update_fields=["total", "subtotal"])
    stock_reserve_lines(
        order_id=order.pk,
        lines=[
            LineRequest(line.pk, p.pk, line.quantity)
            for line, p in zip(lines, products, strict=True)
        ],
    )
    return ReadyOrder(order=order, lines=lines, products=products, warehouse=warehouse)
