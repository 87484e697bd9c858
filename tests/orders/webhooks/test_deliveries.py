"""Steps 2-3: store first, dedupe, fail visibly, reprocess on resend or replay."""

from __future__ import annotations

import json
from typing import Any

import pytest

from backoffice.errors import ApplicationError
from inventory.models import Reservation
from orders.models import Order, WebhookDelivery
from orders.webhooks import delivery_failed_count, delivery_process, delivery_replay
from tests.factories import StaffUserFactory
from tests.orders.webhooks.conftest import (
    dumps,
    fixture_bytes,
    fixture_json,
    generic_order,
    post_webhook,
)

pytestmark = pytest.mark.django_db


def test_malformed_body_gets_400_listing_every_problem_and_is_kept_failed(client, make_channel):
    channel = make_channel("generic")
    body = dumps(
        generic_order(
            id="", placed_at="ontem", lines=[{"sku": "X", "quantity": -1, "unit_price": "1,00"}]
        )
    )
    response = post_webhook(client, channel, body, topic="order.created", delivery_id="bad-1")
    assert response.status_code == 400
    answer = response.json()
    fields = {e["field"] for e in answer["errors"]}
    assert {"id", "placed_at", "lines[0].quantity", "lines[0].unit_price"} <= fields
    assert answer["detail"] and answer["delivery_id"]
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and delivery.pk == answer["delivery_id"]
    assert {e["field"] for e in delivery.errors} == fields
    assert bytes(delivery.body) == body  # nothing the platform sent is lost
    assert not Order.objects.exists()
    assert delivery_failed_count() == 1


def test_body_that_is_not_json_gets_400(client, make_channel):
    channel = make_channel("shopify")
    response = post_webhook(client, channel, b"<xml/>", topic="orders/create")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "body"
    assert WebhookDelivery.objects.get().status == "failed"


def test_replaying_a_malformed_delivery_fails_again_with_the_same_errors(make_channel, client):
    channel = make_channel("generic")
    post_webhook(client, channel, dumps(generic_order(lines=[])), topic="order.created")
    delivery = WebhookDelivery.objects.get()
    with pytest.raises(ApplicationError) as exc:
        delivery_replay(delivery_id=delivery.pk, actor=StaffUserFactory())
    assert exc.value.errors == [{"field": "lines", "message": "must have at least one line"}]
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.attempts == 2


def test_replay_after_fixing_the_channel_processes_the_delivery(
    client, make_channel, in_stock, nuvemshop_recordings
):
    # given a Nuvemshop channel nobody gave the API token yet
    channel = make_channel("nuvemshop", store_external_id="123456", api_token="")
    in_stock("101", 5)
    notice = fixture_json("nuvemshop_order_created.json")["body"]
    nuvemshop_recordings(notice["id"], fixture_bytes("nuvemshop_order_get.json"))
    response = post_webhook(client, channel, json.dumps(notice).encode())
    # then the notice is kept, failed, with the reason, and the platform is told to retry
    assert response.status_code == 500
    delivery = WebhookDelivery.objects.get(pk=response.json()["delivery_id"])
    assert delivery.status == "failed"
    assert "API token" in delivery.errors[0]["message"]
    assert not Order.objects.exists()
    # when staff fix the channel and replay
    channel.api_token = "tok-now-set"
    channel.save()
    order = delivery_replay(delivery_id=delivery.pk, actor=StaffUserFactory())
    # then the order is there, once
    assert order is not None and order.number == "101"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.order_id, delivery.errors) == ("processed", order.pk, [])
    assert Reservation.objects.filter(order_id=order.pk).count() == 1
    with pytest.raises(ApplicationError, match="already"):
        delivery_replay(delivery_id=delivery.pk, actor=None)
    assert Order.objects.count() == 1


def test_same_delivery_five_times_gives_one_order_and_one_delivery(client, make_channel, in_stock):
    channel = make_channel("generic")
    in_stock("CAFE-500G", 10)
    body = dumps(generic_order())
    answers = [
        post_webhook(client, channel, body, topic="order.created", delivery_id="same-1").json()
        for _ in range(5)
    ]
    assert answers[0]["status"] == "processed"
    order_id = answers[0]["order_id"]
    assert [a["status"] for a in answers[1:]] == ["duplicate"] * 4
    assert all(a["order_id"] == order_id for a in answers[1:])
    assert WebhookDelivery.objects.get().attempts == 1
    assert Order.objects.count() == 1
    assert Reservation.objects.filter(order_id=order_id).count() == 1


