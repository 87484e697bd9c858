from __future__ import annotations

import hashlib
import hmac
import json
from http.server import BaseHTTPRequestHandler

import pytest

from logistics import services
from logistics.models import OutboundWebhook
from logistics.services.webhooks import OutboundWebhookError
from logistics.tasks import outbound_webhook_send_task
from tests.factories.core import ChannelFactory
from tests.factories.logistics import ready_order
from tests.http_server import http_server

pytestmark = pytest.mark.django_db
SECRET = "store-secret-123"


class StoreServer:
    """A real HTTP server on 127.0.0.1 that verifies the signature like a store would."""

    def __init__(self, statuses: list[int]):
        self.statuses = list(statuses)
        self.received: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                valid = hmac.compare_digest(
                    expected, self.headers.get("X-Retaguarda-Signature", "")
                )
                outer.received.append(
                    {
                        "body": json.loads(body),
                        "valid": valid,
                        "event": self.headers["X-Retaguarda-Event"],
                    }
                )
                status = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(status if valid else 401)
                self.end_headers()

            def log_message(self, *args):
                pass

        self._serving = http_server(Handler)
        self.url = ""

    def __enter__(self):
        port = self._serving.__enter__()
        self.url = f"http://127.0.0.1:{port}/hooks/retaguarda"
        return self

    def __exit__(self, *exc):
        return self._serving.__exit__(*exc)


def _ship(sedex, url, django_capture_on_commit_callbacks):
    channel = ChannelFactory(slug="loja-hooks", webhook_secret=SECRET, outbound_webhook_url=url)
    ro = ready_order(quantities=(1,), channel=channel)
    shipment = services.shipment_create(order_id=ro.order.pk, method_id=sedex.pk)
    services.parcel_add(shipment_id=shipment.pk, tracking_code="HOOK1BR")
    with django_capture_on_commit_callbacks(execute=True):
        services.shipment_ship(shipment_id=shipment.pk)
    return ro, shipment


def test_shipped_webhook_reaches_the_store_signed(sedex, django_capture_on_commit_callbacks):
    with StoreServer([200]) as store:
        ro, _shipment = _ship(sedex, store.url, django_capture_on_commit_callbacks)
    assert len(store.received) == 1
    hit = store.received[0]
    assert hit["valid"] and hit["event"] == "shipment.shipped"
    assert hit["body"]["order"]["external_id"] == ro.order.external_id
    assert hit["body"]["shipment"]["parcels"][0] == {
        "tracking_code": "HOOK1BR",
        "tracking_url": "https://rastreio.example/HOOK1BR",
    }
    webhook = OutboundWebhook.objects.get()
    assert (webhook.status, webhook.attempts) == ("sent", 1)
    assert list(webhook.attempt_log.values_list("status_code", flat=True)) == [200]


def test_a_500_is_retried_and_every_attempt_is_logged(sedex, django_capture_on_commit_callbacks):
    with StoreServer([500, 500, 200]) as store:
        # the on-commit attempt gets a 500: the row stays pending (for the sweep / retry)
        _ship(sedex, store.url, django_capture_on_commit_callbacks)
        webhook = OutboundWebhook.objects.get()
        assert (webhook.status, webhook.attempts) == ("pending", 1)
        # the Celery task retries on its own (eagerly here: 500, then 200)
        result = outbound_webhook_send_task.apply(args=[webhook.pk], throw=False)
    assert result.get() == "sent"
    assert len(store.received) == 3 and all(h["valid"] for h in store.received)
    webhook.refresh_from_db()
    assert webhook.status == "sent" and webhook.attempts == 3
    assert list(webhook.attempt_log.order_by("id").values_list("status_code", flat=True)) == [
        500,
        500,
        200,
    ]


def test_gives_up_after_max_attempts_then_staff_retry(sedex, django_capture_on_commit_callbacks):
    with StoreServer([503] * 20) as store:
        _ship(sedex, store.url, django_capture_on_commit_callbacks)
        webhook = OutboundWebhook.objects.get()
        for _attempt in range(6):  # attempts 2..7 fail and ask to be retried
            with pytest.raises(OutboundWebhookError):
                services.outbound_webhook_send(webhook_id=webhook.pk)
        assert services.outbound_webhook_send(webhook_id=webhook.pk) == "failed"
        webhook.refresh_from_db()
        assert webhook.status == "failed" and webhook.attempts == 8
        assert webhook.last_error == "HTTP 503"
        store.statuses = [503, 200]
        with django_capture_on_commit_callbacks(execute=False):
            services.outbound_webhook_retry(webhook_id=webhook.pk)
        with pytest.raises(OutboundWebhookError):
            services.outbound_webhook_send(webhook_id=webhook.pk)
        assert services.outbound_webhook_send(webhook_id=webhook.pk) == "sent"
        count = len(store.received)
        assert services.outbound_webhook_send(webhook_id=webhook.pk) == "sent"
        assert len(store.received) == count  # a sent row is not sent again


def test_sweep_re_enqueues_stale_pending_rows(sedex, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    with StoreServer([500, 200]) as store:
        _ship(sedex, store.url, django_capture_on_commit_callbacks)
        assert services.outbound_webhook_sweep() == 0  # enqueued just now
        OutboundWebhook.objects.update(enqueued_at=timezone.now() - timedelta(minutes=10))
        assert services.outbound_webhook_sweep() == 1
    assert OutboundWebhook.objects.get().status == "sent"


def test_no_url_no_row(sedex, django_capture_on_commit_callbacks):
    _ship(sedex, "", django_capture_on_commit_callbacks)
    assert not OutboundWebhook.objects.exists()


def test_delivered_webhook_is_a_second_row(sedex, django_capture_on_commit_callbacks):
    with StoreServer([]) as store:
        _ro, shipment = _ship(sedex, store.url, django_capture_on_commit_callbacks)
        with django_capture_on_commit_callbacks(execute=True):
            services.shipment_deliver(shipment_id=shipment.pk)
    assert [h["event"] for h in store.received] == ["shipment.shipped", "shipment.delivered"]
    assert store.received[1]["body"]["shipment"]["status"] == "delivered"
