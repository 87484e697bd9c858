"""Clients for store platforms' APIs, for the webhooks that only notify.

Nuvemshop/Tiendanube sends ``{store_id, event, id}``; the order itself is fetched with
``GET {api}/{store_id}/orders/{id}``. ``settings.NUVEMSHOP_CLIENT`` names the class used
(dotted path): the HTTP client in production, ``RecordedNuvemshopClient`` (recorded API
responses from a directory) in tests and demos.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from orders.models import Channel

logger = logging.getLogger(__name__)

DEFAULT_NUVEMSHOP_API = "https://api.tiendanube.com/v1"
# Plain HTTP only to this machine (a local stand-in for the API); the real API is HTTPS.
LOCAL_HTTP = ("http://127.0.0.1:", "http://localhost:")


class ClientError(Exception):
    """The platform could not give us what we asked (network, auth, not found, config).
    Processing fails and the delivery can be replayed once the cause is fixed."""


class NuvemshopClient(Protocol):
    def order_get(self, *, channel: Channel, order_id: str) -> dict[str, Any]:
        """The order as ``GET /orders/{id}`` returns it (amounts as Decimal, ints exact;
        a key repeated in the JSON keeps its LAST value, as Python's json does)."""
        ...


def decode(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw, parse_float=Decimal)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ClientError(f"the platform answered something that is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ClientError("the platform answered JSON that is not an object")
    return data


def _credentials(channel: Channel) -> tuple[str, str]:
    """(store id, token): both are needed before any call, recorded or real."""
    missing = [
        label
        for label, value in (
            ("store id on the platform", channel.store_external_id),
            ("platform API token", channel.api_token),
        )
        if not value
    ]
    if missing:
        raise ClientError(f"channel {channel.slug!r} has no {' and no '.join(missing)}")
    return channel.store_external_id, channel.api_token


class HttpNuvemshopClient:
    """Calls the Nuvemshop/Tiendanube REST API (``Authentication: bearer <token>``; the
    API requires a User-Agent naming the app and a contact)."""

    timeout = 10

    def order_get(self, *, channel: Channel, order_id: str) -> dict[str, Any]:
        store_id, token = _credentials(channel)
        base = (
            channel.api_base_url
            or getattr(settings, "NUVEMSHOP_API_BASE_URL", "")
            or DEFAULT_NUVEMSHOP_API
        )
        url = f"{base.rstrip('/')}/{store_id}/orders/{order_id}"
        if not url.startswith(("https://", *LOCAL_HTTP)) and not settings.DEBUG:
            raise ClientError(f"refusing a non-HTTPS platform API URL: {url}")
        request = urllib.request.Request(  # noqa: S310 (scheme checked above)
            url,
            headers={
                "Authentication": f"bearer {token}",
                "User-Agent": getattr(settings, "NUVEMSHOP_USER_AGENT", "")
                or f"Retaguarda ({settings.DEFAULT_FROM_EMAIL})",
                "Accept": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return decode(response.read())
        except urllib.error.HTTPError as exc:
            raise ClientError(f"GET {url} answered {exc.code}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise ClientError(f"GET {url} failed: {exc}") from exc


class RecordedNuvemshopClient:
    """Serves recorded ``GET /orders/{id}`` responses: from ``responses`` (order id ->
    raw JSON bytes/str or a dict), else from ``directory`` (default
    ``settings.NUVEMSHOP_RECORDINGS_DIR``) as ``orders/<id>.json``. It insists on the same
    channel credentials the real API needs, so a misconfigured channel fails the same way."""

    def __init__(
        self,
        responses: Mapping[str, bytes | str | dict[str, Any]] | None = None,
        directory: str | Path | None = None,
    ) -> None:
        self.responses = dict(responses or {})
        directory = directory or getattr(settings, "NUVEMSHOP_RECORDINGS_DIR", "")
        self.directory = Path(directory) if directory else None
        self.calls: list[tuple[str, str]] = []

    def order_get(self, *, channel: Channel, order_id: str) -> dict[str, Any]:
        store_id, _token = _credentials(channel)
        self.calls.append((store_id, str(order_id)))
        recorded = self.responses.get(str(order_id))
        if recorded is None and self.directory is not None:
            path = self.directory / "orders" / f"{order_id}.json"
            if path.is_file():
                recorded = path.read_bytes()
        if recorded is None:
            raise ClientError(f"GET /{store_id}/orders/{order_id} answered 404 (no recording)")
        if isinstance(recorded, dict):
            return recorded
        return decode(recorded.encode() if isinstance(recorded, str) else recorded)


def nuvemshop_client() -> NuvemshopClient:
    """The client ``settings.NUVEMSHOP_CLIENT`` names (a class or factory, no arguments)."""
    factory = import_string(
        getattr(settings, "NUVEMSHOP_CLIENT", "orders.clients.HttpNuvemshopClient")
    )
    return factory()
