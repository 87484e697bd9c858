"""Concurrent identical deliveries on real PostgreSQL: one delivery, one order, one
reservation, whatever the interleaving."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection
from django.test import Client

from inventory.models import Reservation, StockLevel
from orders.models import Order, WebhookDelivery
from tests.orders.webhooks.conftest import dumps, generic_order, post_webhook

N = 20


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_identical_deliveries_make_one_order(make_channel, in_stock):
    channel = make_channel("generic")
    product = in_stock("CAFE-500G", 10)
    body = dumps(generic_order())
    barrier = threading.Barrier(N)
    results: list[tuple[int, str]] = []
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            client = Client()
            barrier.wait(timeout=30)
            response = post_webhook(
                client, channel, body, topic="order.created", delivery_id="burst-1"
            )
            results.append((response.status_code, response.json().get("status", "")))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert not errors, errors
    assert len(results) == N
    counts = Counter(results)
    assert counts[(200, "processed")] == 1, counts
    assert counts[(200, "duplicate")] == N - 1, counts
    assert WebhookDelivery.objects.count() == 1
    order = Order.objects.get()
    assert Reservation.objects.filter(order_id=order.pk).count() == 1
    level = StockLevel.objects.get(product=product)
    assert (level.on_hand, level.reserved) == (10, 2)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_different_deliveries_of_the_same_order_converge(make_channel, in_stock):
    # created / paid / updated for one order, racing: different delivery ids, one order
    channel = make_channel("generic")
    product = in_stock("CAFE-500G", 10)
    topics = ["order.created", "order.paid", "order.updated"] * 3
    barrier = threading.Barrier(len(topics))
    statuses: list[int] = []

    def deliver(i: int, topic: str) -> None:
        try:
            client = Client()
            barrier.wait(timeout=30)
            extra = {"payment_status": "paid"} if topic != "order.created" else {}
            response = post_webhook(
                client, channel, dumps(generic_order(**extra)), topic=topic, delivery_id=f"race-{i}"
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(i, t)) for i, t in enumerate(topics)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert statuses == [200] * len(topics)
    order = Order.objects.get()
    assert order.payment_status == "paid"
    assert WebhookDelivery.objects.filter(status="processed").count() == len(topics)
    assert Reservation.objects.filter(order_id=order.pk).count() == 1
    assert StockLevel.objects.get(product=product).reserved == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_resends_of_a_failed_delivery_process_it_once(make_channel, in_stock):
    channel = make_channel("generic")
    in_stock("CAFE-500G", 10)
    body = dumps(generic_order())
    WebhookDelivery.objects.create(
        channel=channel,
        delivery_id="failed-1",
        topic="order.created",
        body=body,
        status="failed",
        attempts=1,
        errors=[{"field": None, "message": "RuntimeError: earlier"}],
    )
    n = 10
    barrier = threading.Barrier(n)
    results: list[str] = []

    def resend() -> None:
        try:
            client = Client()
            barrier.wait(timeout=30)
            response = post_webhook(
                client, channel, body, topic="order.created", delivery_id="failed-1"
            )
            results.append(response.json()["status"])
        finally:
            connection.close()

    threads = [threading.Thread(target=resend) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert Counter(results) == {"processed": 1, "duplicate": n - 1}
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("processed", 2)
    assert Order.objects.count() == 1
