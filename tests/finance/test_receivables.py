# mypy: disable-error-code="attr-defined,misc,operator"
# (factory_boy calls are typed as the factory class, not the model they return)
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from backoffice.events import dispatch
from finance.models import FinanceEvent, Instalment, Receivable
from finance.services import receivable_create_for_order
from orders.events import OrderStatusChanged
from orders.services import order_payment_set
from orders.status import Payment
from tests.factories.core import OrderFactory

pytestmark = pytest.mark.django_db


def test_paid_order_event_creates_one_receivable_with_instalments_and_fee(
    django_capture_on_commit_callbacks,
):
    # given a credit-card order in 3x, not yet paid
    order = OrderFactory(total=Decimal("300.00"), payment_method="credit_card", installments=3)
    assert not Receivable.objects.exists()

    # when the payment is confirmed through the orders service (event -> eager task)
    with django_capture_on_commit_callbacks(execute=True):
        order_payment_set(order_id=order.pk, status=Payment.PAID)

    # then one receivable: fee 3.99% + 0.39 = 12.36, three instalments D+30 each
    receivable = Receivable.objects.get(order=order)
    assert receivable.payment_method == "credit_card"
    assert receivable.gross == Decimal("300.00")
    assert receivable.fee == Decimal("12.36")
    assert receivable.net == Decimal("287.64")
    instalments = list(receivable.instalments.order_by("number"))
    assert [i.gross for i in instalments] == [Decimal("100.00")] * 3
    assert sum(i.fee for i in instalments) == Decimal("12.36")
    assert sum(i.net for i in instalments) == Decimal("287.64")
    order.refresh_from_db()
    paid_on = timezone.localdate(order.paid_at or timezone.now())
    assert [i.due_date for i in instalments] == [
        paid_on + timedelta(days=30),
        paid_on + timedelta(days=60),
        paid_on + timedelta(days=90),
    ]
    assert FinanceEvent.objects.filter(object_type="receivable", action="created").count() == 1

    # and the same event again (redelivery) creates nothing more
    dispatch(
        OrderStatusChanged(
            order_id=order.pk, axis="payment", from_status="pending", to_status="paid"
        )
    )
    assert Receivable.objects.count() == 1
    assert Instalment.objects.count() == 3


def test_pix_is_one_instalment_and_other_axes_are_ignored(django_capture_on_commit_callbacks):
    order = OrderFactory(total=Decimal("99.90"), payment_method="pix", installments=4)
    dispatch(
        OrderStatusChanged(order_id=order.pk, axis="lifecycle", from_status="new", to_status="paid")
    )
    assert not Receivable.objects.exists()

    order.payment_status = Payment.PAID
    order.paid_at = timezone.now()
    order.save()
    receivable = receivable_create_for_order(order_id=order.pk)

    assert receivable is not None
    assert receivable.instalment_count == 1
    assert receivable.fee == Decimal("0.99")  # 0.99% of 99.90 = 0.989 -> 0.99
    inst = receivable.instalments.get()
    assert inst.due_date == timezone.localdate(order.paid_at)
    assert inst.net == Decimal("98.91")


def test_unpaid_order_gets_no_receivable():
    order = OrderFactory(payment_status=Payment.PENDING)
    assert receivable_create_for_order(order_id=order.pk) is None
    assert not Receivable.objects.exists()


def test_uneven_split_puts_the_remainder_on_the_last_instalment():
    order = OrderFactory(
        total=Decimal("100.00"),
        payment_method="Credit Card",
        installments=3,
        payment_status=Payment.PAID,
        paid_at=timezone.now(),
    )
    receivable = receivable_create_for_order(order_id=order.pk)
    assert receivable is not None
    grosses = list(receivable.instalments.order_by("number").values_list("gross", flat=True))
    assert grosses == [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]


def test_refund_requested_event_books_one_refund():
    from finance.models import Refund
    from logistics.events import RefundRequested

    order = OrderFactory()
    event = RefundRequested(return_id=77, order_id=order.pk, amount="19.90")
    dispatch(event)
    dispatch(event)
    refund = Refund.objects.get()
    assert (refund.order_id, refund.amount, refund.return_id) == (order.pk, Decimal("19.90"), 77)


def test_full_refund_cancels_the_open_instalments_once(django_capture_on_commit_callbacks):
    order = OrderFactory(
        total=Decimal("90.00"),
        payment_method="credit_card",
        installments=3,
        payment_status=Payment.PAID,
        paid_at=timezone.now(),
    )
    receivable = receivable_create_for_order(order_id=order.pk)
    assert receivable is not None
    first = receivable.instalments.get(number=1)
    Instalment.objects.filter(pk=first.pk).update(status=Instalment.Status.PAID)

    event = OrderStatusChanged(
        order_id=order.pk, axis="payment", from_status="paid", to_status="refunded"
    )
    dispatch(event)
    dispatch(event)

    statuses = dict(receivable.instalments.values_list("number", "status"))
    assert statuses == {1: "paid", 2: "cancelled", 3: "cancelled"}
    assert FinanceEvent.objects.filter(object_type="instalment", action="cancelled").count() == 2
