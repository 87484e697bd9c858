"""backoffice.sql: the hot path's hand-written statements must store and load exactly what
the ORM stores and loads (same preparation, same converters, same signals)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from unittest import mock

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import Model
from django.test.utils import CaptureQueriesContext
from django.utils.translation import gettext_lazy
from hypothesis import given, settings
from hypothesis import strategies as st

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


# --- _values: the pass-through must give what the ORM's preparation gives ---------------

_PROJECT_APPS = ("backoffice", "inventory", "crm", "orders", "logistics", "finance")
_MODELS = [
    m
    for m in apps.get_models()
    if m._meta.app_label in _PROJECT_APPS and not m._meta.proxy and not m._meta.auto_created
]
_ODD_VALUES = st.one_of(
    st.none(),
    st.text(max_size=20),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.booleans(),
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
    st.sampled_from([OrderEvent.Kind.NOTE, WebhookDelivery.Status.FAILED, gettext_lazy("Pedido")]),
)


def _prepared_by_the_orm(obj: Model, connection: Any) -> list[Any]:
    obj._prepare_related_fields_for_save(operation_name="insert")  # type: ignore[attr-defined]
    return [
        f.get_db_prep_save(f.pre_save(obj, add=True), connection)
        for f in sql._insert_fields(type(obj))
    ]


def _outcome(prepare, obj, connection):
    try:
        # psycopg's JSON wrappers (Jsonb) do not compare equal: compare what they wrap
        return [(type(v), getattr(v, "obj", v)) for v in prepare(obj, connection)]
    except (TypeError, ValueError, ValidationError, InvalidOperation) as exc:
        return type(exc)


@pytest.mark.parametrize("model", _MODELS, ids=lambda m: m.__name__)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_values_pass_through_gives_what_the_orms_preparation_gives(model, data):
    """For every project model, values of every type (the pass-through's str/int/bool/None
    and others it must leave to the ORM: decimals, enums, lazy text) set on the fields
    the pass-through knows; each parameter must equal the ORM's, of the same type."""
    plan = sql._save_plan(model)
    values = {
        attname: data.draw(_ODD_VALUES, label=attname) for _, attname, types, _, _ in plan if types
    }
    frozen = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)  # auto_now fields, both sides
    with mock.patch("django.utils.timezone.now", return_value=frozen):
        expected = _outcome(_prepared_by_the_orm, model(**values), connection)
        got = _outcome(sql._values, model(**values), connection)
    assert got == expected


def test_values_pass_through_covers_the_hot_path_models_fields():
    # the fast path must actually apply where it was written for (a Django upgrade that
    # renamed a field class would silently turn it off)
    plain = {attname for _, attname, types, _, _ in sql._save_plan(Order) if types}
    assert {"channel_id", "external_id", "email", "status", "installments", "customer_id"} <= plain
    assert "total" not in plain and "placed_at" not in plain  # decimals, dates: the ORM


# --- statement_cursor: one driver cursor per connection, Django's wrapping kept ----------


def test_statement_cursor_reuses_one_driver_cursor_per_connection():
    first = sql.statement_cursor(connection)
    first.execute("SELECT 1")
    second = sql.statement_cursor(connection)

    assert second.cursor is first.cursor
    second.execute("SELECT 2")
    assert second.fetchone() == (2,)


@pytest.mark.postgres  # SQLite's test database lives in memory: Django never closes it
@pytest.mark.django_db(transaction=True)
def test_statement_cursor_follows_a_reconnection():
    before = sql.statement_cursor(connection).cursor
    connection.close()

    after = sql.statement_cursor(connection)
    after.execute("SELECT 3")

    assert after.cursor is not before
    assert after.fetchone() == (3,)


def test_statement_cursor_is_logged_wrapped_and_translates_errors():
    seen = []

    def wrapper(execute, sql_text, params, many, context):
        seen.append(sql_text)
        return execute(sql_text, params, many, context)

    channel = ChannelFactory.create()
    with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(wrapper):
        sql.statement_cursor(connection).execute("SELECT %s", [7])
    assert seen == ["SELECT %s"]
    assert [q["sql"] for q in captured.captured_queries] == ["SELECT 7"]

    with pytest.raises(IntegrityError), transaction.atomic():
        for _ in range(2):
            sql.statement_cursor(connection).execute(
                f"INSERT INTO {WebhookDelivery._meta.db_table} (channel_id, delivery_id, topic,"  # noqa: S608
                " headers, body, status, errors, attempts, received_at)"
                " VALUES (%s, 'dup', 't', '{}', %s, 'received', '[]', 1, %s)",
                [channel.pk, b"x", datetime(2026, 12, 7, tzinfo=UTC)],
            )


@pytest.mark.django_db(transaction=True)
def test_statement_cursor_is_per_thread_even_through_the_connection_proxy():
    mine = sql.statement_cursor(connection).cursor
    theirs = []

    def other_thread():
        theirs.append(sql.statement_cursor(connection).cursor)
        connections.close_all()

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()

    assert theirs and theirs[0] is not mine
    assert sql.statement_cursor(connection).cursor is mine
    assert not hasattr(type(connection), "_hot_path_cursor")
    assert "_hot_path_cursor" not in vars(connection)  # the proxy itself keeps nothing
