"""Step 1 of the hot path: who may post, and what a refused request leaves behind."""

from __future__ import annotations

import hashlib

import pytest

from orders.models import Order, WebhookDelivery, WebhookRejection
from tests.orders.webhooks.conftest import dumps, generic_order, post_webhook, sign

pytestmark = pytest.mark.django_db

PLATFORMS = ["generic", "shopify", "woocommerce", "nuvemshop"]
BODY = b'{"store_id": 1, "event": "product/created", "id": 9}'


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_valid_signature_is_accepted(client, make_channel, platform):
    channel = make_channel(platform)
    # a topic that needs no action, so only the signature and storage are exercised
    response = post_webhook(client, channel, BODY, topic="app/uninstalled")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "ignored"
    assert WebhookDelivery.objects.get().status == "ignored"
    assert not WebhookRejection.objects.exists()


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_wrong_secret_is_refused_and_only_audited(client, make_channel, platform):
    channel = make_channel(platform)
    response = post_webhook(client, channel, BODY, topic="orders/create", secret="not-the-secret")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid or missing signature."}
    assert not WebhookDelivery.objects.exists() and not Order.objects.exists()
    rejection = WebhookRejection.objects.get()
    assert rejection.channel_slug == channel.slug and rejection.reason == "signature mismatch"
    assert rejection.body_sha256 == hashlib.sha256(BODY).hexdigest()
    assert rejection.remote_addr == "127.0.0.1"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_missing_signature_is_refused(client, make_channel, platform):
    channel = make_channel(platform)
    response = post_webhook(client, channel, BODY, topic="orders/create", signed=False)
    assert response.status_code == 401
    assert not WebhookDelivery.objects.exists()
    assert WebhookRejection.objects.get().reason == "missing signature"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_tampered_body_is_refused(client, make_channel, platform):
    channel = make_channel(platform)
    headers = sign(platform, BODY)
    response = client.post(
        f"/api/webhooks/{channel.slug}/",
        data=BODY.replace(b"9", b"8"),
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 401
    assert not WebhookDelivery.objects.exists()


def test_generic_signature_needs_the_sha256_prefix(client, make_channel):
    channel = make_channel("generic")
    body = dumps(generic_order())
    bare = sign("generic", body)["X-Retaguarda-Signature"].removeprefix("sha256=")
    response = client.post(
        f"/api/webhooks/{channel.slug}/",
        data=body,
        content_type="application/json",
        headers={"X-Retaguarda-Signature": bare, "X-Retaguarda-Event": "order.created"},
    )
    assert response.status_code == 401


def test_unknown_and_inactive_channels_get_404(client, make_channel):
    inactive = make_channel("generic", slug="fechada", is_active=False)
    for slug in ("nao-existe", inactive.slug):
        response = client.post(
            f"/api/webhooks/{slug}/", data=b"{}", content_type="application/json"
        )
        assert response.status_code == 404
        assert response.json() == {"detail": "Unknown or inactive channel."}
    assert not WebhookDelivery.objects.exists()


def test_only_post_is_allowed(client, make_channel):
    channel = make_channel("generic")
    assert client.get(f"/api/webhooks/{channel.slug}/").status_code == 405


def test_a_platform_without_an_adapter_gets_501(client, make_channel):
    channel = make_channel("vtex")
    response = client.post(
        f"/api/webhooks/{channel.slug}/", data=b"{}", content_type="application/json"
    )
    assert response.status_code == 501
    assert not WebhookDelivery.objects.exists()


def test_woocommerce_ping_gets_200_and_changes_nothing(client, make_channel):
    channel = make_channel("woocommerce")
    response = client.post(
        f"/api/webhooks/{channel.slug}/",
        data=b"webhook_id=15",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    assert not WebhookDelivery.objects.exists()
    assert not WebhookRejection.objects.exists()
    assert not Order.objects.exists()
