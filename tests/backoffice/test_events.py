from dataclasses import dataclass

import pytest
from django.db import transaction

from backoffice import events


@dataclass(frozen=True)
class Pinged(events.DomainEvent):
    thing_id: int


@pytest.fixture
def received():
    got: list[Pinged] = []

    def handler(event: Pinged) -> None:
        got.append(event)

    events.subscribe(Pinged, handler)
    yield got
    events.unsubscribe(Pinged, handler)


@pytest.mark.django_db
def test_event_is_delivered_after_commit(received, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        events.publish(Pinged(thing_id=7))
        assert received == []  # not before the commit

    assert received == [Pinged(thing_id=7)]


@pytest.mark.django_db(transaction=True)
def test_rolled_back_change_announces_nothing(received):
    with pytest.raises(RuntimeError), transaction.atomic():
        events.publish(Pinged(thing_id=8))
        raise RuntimeError("boom")

    assert received == []


@pytest.mark.django_db(transaction=True)
def test_a_failing_handler_does_not_stop_the_others(received):
    def broken(event: Pinged) -> None:
        raise ValueError("handler bug")

    events.subscribe(Pinged, broken)
    try:
        with transaction.atomic():
            events.publish(Pinged(thing_id=9))
    finally:
        events.unsubscribe(Pinged, broken)

    assert received == [Pinged(thing_id=9)]