def test_a_failed_delivery_resent_by_the_platform_is_reprocessed(
    client, make_channel, in_stock, monkeypatch
):
    channel = make_channel("generic")
    in_stock("CAFE-500G", 10)
    body = dumps(generic_order())

    import orders.services

    real_ingest = orders.services.order_ingest

    def broken(**kwargs):
        raise RuntimeError("database hiccup")

    # given processing blows up the first time
    monkeypatch.setattr(orders.services, "order_ingest", broken)
    first = post_webhook(client, channel, body, topic="order.created", delivery_id="retry-1")
    assert first.status_code == 500
    assert first.json()["delivery_id"] == WebhookDelivery.objects.get().pk
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed"
    assert delivery.errors == [{"field": None, "message": "RuntimeError: database hiccup"}]
    assert not Order.objects.exists()

    # when the platform resends it after the cause is gone
    monkeypatch.setattr(orders.services, "order_ingest", real_ingest)
    second = post_webhook(client, channel, body, topic="order.created", delivery_id="retry-1")
    # then it is processed, not answered "duplicate"
    assert second.status_code == 200 and second.json()["status"] == "processed"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.errors) == ("processed", 2, [])
    third = post_webhook(client, channel, body, topic="order.created", delivery_id="retry-1")
    assert third.json()["status"] == "duplicate"
    assert Order.objects.count() == 1 and WebhookDelivery.objects.count() == 1
    assert delivery_failed_count() == 0


def test_created_paid_cancelled_converge_on_one_order(client, make_channel, in_stock):
    channel = make_channel("generic")
    in_stock("CAFE-500G", 10)
    arrivals: list[tuple[str, dict[str, Any]]] = [
        ("order.cancelled", {"payment_status": "paid", "cancelled": True}),
        ("order.created", {"payment_status": "pending"}),
        ("order.paid", {"payment_status": "paid"}),
    ]
    for i, (topic, extra) in enumerate(arrivals):
        response = post_webhook(
            client, channel, dumps(generic_order(**extra)), topic=topic, delivery_id=f"d-{i}"
        )
        assert response.status_code == 200, response.content
    order = Order.objects.get()
    assert (order.status, order.payment_status) == ("cancelled", "paid")
    assert WebhookDelivery.objects.filter(status="processed").count() == 3


def test_topics_needing_no_action_are_stored_as_ignored(client, make_channel):
    channel = make_channel("generic")
    response = post_webhook(client, channel, b"{}", topic="ping", delivery_id="p-1")
    assert response.json()["status"] == "ignored"
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "ignored" and delivery.processed_at is not None
    assert not Order.objects.exists()


def test_delivery_process_runs_a_failed_delivery_and_skips_a_processed_one(
    client, make_channel, in_stock
):
    channel = make_channel("generic")
    # given an order for a SKU that is fine, failed for a reason outside the body
    body = dumps(generic_order())
    WebhookDelivery.objects.create(
        channel=channel,
        delivery_id="x-1",
        topic="order.created",
        body=body,
        status="failed",
        attempts=1,
    )
    delivery = WebhookDelivery.objects.get()
    order = delivery_process(delivery_id=delivery.pk)
    assert order is not None and order.external_id == "G-1001"
    assert delivery_process(delivery_id=delivery.pk) == order  # processed: no second run
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.status == "processed"


def test_a_delivery_abandoned_mid_processing_is_taken_over_only_when_stale(client, make_channel):
    from datetime import timedelta

    from django.utils import timezone

    channel = make_channel("generic")
    body = dumps(generic_order())
    # given a delivery stored but never finished (the process died)
    WebhookDelivery.objects.create(
        channel=channel, delivery_id="stuck-1", topic="order.created", body=body, attempts=1
    )
    # while recent, a resend is a duplicate (someone may still be processing it)
    recent = post_webhook(client, channel, body, topic="order.created", delivery_id="stuck-1")
    assert recent.json()["status"] == "duplicate" and not Order.objects.exists()
    # once stale, the resend takes it over
    WebhookDelivery.objects.update(received_at=timezone.now() - timedelta(minutes=10))
    stale = post_webhook(client, channel, body, topic="order.created", delivery_id="stuck-1")
    assert stale.json()["status"] == "processed"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("processed", 2)


def test_dashboard_counts_failed_deliveries(admin_client, client, make_channel):
    channel = make_channel("generic")
    post_webhook(client, channel, dumps(generic_order(lines=[])), topic="order.created")
    from backoffice.dashboard import _webhook_kpis

    (kpi,) = _webhook_kpis()
    assert kpi["value"] == 1 and kpi["url"].endswith("?status__exact=failed")
