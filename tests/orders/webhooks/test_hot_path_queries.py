"""The view's own work stays at a fixed, small number of statements (issue 7 benchmark:
intake must approach the raw database limit). Savepoints exist only because tests run
inside a transaction, so they are not counted."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.models import Order, WebhookDelivery
from tests.orders.webhooks.conftest import dumps, generic_order, post_webhook

pytestmark = pytest.mark.django_db


def _statements(context: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"].split()[0].upper()
        for q in context.captured_queries
        if "SAVEPOINT" not in q["sql"].upper()
    ]


def test_an_ignored_delivery_costs_a_select_an_insert_and_an_update(client, make_channel):
    channel = make_channel("generic")
    with CaptureQueriesContext(connection) as ctx:
        response = post_webhook(client, channel, b"{}", topic="ping", delivery_id="q-1")
    assert response.json()["status"] == "ignored"
    assert _statements(ctx) == ["SELECT", "INSERT", "UPDATE"]


def test_a_duplicate_costs_a_select_an_insert_and_one_lookup(client, make_channel):
    channel = make_channel("generic")
    post_webhook(client, channel, b"{}", topic="ping", delivery_id="q-2")
    with CaptureQueriesContext(connection) as ctx:
        response = post_webhook(client, channel, b"{}", topic="ping", delivery_id="q-2")
    assert response.json()["status"] == "duplicate"
    assert _statements(ctx) == ["SELECT", "INSERT", "SELECT"]


def test_a_bad_signature_costs_a_select_and_the_audit_insert(client, make_channel):
    channel = make_channel("generic")
    with CaptureQueriesContext(connection) as ctx:
        response = post_webhook(client, channel, b"{}", topic="ping", secret="wrong")
    assert response.status_code == 401
    assert _statements(ctx) == ["SELECT", "INSERT"]


def test_a_new_order_with_three_lines_costs_a_fixed_list_of_statements(
    client, make_channel, in_stock
):
    # given a new customer's pending order of 3 SKUs in stock
    channel = make_channel("generic")
    for sku in ("Q-A", "Q-B", "Q-C"):
        in_stock(sku, 10)
    lines = [
        {"sku": sku, "name": sku, "quantity": 1, "unit_price": "10.00", "external_id": sku}
        for sku in ("Q-A", "Q-B", "Q-C")
    ]
    body = dumps(
        generic_order(
            "G-Q3", lines=lines, subtotal=None, total=None, payment_status="pending", paid_at=None
        )
    )
    # when it arrives
    with CaptureQueriesContext(connection) as ctx:
        response = post_webhook(client, channel, body, topic="order.created", delivery_id="q-3")
    # then one list of statements, none of them per line, and the delivery is processed
    # in the order's transaction
    assert response.json()["status"] == "processed"
    assert _statements(ctx) == [
        "SELECT",  # channel
        "INSERT",  # raw delivery (committed on its own)
        "SELECT",  # order by (channel, external id), FOR UPDATE
        # PostgreSQL: the per-person advisory lock, then one lookup by document or
        # e-mail; elsewhere: by document, then by e-mail
        "SELECT",
        "SELECT",
        "INSERT",  # customer (on PostgreSQL without a savepoint around it)
        "INSERT",  # customer history
        "SELECT",  # products by SKU
        "INSERT",  # order, ON CONFLICT (channel, external id) DO NOTHING
        "INSERT",  # its lines
        "SELECT",  # stock levels, FOR UPDATE in product order
        # one conditional UPDATE of the levels for every line, the reservations and
        # their ledger rows: one statement on PostgreSQL
        *(["WITH"] if connection.vendor == "postgresql" else ["UPDATE", "INSERT", "INSERT"]),
        "INSERT",  # outbox row (order_received), ON CONFLICT (dedupe key) DO NOTHING
        "INSERT",  # order events
        "UPDATE",  # delivery processed
    ]
    order = Order.objects.get(external_id="G-Q3")
    if connection.vendor == "postgresql":
        savepoints = [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" in q["sql"].upper()]
        # one pair, in tests only: the order transaction's, which becomes a savepoint
        # inside the test's own transaction; none for the raw delivery, the customer,
        # the order (ON CONFLICT DO NOTHING) or the outbox row
        assert len(savepoints) == 2
    assert order.lines.filter(stock_status="reserved").count() == 3
    assert WebhookDelivery.objects.get(delivery_id="q-3").order_id == order.pk
