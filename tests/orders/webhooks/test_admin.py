"""The deliveries admin: find failed ones, read what was sent, replay."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from orders.models import Order, WebhookDelivery, WebhookRejection
from tests.orders.webhooks.conftest import dumps, generic_order, post_webhook

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:orders_webhookdelivery_changelist"


def _deliveries(client, channel, n: int, **order_kw) -> None:
    for i in range(n):
        post_webhook(
            client,
            channel,
            dumps(generic_order(f"G-{i}", **order_kw)),
            topic="order.created",
            delivery_id=f"adm-{i}-{order_kw.get('currency', '')}",
        )


def test_changelist_query_count_does_not_grow_with_rows(
    admin_client, client, make_channel, django_assert_max_num_queries
):
    channel = make_channel("generic")
    _deliveries(client, channel, 2)
    with django_assert_max_num_queries(12) as few:
        assert admin_client.get(reverse(CHANGELIST)).status_code == 200
    baseline = len(few)
    _deliveries(client, channel, 6, currency="BRL")
    with django_assert_max_num_queries(baseline):
        response = admin_client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    assert b"adm-5-BRL" in response.content


def test_failed_deliveries_are_filterable_and_searchable(admin_client, client, make_channel):
    channel = make_channel("generic")
    post_webhook(
        client,
        channel,
        dumps(generic_order(lines=[])),
        topic="order.created",
        delivery_id="broken-77",
    )
    post_webhook(client, channel, b"{}", topic="ping", delivery_id="ping-1")
    failed = admin_client.get(reverse(CHANGELIST), {"status__exact": "failed"})
    assert b"broken-77" in failed.content and b"ping-1" not in failed.content
    found = admin_client.get(reverse(CHANGELIST), {"q": "broken-77"})
    assert b"broken-77" in found.content and b"ping-1" not in found.content
    pings = admin_client.get(reverse(CHANGELIST), {"topic__icontains": "ping"})
    assert b"ping-1" in pings.content and b"broken-77" not in pings.content


def test_detail_shows_pretty_body_and_errors(admin_client, client, make_channel):
    channel = make_channel("generic")
    post_webhook(client, channel, dumps(generic_order(lines=[])), topic="order.created")
    delivery = WebhookDelivery.objects.get()
    response = admin_client.get(reverse("admin:orders_webhookdelivery_change", args=[delivery.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "lines: must have at least one line" in html
    assert "&quot;placed_at&quot;: &quot;2026-11-20T14:03:00-03:00&quot;" in html  # indented JSON
    assert "x-retaguarda-event" in html
    assert reverse("admin:orders_webhookdelivery_replay_detail", args=[delivery.pk]) in html


def test_replay_action_reports_results(admin_client, client, make_channel, in_stock, monkeypatch):
    channel = make_channel("generic")
    import orders.services

    real = orders.services.order_ingest

    def broken(**kwargs):
        raise RuntimeError("down")

    monkeypatch.setattr(orders.services, "order_ingest", broken)
    post_webhook(client, channel, dumps(generic_order()), topic="order.created", delivery_id="r-1")
    post_webhook(
        client, channel, dumps(generic_order(lines=[])), topic="order.created", delivery_id="r-2"
    )
    monkeypatch.setattr(orders.services, "order_ingest", real)
    ids = list(WebhookDelivery.objects.order_by("id").values_list("id", flat=True))

    response = admin_client.post(
        reverse(CHANGELIST),
        {"action": "replay", "_selected_action": [str(i) for i in ids]},
        follow=True,
    )
    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert any("1 delivery(ies) processed" in m for m in messages), messages
    assert any(f"Delivery {ids[1]}" in m and "at least one line" in m for m in messages), messages
    assert WebhookDelivery.objects.get(pk=ids[0]).status == "processed"
    assert WebhookDelivery.objects.get(pk=ids[1]).status == "failed"
    assert Order.objects.count() == 1


def test_replay_from_the_detail_page(admin_client, client, make_channel, monkeypatch):
    channel = make_channel("generic")
    import orders.services

    real = orders.services.order_ingest
    monkeypatch.setattr(
        orders.services, "order_ingest", lambda **kw: (_ for _ in ()).throw(RuntimeError("x"))
    )
    post_webhook(client, channel, dumps(generic_order()), topic="order.created")
    monkeypatch.setattr(orders.services, "order_ingest", real)
    delivery = WebhookDelivery.objects.get()
    url = reverse("admin:orders_webhookdelivery_replay_detail", args=[delivery.pk])
    # a GET only shows the confirmation dialog
    dialog = admin_client.get(url)
    assert dialog.status_code == 200 and b"Replay" in dialog.content
    delivery.refresh_from_db()
    assert delivery.status == "failed"
    # confirming (POST) replays it
    response = admin_client.post(url, {"_form_submitted": "True"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse(
        "admin:orders_webhookdelivery_change", args=[delivery.pk]
    )
    delivery.refresh_from_db()
    assert delivery.status == "processed" and delivery.order_id is not None


def test_replay_needs_change_permission(client, make_channel):
    from django.contrib.auth.models import Permission

    from tests.factories import StaffUserFactory

    channel = make_channel("generic")
    post_webhook(client, channel, dumps(generic_order(lines=[])), topic="order.created")
    delivery = WebhookDelivery.objects.get()
    viewer: Any = StaffUserFactory()
    viewer.user_permissions.add(Permission.objects.get(codename="view_webhookdelivery"))
    client.force_login(viewer)
    assert client.get(reverse(CHANGELIST)).status_code == 200
    url = reverse("admin:orders_webhookdelivery_replay_detail", args=[delivery.pk])
    assert client.post(url, {"_form_submitted": "True"}).status_code == 403
    delivery.refresh_from_db()
    assert delivery.attempts == 1


def test_rejections_list_is_read_only(admin_client, client, make_channel):
    channel = make_channel("generic")
    post_webhook(client, channel, b"{}", topic="order.created", secret="wrong")
    rejection = WebhookRejection.objects.get()
    response = admin_client.get(reverse("admin:orders_webhookrejection_changelist"))
    assert response.status_code == 200 and b"signature mismatch" in response.content
    assert admin_client.get(reverse("admin:orders_webhookrejection_add")).status_code == 403
    change = admin_client.post(
        reverse("admin:orders_webhookrejection_change", args=[rejection.pk]), {"reason": "edited"}
    )
    assert change.status_code in (302, 403)
    rejection.refresh_from_db()
    assert rejection.reason == "signature mismatch"
