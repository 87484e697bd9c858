"""The view's own work stays at a fixed, small number of statements (issue 7 benchmark:
intake must approach the raw database limit). Savepoints exist only because tests run
inside a transaction, so they are not counted."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.orders.webhooks.conftest import post_webhook

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
