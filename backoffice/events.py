"""Domain events: how a lower app tells higher apps that something happened.

Events are frozen dataclasses carrying ids, never model instances. ``publish`` defers
delivery to ``transaction.on_commit``: a rolled-back change announces nothing, and a
handler always sees the committed rows. Handlers live in each app's ``handlers.py`` and
are registered from ``AppConfig.ready()``; they should only enqueue work (Celery tasks
or outbox rows), never do it inline.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import transaction

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DomainEvent:
    """Base class of every event; subclasses add the ids they carry."""


E = TypeVar("E", bound=DomainEvent)
Handler = Callable[[Any], None]

_handlers: dict[type[DomainEvent], list[Handler]] = defaultdict(list)


def subscribe(event_type: type[E], handler: Callable[[E], None]) -> None:
    """Register ``handler`` for ``event_type``; registering the same one twice is a no-op."""
    if handler not in _handlers[event_type]:
        _handlers[event_type].append(handler)


def unsubscribe(event_type: type[DomainEvent], handler: Handler) -> None:
    if handler in _handlers[event_type]:
        _handlers[event_type].remove(handler)


def publish(event: DomainEvent, *, using: str | None = None) -> None:
    """Deliver ``event`` to its handlers once the current transaction commits."""
    transaction.on_commit(lambda: dispatch(event), using=using)


def dispatch(event: DomainEvent) -> None:
    """Call every handler now. A failing handler is logged and does not stop the others:
    the change is already committed, and durable work goes through outbox rows that a
    periodic sweep picks up again."""
    for handler in list(_handlers[type(event)]):
        try:
            handler(event)
        except Exception:
            logger.exception("event handler %r failed for %r", handler, event)
