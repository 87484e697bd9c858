from __future__ import annotations

import hashlib
import hmac
import json

import pytest
import tablib
from django.urls import reverse

from crm.models import Notification
from logistics import services
from logistics.clients import RecordedTrackingClient
from logistics.models import LogisticsAudit, Shipment, TrackingEvent
from logistics.resources import TrackingEventResource
from tests.factories.logistics import ready_order
from tests.http_server import http_server

pytestmark = pytest.mark.django_db
SECRET = "carrier-test-secret"


def _shipped(sedex, codes=("TR1BR",), quantities=(1,)):
    ro = ready_order(quantities=quantities)
    shipment = services.shipment_create(order_id=ro.order.pk, method_id=sedex.pk)
    for code in codes:
        services.parcel_add(shipment_id=shipment.pk, tracking_code=code)
    services.shipment_ship(shipment_id=shipment.pk)
    return ro, shipment


def _post(client, body: bytes, signature: str | None, slug="correios"):
    headers = {"HTTP_X_CARRIER_SIGNATURE": signature} if signature is not None else {}
    return client.post(
        reverse("logistics:tracking-webhook", args=[slug]),
        data=body,
        content_type="application/json",
        **headers,
    )


def _sign(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


EVENTS = {
    "events": [
        {
            "tracking_code": "TR1BR",
            "code": "RO01",
            "description": "Objeto em trânsito",
            "location": "CTE Cajamar/SP",
            "occurred_at": "2026-11-20T08:00:00-03:00",
        }
    ]
}


def test_bad_or_missing_signature_gets_401_and_stores_only_an_audit(client, sedex):
    _ro, shipment = _shipped(sedex)
    body = json.dumps(EVENTS).encode()

    for signature in (None, "deadbeef", _sign(body, "wrong-secret"), "sha256=" + "0" * 64):
        response = _post(client, body, signature)
        assert response.status_code == 401

    assert not TrackingEvent.objects.exists()
    shipment.refresh_from_db()
    assert shipment.last_tracking_at is None
    rejections = LogisticsAudit.objects.filter(action="tracking_rejected")
    assert rejections.count() == 4
    assert all(r.data["body_sha256"] == hashlib.sha256(body).hexdigest() for r in rejections)


def test_unknown_carrier_is_404_and_audited(client):
    body = json.dumps(EVENTS).encode()
    response = _post(client, body, _sign(body), slug="nobody")
    assert response.status_code == 404
    assert LogisticsAudit.objects.get().data["carrier"] == "nobody"
    assert client.get(reverse("logistics:tracking-webhook", args=["nobody"])).status_code == 405


def test_signed_webhook_stores_events_once_however_often_replayed(client, sedex):
    _ro, shipment = _shipped(sedex)
    body = json.dumps(EVENTS).encode()

    first = _post(client, body, _sign(body))
    replay = _post(client, body, "sha256=" + _sign(body))

    assert first.status_code == 200 and first.json() == {
        "created": 1,
        "duplicates": 0,
        "unknown": [],
    }
    assert replay.json() == {"created": 0, "duplicates": 1, "unknown": []}
    event = TrackingEvent.objects.get()
    assert (event.code, event.kind, event.source) == ("RO01", "in_transit", "webhook")
    shipment.refresh_from_db()
    assert shipment.last_tracking_at == event.occurred_at


def test_webhook_rejects_malformed_events_and_ignores_other_carriers_parcels(client, sedex):
    from tests.factories.logistics import CarrierFactory

    _shipped(sedex)
    bad = json.dumps({"events": [{"tracking_code": "TR1BR", "occurred_at": "yesterday"}]}).encode()
    response = _post(client, bad, _sign(bad))
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"events[0].code", "events[0].occurred_at"}

    CarrierFactory(slug="jadlog", webhook_secret="other")
    body = json.dumps(EVENTS).encode()
    response = _post(client, body, _sign(body, "other"), slug="jadlog")
    assert response.json() == {"created": 0, "duplicates": 0, "unknown": ["TR1BR"]}
    assert not TrackingEvent.objects.exists()


