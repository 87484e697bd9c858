"""The Nuvemshop HTTP client against a local stand-in for the API (a real HTTP server on
this machine): URL, authentication header, User-Agent, exact decoding, errors."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from orders.clients import ClientError, HttpNuvemshopClient, nuvemshop_client
from orders.models import Channel
from tests.http_server import http_server


class _Api(BaseHTTPRequestHandler):
    seen: list[dict[str, Any]] = []

    def do_GET(self) -> None:
        _Api.seen.append({"path": self.path, "headers": dict(self.headers)})
        if self.path.endswith("/orders/404"):
            self.send_response(404)
            self.end_headers()
            return
        body = b'{"id": 9007199254740993, "number": 1, "total": 10.10, "number": 2}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def api() -> Iterator[str]:
    _Api.seen.clear()
    with http_server(_Api) as port:
        yield f"http://127.0.0.1:{port}/v1"


def test_http_client_calls_the_api_with_the_channel_token(api, settings):
    settings.NUVEMSHOP_USER_AGENT = "Retaguarda test (dev@example.com)"
    channel = Channel(slug="n", store_external_id="123456", api_token="tok-1", api_base_url=api)
    order = HttpNuvemshopClient().order_get(channel=channel, order_id="77")
    assert order == {"id": 9007199254740993, "number": 2, "total": Decimal("10.10")}
    (request,) = _Api.seen
    assert request["path"] == "/v1/123456/orders/77"
    assert request["headers"]["Authentication"] == "bearer tok-1"
    assert request["headers"]["User-Agent"] == "Retaguarda test (dev@example.com)"


def test_http_client_errors_are_client_errors(api):
    channel = Channel(slug="n", store_external_id="1", api_token="t", api_base_url=api)
    with pytest.raises(ClientError, match="404"):
        HttpNuvemshopClient().order_get(channel=channel, order_id="404")
    with pytest.raises(ClientError, match="no platform API token"):
        HttpNuvemshopClient().order_get(
            channel=Channel(slug="n", store_external_id="1", api_base_url=api), order_id="1"
        )
    insecure = Channel(
        slug="n", store_external_id="1", api_token="t", api_base_url="http://api.example.com"
    )
    with pytest.raises(ClientError, match="non-HTTPS"):
        HttpNuvemshopClient().order_get(channel=insecure, order_id="1")


def test_the_setting_picks_the_client(settings):
    assert isinstance(nuvemshop_client(), HttpNuvemshopClient)
    settings.NUVEMSHOP_CLIENT = "orders.clients.RecordedNuvemshopClient"
    assert type(nuvemshop_client()).__name__ == "RecordedNuvemshopClient"
