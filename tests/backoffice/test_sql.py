"""backoffice.sql: the hot path's hand-written statements must store and load exactly what
the ORM stores and loads (same preparation, same converters, same signals)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backoffice import sql
from crm.models import Customer
from orders.models import Order, OrderEvent, WebhookDelivery
from tests.factories.core import ChannelFactory, CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db


def _delivery(channel, delivery_id="d-1", **kwargs):
    return WebhookDelivery(
        channel=channel,
        delivery_id=delivery_id,
        topic="order.created",
        headers={"x-retaguarda-event": "order.created", "ç": "ã"},
        body=b'{"id": 1}\x00\xff',
        **kwargs,
    )


def test_insert_prepares_values_as_save_does_and_the_orm_reads_them_back():
    channel = ChannelFactory.create()
    delivery = _delivery(channel)

    assert sql.insert(delivery) is True

    assert delivery.pk is not None
    assert delivery._state.adding is False
    assert delivery.received_at is not None  # auto_now_add ran
    stored = WebhookDelivery.objects.get(pk=delivery.pk)
    assert stored.headers == {"x-retaguarda-event": "order.created", "ç": "ã"}
    assert bytes(stored.body) == b'{"id": 1}\x00\xff'
    assert stored.errors == []  # the field's default
    assert stored.received_at == delivery.received_at


def test_insert_on_conflict_inserts_nothing_and_keeps_the_transaction_usable():
    channel = ChannelFactory.create()
    assert sql.insert(_delivery(channel), on_conflict_nothing=("channel", "delivery_id"))
    again = _delivery(channel)

    assert sql.insert(again, on_conflict_nothing=("channel", "delivery_id")) is False

    assert again.pk is None
    assert again._state.adding is True
    # no error was raised inside this transaction: it still runs statements
    assert WebhookDelivery.objects.filter(channel=channel).count() == 1


def test_insert_runs_the_models_save_receivers():
    # simple-history records a new customer through post_save: the row must be there
    customer = Customer(name="Ana", email="ana@example.com", document="52998224725")

    sql.insert(customer)

    history = list(customer.history.all())
    assert [h.history_type for h in history] == ["+"]
    assert history[0].email == "ana@example.com"


def test_insert_many_sets_primary_keys_in_order():
    order = OrderFactory.create()
    events = [
        OrderEvent(order=order, kind=OrderEvent.Kind.NOTE, message=f"n{i}", data={"i": i})
        for i in range(3)
    ]

    with CaptureQueriesContext(connection) as ctx:
        sql.insert_many(events)

    assert len(ctx.captured_queries) == 1
    assert [OrderEvent.objects.get(pk=e.pk).data for e in events] == [{"i": i} for i in range(3)]
    assert [e.pk for e in events] == sorted(e.pk for e in events)


def test_insert_many_splits_a_list_too_big_for_one_statement(monkeypatch):
    order = OrderFactory.create()
    monkeypatch.setattr(sql, "_MAX_PARAMS", 25)  # OrderEvent has 10 columns: 2 rows a chunk
    events = [OrderEvent(order=order, kind=OrderEvent.Kind.NOTE, message=f"n{i}") for i in range(5)]

    with CaptureQueriesContext(connection) as ctx:
        sql.insert_many(events)

    assert len([q for q in ctx.captured_queries if q["sql"].startswith("INSERT")]) == 3
    assert [OrderEvent.objects.get(pk=e.pk).message for e in events] == [f"n{i}" for i in range(5)]


def test_insert_many_refuses_a_model_with_save_receivers():
    with pytest.raises(TypeError, match="post_save"):
        sql.insert_many([Customer(name="B")])


def test_select_loads_instances_equal_to_the_orms():
    customer = CustomerFactory.create()
    order = OrderFactory.create(
        customer=customer,
        total=Decimal("123.45"),
        placed_at=datetime(2026, 11, 20, 13, 30, tzinfo=UTC),
    )

    found = sql.select_one(Order, "id = %s", [order.pk])

    expected = Order.objects.get(pk=order.pk)
    assert found is not None
    for field in Order._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(expected, field.attname), field.name
    assert found.total == Decimal("123.45")
    assert found.placed_at.tzinfo is not None
    assert found._state.adding is False


def test_select_takes_named_parameters_and_order_by():
    CustomerFactory.create(email="a@example.com", name="first")
    CustomerFactory.create(email="a@example.com", name="second")

    found = sql.select(Customer, "email = %(email)s ORDER BY id DESC", {"email": "a@example.com"})

    assert [c.name for c in found] == ["second", "first"]
    assert sql.select_one(Customer, "email = %s", ["nobody@example.com"]) is None


def test_select_lock_adds_for_update_where_the_database_has_it():
    order = OrderFactory.create()

    with CaptureQueriesContext(connection) as ctx:
        sql.select_one(Order, "id = %s", [order.pk], lock=True)

    locked = ctx.captured_queries[-1]["sql"].endswith("FOR UPDATE")
    assert locked is connection.features.has_select_for_update


def test_update_prepares_values_and_counts_rows():
    channel = ChannelFactory.create()
    delivery = _delivery(channel)
    sql.insert(delivery)
    order = OrderFactory.create(channel=channel)
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)

    n = sql.update(
        WebhookDelivery,
        delivery.pk,
        status="processed",
        order_id=order.pk,
        errors=[{"field": None, "message": "ok"}],
        processed_at=now,
    )

    assert n == 1
    stored = WebhookDelivery.objects.get(pk=delivery.pk)
    assert (stored.status, stored.order_id, stored.processed_at) == ("processed", order.pk, now)
    assert stored.errors == [{"field": None, "message": "ok"}]
    assert sql.update(WebhookDelivery, delivery.pk + 1000, status="failed") == 0
