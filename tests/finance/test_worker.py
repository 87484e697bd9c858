# mypy: disable-error-code="attr-defined,misc,operator"
"""With a real Redis and Celery worker: the paid-order event reaches the worker, which
creates the receivable once, even when the task is delivered twice."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from finance.models import Receivable
from finance.tasks import receivable_create_task
from orders.services import order_payment_set
from orders.status import Payment
from tests.factories.core import OrderFactory
from tests.integration.worker import CeleryWorker, SmtpSink, eager_off, purge_queue, wait_until

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def worker():
    queue = f"test-finance-{uuid.uuid4().hex[:10]}"
    sink = SmtpSink().start()
    proc = None
    try:
        with eager_off(queue):
            proc = CeleryWorker(queue=queue, smtp_url=sink.url).start().wait_ready()
            yield proc
    finally:
        if proc is not None:
            proc.stop()
        sink.stop()
        purge_queue(queue)


def test_worker_creates_the_receivable_once(worker):
    order = OrderFactory(total=Decimal("150.00"), payment_method="credit_card", installments=3)

    order_payment_set(order_id=order.pk, status=Payment.PAID)  # commits; event -> Redis
    receivable_create_task.delay(order.pk)  # a duplicate delivery

    wait_until(lambda: Receivable.objects.filter(order_id=order.pk).exists(), timeout=60)
    result = receivable_create_task.delay(order.pk)
    wait_until(lambda: result.ready(), timeout=60)
    assert Receivable.objects.filter(order_id=order.pk).count() == 1
    assert Receivable.objects.get(order_id=order.pk).instalments.count() == 3
