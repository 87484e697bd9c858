"""Factories for crm's after-sales models (rows for test setup; behaviour goes through
services)."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from crm.models import Notification, Ticket
from tests.factories.core import CustomerFactory


def order_context(**overrides):
    """A notification context as orders.selectors.order_notification_context builds it."""
    context = {
        "order_number": "1001",
        "order_id": 1,
        "store_name": "Loja Teste",
        "customer_name": "Maria Silva",
        "total": "99.80",
        "currency": "BRL",
        "lines": [
            {
                "sku": "CAFE-500",
                "name": "Café 500 g",
                "quantity": 2,
                "unit_price": "49.90",
                "consumption_days": 30,
            }
        ],
        "tracking_code": "BR123456789BR",
        "tracking_url": "https://rastreio.example.com/BR123456789BR",
        "carrier": "Correios",
    }
    context.update(overrides)
    return context


class NotificationFactory(factory.django.DjangoModelFactory[Notification]):
    class Meta:
        model = Notification

    kind = Notification.Kind.ORDER_RECEIVED
    customer = factory.SubFactory(CustomerFactory)
    to_email = factory.LazyAttribute(lambda o: o.customer.email if o.customer else "x@example.com")
    language = "pt-br"
    order_id = factory.Sequence(lambda n: 10_000 + n)
    dedupe_key = factory.LazyAttribute(lambda o: f"order:{o.order_id}:{o.kind}")
    context = factory.LazyFunction(order_context)


class TicketFactory(factory.django.DjangoModelFactory[Ticket]):
    class Meta:
        model = Ticket

    customer = factory.SubFactory(CustomerFactory)
    subject = factory.Sequence(lambda n: f"Problema {n}")
    priority = Ticket.Priority.NORMAL
    sla_due_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=24))


def queued(**kwargs) -> Notification:
    """notification_queue for tests that expect a new row (not a dedupe hit)."""
    from crm.services import notification_queue

    notification = notification_queue(**kwargs)
    assert notification is not None
    return notification


def order_notification(customer, n: int, **overrides) -> Notification:
    """A new order_received e-mail of order ``n`` to ``customer`` (``queued``), with its
    own dedupe key; ``overrides`` replace any argument of ``notification_queue``."""
    fields = dict(
        kind="order_received",
        to_email=customer.email,
        language="pt-br",
        dedupe_key=f"order:{n}:order_received",
        context=order_context(order_number=str(1000 + n)),
        customer_id=customer.pk,
        order_id=n,
    )
    fields.update(overrides)
    return queued(**fields)
