from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from crm.models import Notification, Ticket
from logistics import services
from logistics.models import DelayAlert, Shipment
from logistics.tasks import delay_watch_task
from tests.factories.logistics import ready_order

pytestmark = pytest.mark.django_db


def _in_transit(sedex, code="W1BR", **shipment_fields):
    ro = ready_order(quantities=(1,))
    shipment = services.shipment_create(order_id=ro.order.pk, method_id=sedex.pk)
    services.parcel_add(shipment_id=shipment.pk, tracking_code=code)
    services.shipment_ship(shipment_id=shipment.pk)
    Shipment.objects.filter(pk=shipment.pk).update(**shipment_fields)
    return ro, shipment


def test_past_promise_raises_one_alert_one_email_one_ticket_even_if_run_twice(sedex):
    today = timezone.localdate()
    ro, shipment = _in_transit(
        sedex, promised_date=today - timedelta(days=1), last_tracking_at=timezone.now()
    )
    on_time_ro, _on_time = _in_transit(sedex, code="W2BR", promised_date=today)

    created = services.delay_watch()
    again = services.delay_watch()
    assert delay_watch_task.delay().get() == 0

    assert [(a.shipment_id, a.kind) for a in created] == [(shipment.pk, "past_promise")]
    assert again == []
    alert = DelayAlert.objects.get()
    mail = Notification.objects.get(kind="delivery_delayed")
    ticket = Ticket.objects.get()
    assert (alert.notification_id, alert.ticket_id) == (mail.pk, ticket.pk)
    assert mail.order_id == ro.order.pk and mail.context["tracking_code"] == "W1BR"
    assert ticket.order_id == ro.order.pk and ticket.priority == "high"
    assert not Notification.objects.filter(
        order_id=on_time_ro.order.pk, kind="delivery_delayed"
    ).exists()


@override_settings(TRACKING_STALE_DAYS=3)
def test_stale_tracking_raises_once_and_a_second_kind_adds_no_second_email_or_ticket(sedex):
    now = timezone.now()
    today = timezone.localdate()
    _ro, shipment = _in_transit(
        sedex,
        promised_date=today + timedelta(days=5),
        shipped_at=now - timedelta(days=6),
        last_tracking_at=now - timedelta(days=4),
    )
    fresh_ro, _fresh = _in_transit(
        sedex,
        code="W3BR",
        shipped_at=now - timedelta(days=6),
        last_tracking_at=now - timedelta(days=1),
    )

    assert [a.kind for a in services.delay_watch()] == ["stale_tracking"]
    assert services.delay_watch() == []
    # later it is also past its promise: a second alert, but the same e-mail and ticket
    Shipment.objects.filter(pk=shipment.pk).update(promised_date=today - timedelta(days=1))
    assert [a.kind for a in services.delay_watch()] == ["past_promise"]
    assert DelayAlert.objects.filter(shipment=shipment).count() == 2
    assert Notification.objects.filter(kind="delivery_delayed").count() == 1
    assert Ticket.objects.count() == 1
    assert not DelayAlert.objects.filter(shipment__order=fresh_ro.order).exists()


def test_shipment_never_scanned_counts_from_shipping(sedex):
    now = timezone.now()
    _ro, shipment = _in_transit(sedex, shipped_at=now - timedelta(days=30), last_tracking_at=None)
    assert [a.shipment_id for a in services.delay_watch()] == [shipment.pk]


def test_delivered_shipments_are_not_watched(sedex):
    today = timezone.localdate()
    _ro, shipment = _in_transit(sedex, promised_date=today - timedelta(days=3))
    services.shipment_deliver(shipment_id=shipment.pk)
    assert services.delay_watch() == []
    assert not DelayAlert.objects.exists()
