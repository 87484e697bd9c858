from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.models import CustomerRFM
from crm.services.segments import rfm_compute
from tests.factories.core import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db


def test_rfm_scores_from_known_data():
    now = timezone.now()
    # (days since last order, number of orders, value of each order)
    plan = {
        "champion": (1, 6, "300.00"),
        "loyal": (20, 4, "150.00"),
        "middle": (60, 3, "100.00"),
        "drifting": (150, 2, "60.00"),
        "lost": (400, 1, "20.00"),
    }
    customers = {}
    for label, (days, count, value) in plan.items():
        customer = CustomerFactory.create(name=label)
        customers[label] = customer
        for i in range(count):
            OrderFactory.create(
                customer=customer,
                total=Decimal(value),
                placed_at=now - timedelta(days=days + 30 * i),
            )
    # cancelled orders count for nothing, however big and recent
    OrderFactory.create(
        customer=customers["lost"], total=Decimal("9999"), status="cancelled", placed_at=now
    )
    CustomerFactory.create(name="never bought")

    assert rfm_compute(now=now) == 5

    scores = {s.customer.name: s for s in CustomerRFM.objects.select_related("customer")}
    assert {k: (s.r, s.f, s.m) for k, s in scores.items()} == {
        "champion": (5, 5, 5),
        "loyal": (4, 4, 4),
        "middle": (3, 3, 3),
        "drifting": (2, 2, 2),
        "lost": (1, 1, 1),
    }
    lost = scores["lost"]
    assert (lost.recency_days, lost.frequency, lost.monetary) == (400, 1, Decimal("20.00"))
    assert scores["champion"].monetary == Decimal("1800.00")
    assert scores["champion"].segment == CustomerRFM.Segment.CHAMPIONS
    assert scores["middle"].segment == CustomerRFM.Segment.LOYAL
    assert scores["lost"].segment == CustomerRFM.Segment.LOST


def test_ties_share_the_lower_score_and_a_rerun_replaces_rows():
    now = timezone.now()
    for _ in range(4):
        OrderFactory.create(total=Decimal("50"), placed_at=now - timedelta(days=3))
    assert rfm_compute(now=now) == 4
    assert set(CustomerRFM.objects.values_list("f", flat=True)) == {1}
    assert rfm_compute(now=now) == 4
    assert CustomerRFM.objects.count() == 4
