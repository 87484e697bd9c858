"""Factories for orders' own models, and ``order_in`` to build a normalized OrderIn."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, cast

import factory
from django.contrib.auth.models import User
from django.utils import timezone

from inventory.models import Product, Warehouse
from orders.adapters.base import AddressIn, CustomerIn, LineIn, OrderIn
from orders.models import Channel, PriceList, PriceListItem, Promotion
from tests.factories.core import (
    ChannelFactory,
    ProductFactory,
    StaffUserFactory,
    WarehouseFactory,
)

VALID_CPF = "529.982.247-25"

ADDRESS = AddressIn(
    name="Maria da Silva",
    postal_code="01310-100",
    street="Avenida Paulista",
    number="1000",
    complement="apto 12",
    district="Bela Vista",
    city="São Paulo",
    state="SP",
)


class PriceListFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceList

    name = factory.Sequence(lambda n: f"Tabela {n}")
    tolerance_percent = Decimal("5.00")


class PriceListItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceListItem

    price_list = factory.SubFactory(PriceListFactory)
    product = factory.SubFactory(ProductFactory)
    price = Decimal("49.90")


class PromotionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Promotion

    name = factory.Sequence(lambda n: f"Promoção {n}")
    kind = Promotion.Kind.PERCENT
    value = Decimal("20.00")
    valid_from = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    valid_until = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))


def line_in(sku: str, quantity: int = 1, unit_price: str = "49.90", **kw: Any) -> LineIn:
    return LineIn(
        sku=sku,
        name=kw.pop("name", f"Produto {sku}"),
        quantity=quantity,
        unit_price=Decimal(unit_price),
        **kw,
    )


def order_in(
    external_id: str = "1001",
    *,
    lines: list[LineIn] | tuple[LineIn, ...] = (),
    skus: list[str] | None = None,
    customer: CustomerIn | None = None,
    address: AddressIn = ADDRESS,
    placed_at: datetime | None = None,
    **kw: Any,
) -> OrderIn:
    """An OrderIn as an adapter would produce it; ``skus`` is a shortcut for 1 × each."""
    if skus is not None:
        lines = [line_in(sku) for sku in skus]
    return OrderIn(
        external_id=external_id,
        number=kw.pop("number", external_id),
        placed_at=placed_at or timezone.now() - timedelta(minutes=5),
        currency=kw.pop("currency", "BRL"),
        customer=customer
        or CustomerIn(
            name="Maria da Silva",
            email="maria@example.com",
            phone="11 99999-0000",
            document=VALID_CPF,
        ),
        lines=tuple(lines),
        shipping_address=address,
        **kw,
    )


# Typed shortcuts: factory_boy's calls are typed as the factory, not the model.
def make_channel(**kw: Any) -> Channel:
    return cast(Channel, ChannelFactory(**kw))


def make_product(**kw: Any) -> Product:
    return cast(Product, ProductFactory(**kw))


def make_warehouse(**kw: Any) -> Warehouse:
    return cast(Warehouse, WarehouseFactory(**kw))


def make_staff(**kw: Any) -> User:
    return cast(User, StaffUserFactory(**kw))
