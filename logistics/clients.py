"""Carrier tracking APIs behind one small interface.

``TrackingClient.fetch(tracking_code)`` returns the parcel's events as TrackingUpdate
objects. ``JsonHttpTrackingClient`` is a real, generic JSON-over-HTTP client configured by
the carrier's URL template (``Carrier.api_url_template``, e.g.
``https://api.carrier.example/v1/tracking/{code}``) and bearer token; it reads a body
``{"events": [{"code", "occurred_at", "kind"|"status", "description", "location"}]}`` (or a
bare list), which is the shape of most aggregators (and what a small adapter in front of
Correios' SRO API can produce). ``RecordedTrackingClient`` answers from recorded bodies for
tests and demos: nothing leaves the machine.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any, Protocol

from logistics.models import Carrier
from logistics.services.tracking import TrackingParseError, TrackingUpdate, update_from_dict


class TrackingClientError(Exception):
    """The carrier could not be asked (network, HTTP error, unreadable body)."""


class TrackingClient(Protocol):
    def fetch(self, tracking_code: str) -> list[TrackingUpdate]: ...


def updates_from_body(tracking_code: str, body: Any) -> list[TrackingUpdate]:
    events = body.get("events", []) if isinstance(body, dict) else body
    if not isinstance(events, list):
        raise TrackingClientError("no events list in the carrier's answer")
    updates = []
    for i, item in enumerate(events):
        if isinstance(item, dict):
            item = {"tracking_code": tracking_code, **item}
        try:
            updates.append(update_from_dict(item, prefix=f"events[{i}]."))
        except TrackingParseError as exc:
            raise TrackingClientError(f"bad event: {exc.errors}") from exc
    return updates


class JsonHttpTrackingClient:
    def __init__(self, *, url_template: str, token: str = "", timeout: float = 10) -> None:
        if "{code}" not in url_template:
            raise ValueError("url_template must contain {code}")
        if not url_template.startswith(("http://", "https://")):
            raise ValueError("url_template must be an http(s) URL")
        self.url_template = url_template
        self.token = token
        self.timeout = timeout

    @classmethod
    def for_carrier(cls, carrier: Carrier) -> JsonHttpTrackingClient:
        return cls(url_template=carrier.api_url_template, token=carrier.api_token)

    def fetch(self, tracking_code: str) -> list[TrackingUpdate]:
        url = self.url_template.replace("{code}", urllib.parse.quote(tracking_code, safe=""))
        headers = {"Accept": "application/json", "User-Agent": "Retaguarda-Tracking/1"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(url, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                body = json.loads(response.read().decode("utf-8"))
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise TrackingClientError(f"{url}: {exc}") from exc
        return updates_from_body(tracking_code, body)


class RecordedTrackingClient:
    """Answers from recorded carrier bodies: ``{tracking_code: body}``."""

    def __init__(self, responses: Mapping[str, Any]) -> None:
        self.responses = dict(responses)
        self.calls: list[str] = []

    def fetch(self, tracking_code: str) -> list[TrackingUpdate]:
        self.calls.append(tracking_code)
        if tracking_code not in self.responses:
            raise TrackingClientError(f"no recorded answer for {tracking_code}")
        return updates_from_body(tracking_code, self.responses[tracking_code])
