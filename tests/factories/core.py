"""Factories for the core models every app's tests stand on.

These create rows directly (test setup); behaviour under test goes through services.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone
from faker import Faker

from crm.models import Customer
from inventory.models import Product, StockLevel, Warehouse
from orders.models import Channel, Order, OrderLine

fake = Faker("pt_BR")


class StaffUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", "s3nha-forte-123")


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Warehouse
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"wh{n}")
    name = factory.LazyAttribute(lambda o: f"Depósito {o.code}")
    priority = factory.Sequence(lambda n: 10 + n)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ("sku",)

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.LazyFunction(lambda: fake.catch_phrase()[:60])
    cost = Decimal("20.00")
    price = Decimal("49.90")
    weight_grams = 300


class StockLevelFactory(factory.django.DjangoModelFactory):
    """Sets levels directly; tests of the ledger should use inventory services instead."""

    class Meta:
        model = StockLevel

    product = factory.SubFactory(ProductFactory)
    warehouse = factory.SubFactory(WarehouseFactory)
    on_hand = 10
    reserved = 0


class ChannelFactory(factory.django.DjangoModelFactory[Channel]):
    class Meta:
        model = Channel
        django_get_or_create = ("slug",)

    name = factory.LazyAttribute(lambda o: f"Loja {o.slug}")
    slug = factory.Sequence(lambda n: f"loja-{n}")
    platform = Channel.Platform.GENERIC
    webhook_secret = "test-secret-not-for-production"


class CustomerFactory(factory.django.DjangoModelFactory[Customer]):
    class Meta:
        model = Customer

    name = factory.LazyFunction(fake.name)
    email = factory.Sequence(lambda n: f"cliente{n}@example.com")
    document = factory.LazyFunction(lambda: fake.cpf().replace(".", "").replace("-", ""))
    document_kind = Customer.DocumentKind.CPF
    document_valid = True
    postal_code = "01310-100"
    street = "Avenida Paulista"
    street_number = "1000"
    district = "Bela Vista"
    city = "São Paulo"
    state = "SP"


class OrderFactory(factory.django.DjangoModelFactory[Order]):
    class Meta:
        model = Order

    channel = factory.SubFactory(ChannelFactory)
    external_id = factory.Sequence(lambda n: f"ext-{n}")
    number = factory.Sequence(lambda n: f"{1000 + n}")
    customer = factory.SubFactory(CustomerFactory)
    email = factory.LazyAttribute(lambda o: o.customer.email if o.customer else "")
    total = Decimal("99.80")
    subtotal = Decimal("99.80")
    placed_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    ship_name = factory.LazyAttribute(lambda o: o.customer.name if o.customer else "")
    ship_postal_code = "01310-100"
    ship_street = "Avenida Paulista"
    ship_number = "1000"
    ship_district = "Bela Vista"
    ship_city = "São Paulo"
    ship_state = "SP"


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    product = factory.SubFactory(ProductFactory)
    sku = factory.LazyAttribute(lambda o: o.product.sku if o.product else "UNKNOWN")
    name = factory.LazyAttribute(lambda o: o.product.name if o.product else "?")
    quantity = 1
    unit_price = Decimal("49.90")
    total = factory.LazyAttribute(lambda o: o.unit_price * o.quantity - o.discount)
    unit_cost = factory.LazyAttribute(lambda o: o.product.cost if o.product else Decimal("0"))