def test_delivery_of_every_parcel_closes_shipment_and_order_with_delivered_email(
    client, sedex, django_capture_on_commit_callbacks
):
    ro, shipment = _shipped(sedex, codes=("P1BR", "P2BR"))
    ro.products[0].consumption_days = 30
    ro.products[0].save()

    def deliver(code, at):
        body = json.dumps({"tracking_code": code, "code": "BDE01", "occurred_at": at}).encode()
        with django_capture_on_commit_callbacks(execute=True):
            assert _post(client, body, _sign(body)).status_code == 200

    deliver("P1BR", "2026-11-21T10:00:00-03:00")
    shipment.refresh_from_db()
    assert shipment.status == "shipped"  # one parcel still out

    deliver("P2BR", "2026-11-21T11:00:00-03:00")
    shipment.refresh_from_db()
    ro.order.refresh_from_db()
    assert shipment.status == "delivered"
    assert shipment.delivered_at.isoformat() == "2026-11-21T14:00:00+00:00"
    assert ro.order.fulfillment_status == "delivered"
    mail = Notification.objects.get(order_id=ro.order.pk, kind="delivered")
    assert mail.context["lines"][0]["consumption_days"] == 30
    assert mail.context["delivered_at"].startswith("2026-11-21")
    # replaying the delivery changes nothing
    deliver("P2BR", "2026-11-21T11:00:00-03:00")
    assert Notification.objects.filter(order_id=ro.order.pk, kind="delivered").count() == 1


def test_csv_import_records_events_and_a_reimport_adds_nothing(sedex):
    _ro, shipment = _shipped(sedex, codes=("CSV1BR",))
    csv_text = (
        "tracking_code,code,occurred_at,kind,description,location\n"
        "CSV1BR,PO01,2026-11-20T09:00:00-03:00,,Postado,Agência Centro\n"
        "csv1br,OEC01,2026-11-22T08:00:00-03:00,,Saiu para entrega,Campinas/SP\n"
        "CSV1BR,BDE01,2026-11-22T15:00:00-03:00,delivered,Entregue,Campinas/SP\n"
    )

    def run(dry_run=False):
        dataset = tablib.Dataset().load(csv_text, format="csv")
        return TrackingEventResource().import_data(dataset, dry_run=dry_run, raise_errors=True)

    preview = run(dry_run=True)
    assert not preview.has_errors() and not TrackingEvent.objects.exists()

    result = run()
    assert result.totals["new"] == 3
    kinds = list(TrackingEvent.objects.order_by("occurred_at").values_list("kind", "source"))
    assert kinds == [("posted", "csv"), ("out_for_delivery", "csv"), ("delivered", "csv")]
    shipment.refresh_from_db()
    assert shipment.status == "delivered"

    again = run()
    assert again.totals["skip"] == 3
    assert TrackingEvent.objects.count() == 3


def test_csv_import_reports_unknown_parcels_without_storing(sedex):
    _shipped(sedex, codes=("CSV2BR",))
    dataset = tablib.Dataset().load(
        "tracking_code,code,occurred_at\nNOPE1,RO01,2026-11-20T09:00:00-03:00\n", format="csv"
    )
    result = TrackingEventResource().import_data(dataset, dry_run=False)
    assert result.has_validation_errors()
    assert not TrackingEvent.objects.exists()


def test_polling_with_recorded_client(sedex):
    sedex.carrier.api_url_template = "https://api.carrier.example/track/{code}"
    sedex.carrier.save()
    _ro, shipment = _shipped(sedex, codes=("POLL1BR",))
    client = RecordedTrackingClient(
        {
            "POLL1BR": {
                "events": [
                    {"code": "PO01", "occurred_at": "2026-11-20T09:00:00-03:00"},
                    {"code": "BDE01", "occurred_at": "2026-11-23T10:00:00-03:00"},
                ]
            }
        }
    )
    result = services.tracking_poll(client_for=lambda carrier: client)
    assert (result.created, result.duplicates) == (2, 0)
    assert client.calls == ["POLL1BR"]
    assert Shipment.objects.get(pk=shipment.pk).status == "delivered"
    # delivered shipments are not polled again
    assert services.tracking_poll(client_for=lambda carrier: client).created == 0
    assert client.calls == ["POLL1BR"]


def test_json_http_client_reads_a_local_server():
    from http.server import BaseHTTPRequestHandler

    from logistics.clients import JsonHttpTrackingClient

    seen: dict[str, str | None] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            seen["path"], seen["auth"] = self.path, self.headers.get("Authorization")
            body = json.dumps([{"code": "RO01", "occurred_at": "2026-11-20T09:00:00Z"}]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    with http_server(Handler) as port:
        client = JsonHttpTrackingClient(
            url_template=f"http://127.0.0.1:{port}/t/{{code}}", token="tok"
        )
        updates = client.fetch("AB 1")
    assert seen == {"path": "/t/AB%201", "auth": "Bearer tok"}
    assert [(u.tracking_code, u.code) for u in updates] == [("AB 1", "RO01")]
