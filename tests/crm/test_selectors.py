from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from crm.models import SurveyResponse
from crm.selectors import communications_for_order, customer_timeline
from crm.services import ticket_open
from tests.factories.core import OrderFactory
from tests.factories.crm import order_context, queued

pytestmark = pytest.mark.django_db


def _history(customer, n):
    for i in range(n):
        order = OrderFactory.create(
            customer=customer, placed_at=timezone.now() - timedelta(days=10 - i)
        )
        survey = queued(
            kind="survey",
            to_email=customer.email,
            language="pt-br",
            dedupe_key=f"order:{order.pk}:survey",
            context=order_context(),
            customer_id=customer.pk,
            order_id=order.pk,
        )
        SurveyResponse.objects.create(notification=survey, customer=customer, score=8)
        ticket_open(customer_id=customer.pk, subject=f"Caso {i}", order_id=order.pk)


def test_timeline_merges_everything_newest_first(customer):
    _history(customer, 2)

    entries = customer_timeline(customer_id=customer.pk)

    assert {e.kind for e in entries} == {"order", "notification", "ticket", "survey"}
    assert [e.at for e in entries] == sorted((e.at for e in entries), reverse=True)
    order_entry = next(e for e in entries if e.kind == "order")
    assert order_entry.url.startswith("/admin/orders/order/")


def test_timeline_query_count_does_not_grow(customer, django_assert_num_queries):
    _history(customer, 1)
    with django_assert_num_queries(5):
        customer_timeline(customer_id=customer.pk)
    _history(customer, 4)
    with django_assert_num_queries(5):
        customer_timeline(customer_id=customer.pk)


def test_communications_for_order(customer):
    mine = queued(
        kind="shipped",
        to_email=customer.email,
        language="pt-br",
        dedupe_key="order:5:shipped:1",
        context={},
        order_id=5,
    )
    queued(
        kind="shipped",
        to_email=customer.email,
        language="pt-br",
        dedupe_key="order:6:shipped:1",
        context={},
        order_id=6,
    )
    assert list(communications_for_order(order_id=5)) == [mine]
