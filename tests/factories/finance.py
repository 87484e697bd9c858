"""Factories for finance models (test setup only; behaviour goes through services)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import factory
from django.utils import timezone

from finance.models import CampaignCost, CashAccount, MonthlyGoal, Payable, StoreMetrics
from orders.status import Payment
from tests.factories.core import OrderFactory


class CashAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CashAccount
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Conta {n}")
    kind = CashAccount.Kind.BANK


class PaidOrderFactory(OrderFactory):
    """An order whose payment is confirmed (rows set directly, no events)."""

    payment_status = Payment.PAID
    payment_method = "pix"
    paid_at = factory.LazyFunction(timezone.now)


class PayableFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payable

    description = factory.Sequence(lambda n: f"Boleto fornecedor {n}")
    amount = Decimal("100.00")
    due_date = factory.LazyFunction(timezone.localdate)


class MonthlyGoalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MonthlyGoal
        django_get_or_create = ("month",)

    month = factory.LazyFunction(lambda: timezone.localdate().replace(day=1))
    revenue_goal = Decimal("10000.00")


class CampaignCostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CampaignCost

    campaign = "black-friday"
    date = factory.LazyFunction(timezone.localdate)
    amount = Decimal("50.00")


class StoreMetricsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StoreMetrics
        django_get_or_create = ("month",)

    month = factory.LazyFunction(lambda: date.today().replace(day=1))  # noqa: DTZ011
    sessions = 1000
    carts = 100
    orders = 20
