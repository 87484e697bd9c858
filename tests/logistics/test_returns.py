from __future__ import annotations

from decimal import Decimal

import pytest

from backoffice.errors import ApplicationError, ConflictError
from backoffice.events import subscribe, unsubscribe
from crm.models import Notification
from inventory.models import StockLevel, StockMovement
from logistics import services
from logistics.events import RefundRequested, ReturnReceived
from logistics.models import ReturnRequest, Shipment
from logistics.services import ReturnGradeIn, ReturnLineIn
from orders.models import Order
from tests.factories.logistics import ready_order

pytestmark = pytest.mark.django_db


def _delivered(sedex, quantities=(2, 1)):
    ro = ready_order(quantities=quantities, on_hand=10)
    shipment = services.shipment_create(order_id=ro.order.pk, method_id=sedex.pk)
    services.parcel_add(shipment_id=shipment.pk, tracking_code=f"R{ro.order.pk}BR")
    services.shipment_ship(shipment_id=shipment.pk)
    services.shipment_deliver(shipment_id=shipment.pk)
    return ro, shipment


def _level(ro, i):
    return StockLevel.objects.get(product=ro.products[i], warehouse=ro.warehouse)


def test_return_resell_restocks_scrap_does_not_and_refund_is_requested(
    sedex, django_capture_on_commit_callbacks
):
    ro, _shipment = _delivered(sedex)
    assert (_level(ro, 0).on_hand, _level(ro, 1).on_hand) == (8, 9)
    ret = services.return_request_create(
        order_id=ro.order.pk,
        lines=[
            ReturnLineIn(ro.lines[0].pk, 2, "regret"),
            ReturnLineIn(ro.lines[1].pk, 1, "defective"),
        ],
    )
    assert ret.status == "requested" and ret.code == ""
    ret = services.return_approve(return_id=ret.pk)
    assert ret.status == "approved" and ret.code.startswith("RMA-") and len(ret.code) == 12
    lines = {line.order_line_id: line for line in ret.lines.all()}

    received: list[ReturnReceived] = []
    refunds: list[RefundRequested] = []
    subscribe(ReturnReceived, received.append)
    subscribe(RefundRequested, refunds.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.return_receive(
                return_id=ret.pk,
                grades=[
                    ReturnGradeIn(lines[ro.lines[0].pk].pk, "resell", 2),
                    ReturnGradeIn(lines[ro.lines[1].pk].pk, "scrap", 1),
                ],
            )
        # resell is back on hand (available again), scrap is not
        assert (_level(ro, 0).on_hand, _level(ro, 0).reserved) == (10, 0)
        assert _level(ro, 1).on_hand == 9
        assert (
            StockMovement.objects.filter(reason="return", order_line_id=ro.lines[0].pk).count() == 1
        )
        assert not StockMovement.objects.filter(
            reason="return", order_line_id=ro.lines[1].pk
        ).exists()
        ro.order.refresh_from_db()
        assert ro.order.fulfillment_status == "returned"

        with django_capture_on_commit_callbacks(execute=True):
            ret = services.return_refund(return_id=ret.pk)
    finally:
        unsubscribe(ReturnReceived, received.append)
        unsubscribe(RefundRequested, refunds.append)

    assert received == [ReturnReceived(return_id=ret.pk, order_id=ro.order.pk)]
    assert ret.refund_amount == Decimal("149.70")  # 3 units × 49.90
    assert refunds == [RefundRequested(return_id=ret.pk, order_id=ro.order.pk, amount="149.70")]
    ro.order.refresh_from_db()
    assert ro.order.payment_status == "refunded"  # every unit came back
    assert Notification.objects.filter(order_id=ro.order.pk, kind="refund_issued").count() == 1
    assert services.return_close(return_id=ret.pk).status == "closed"


def test_partial_refund_sets_partially_refunded(sedex):
    ro, _shipment = _delivered(sedex)
    ret = services.return_request_create(
        order_id=ro.order.pk, lines=[ReturnLineIn(ro.lines[0].pk, 1, "damaged")]
    )
    services.return_approve(return_id=ret.pk)
    line = ret.lines.get()
    services.return_receive(return_id=ret.pk, grades=[ReturnGradeIn(line.pk, "refurbish", 1)])
    assert _level(ro, 0).on_hand == 8  # refurbish does not go back to sellable stock
    services.return_refund(return_id=ret.pk)
    assert Order.objects.get(pk=ro.order.pk).payment_status == "partially_refunded"


def test_cannot_return_more_than_shipped_or_receive_before_approval(sedex):
    ro, _shipment = _delivered(sedex, quantities=(1,))
    with pytest.raises(ApplicationError):
        services.return_request_create(
            order_id=ro.order.pk, lines=[ReturnLineIn(ro.lines[0].pk, 2, "regret")]
        )
    ret = services.return_request_create(
        order_id=ro.order.pk, lines=[ReturnLineIn(ro.lines[0].pk, 1, "regret")]
    )
    with pytest.raises(ApplicationError):  # already being returned
        services.return_request_create(
            order_id=ro.order.pk, lines=[ReturnLineIn(ro.lines[0].pk, 1, "regret")]
        )
    with pytest.raises(ConflictError):
        services.return_receive(
            return_id=ret.pk, grades=[ReturnGradeIn(ret.lines.get().pk, "resell", 1)]
        )
    assert _level(ro, 0).on_hand == 9
    services.return_reject(return_id=ret.pk, reason="outside the 7-day window")
    assert ReturnRequest.objects.get(pk=ret.pk).status == "rejected"


def test_exchange_creates_a_replacement_shipment_and_refunds_nothing(sedex):
    ro, _shipment = _delivered(sedex, quantities=(1,))
    ret = services.return_request_create(
        order_id=ro.order.pk, lines=[ReturnLineIn(ro.lines[0].pk, 1, "defective")], is_exchange=True
    )
    services.return_approve(return_id=ret.pk)
    services.return_receive(
        return_id=ret.pk, grades=[ReturnGradeIn(ret.lines.get().pk, "scrap", 1)]
    )
    replacement = Shipment.objects.get(is_replacement=True)
    assert replacement.return_request_id == ret.pk
    assert [(sl.order_line_id, sl.quantity) for sl in replacement.lines.all()] == [
        (ro.lines[0].pk, 1)
    ]
    assert _level(ro, 0).reserved == 1  # the replacement unit is held
    with pytest.raises(ConflictError):
        services.return_refund(return_id=ret.pk)
    services.parcel_add(shipment_id=replacement.pk, tracking_code="REPL1BR")
    services.shipment_ship(shipment_id=replacement.pk)
    assert (_level(ro, 0).on_hand, _level(ro, 0).reserved) == (8, 0)
    assert Order.objects.get(pk=ro.order.pk).payment_status == "paid"
    assert services.return_close(return_id=ret.pk).status == "closed"
