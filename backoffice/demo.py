"""The demo loader's clock: run the real services as of a past moment.

``manage.py demo_data`` replays a few months of a shop's life through the services
(orders, shipments, tracking, e-mails, payments, tickets...). Those services stamp
``timezone.now()`` (and ``auto_now_add`` fields), so the loader runs each step inside
``demo_clock(at)``: ``django.utils.timezone.now`` answers ``at`` (plus one microsecond
per call, so rows stay in order) until the block ends. Demo use only, single-threaded;
never in a request or a worker.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.utils import timezone


@contextmanager
def demo_clock(at: datetime) -> Iterator[None]:
    """``timezone.now()`` (and everything built on it) returns ``at`` inside the block."""
    if timezone.is_naive(at):
        raise ValueError("demo_clock needs an aware datetime")
    real_now = timezone.now
    if at > real_now():
        raise ValueError("demo_clock does not run services in the future")
    ticks = itertools.count()

    def now() -> datetime:
        return at + timedelta(microseconds=next(ticks))

    timezone.now = now  # type: ignore[assignment]
    try:
        yield
    finally:
        timezone.now = real_now  # type: ignore[assignment]
