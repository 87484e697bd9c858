"""The store webhook through a REAL Redis and Celery worker: a 500 is retried with
back-off by the worker and the signed request then succeeds; every attempt is logged."""

from __future__ import annotations

import uuid

import pytest
from django.db import transaction

from logistics import services
from logistics.models import OutboundWebhook
from tests.factories.core import ChannelFactory
from tests.factories.logistics import correios_sedex, ready_order
from tests.integration.worker import CeleryWorker, SmtpSink, eager_off, purge_queue, wait_until
from tests.logistics.test_outbound_webhooks import SECRET, StoreServer

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


def test_a_real_worker_retries_a_500_with_back_off_then_delivers():
    queue = f"test-logistics-{uuid.uuid4().hex[:10]}"
    sink = SmtpSink().start()
    worker = CeleryWorker(
        queue=queue, smtp_url=sink.url, extra_env={"OUTBOUND_WEBHOOK_RETRY_BACKOFF": "1"}
    )
    try:
        with StoreServer([500, 200]) as store, eager_off(queue):
            worker.start().wait_ready()
            sedex = correios_sedex()
            channel = ChannelFactory(
                slug="loja-worker", webhook_secret=SECRET, outbound_webhook_url=store.url
            )
            ro = ready_order(quantities=(1,), channel=channel)
            shipment = services.shipment_create(order_id=ro.order.pk, method_id=sedex.pk)
            services.parcel_add(shipment_id=shipment.pk, tracking_code="WRK1BR")
            with transaction.atomic():
                services.shipment_ship(shipment_id=shipment.pk)

            wait_until(lambda: OutboundWebhook.objects.filter(status="sent").exists(), timeout=60)
        webhook = OutboundWebhook.objects.get()
        assert webhook.attempts == 2
        assert list(webhook.attempt_log.order_by("id").values_list("status_code", flat=True)) == [
            500,
            200,
        ]
        assert len(store.received) == 2 and all(hit["valid"] for hit in store.received)
    finally:
        worker.stop()
        sink.stop()
        purge_queue(queue)
