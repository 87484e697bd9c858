"""The reused SMTP connection and the batch send, against a REAL local SMTP server.

One connection carries many e-mails; a connection the server dropped is replaced without
sending anything twice; a failure mid-batch sends the other rows and leaves the failed one
to the retry, which sends it once.
"""

from __future__ import annotations

from datetime import timedelta
from email.policy import compat32

import pytest
from django.core.mail.backends.smtp import EmailBackend
from django.utils import timezone
from hypothesis import example, given
from hypothesis import strategies as st

from crm.models import Notification
from crm.services import (
    notification_retry,
    notification_send,
    notification_sweep,
)
from crm.services.mailer import _SMTP_POLICY, mail_connection_close, mime_bytes
from crm.services.notifications import (
    NotificationSendError,
    notification_message,
    notification_send_batch,
)
from crm.tasks import notification_send_batch_task, notification_send_task
from tests.factories.crm import order_notification
from tests.integration.worker import SmtpSink

pytestmark = pytest.mark.django_db


class RecordingSink(SmtpSink):
    """Also remembers which client connection (peer) carried each message, and refuses
    recipients whose address starts with 'refuse'."""

    def __init__(self) -> None:
        super().__init__()
        self.peers: list[object] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refuse"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.peers.append(session.peer)
        return await super().handle_DATA(server, session, envelope)

    def restart(self) -> None:
        """Stop (dropping every client connection) and listen again on the same port."""
        self.stop()
        self.start()


@pytest.fixture
def sink(settings):
    server = RecordingSink().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 10
    mail_connection_close()
    try:
        yield server
    finally:
        mail_connection_close()
        server.stop()


def _row(pk):
    return Notification.objects.get(pk=pk)


def test_one_connection_carries_many_emails(customer, sink):
    rows = [order_notification(customer, n) for n in range(3)]

    results = [notification_send(notification_id=row.pk) for row in rows]

    assert results == ["sent"] * 3
    assert sink.count() == 3
    assert len(set(sink.peers)) == 1  # one SMTP session for all three


class StampingBackend(EmailBackend):
    """An SMTP backend subclass with a ``_send`` of its own (as one that signs would)."""

    def _send(self, email_message):
        email_message.extra_headers["X-Stamped"] = "yes"
        return super()._send(email_message)  # type: ignore[misc]  # private, not in the stubs


def test_an_smtp_backend_with_its_own_send_is_not_bypassed(customer, sink, settings):
    settings.EMAIL_BACKEND = f"{__name__}.StampingBackend"
    row = order_notification(customer, 1)

    assert notification_send(notification_id=row.pk) == "sent"

    assert sink.header_values("X-Stamped") == ["yes"]


def test_a_dropped_connection_is_probed_and_replaced_sending_once(customer, sink, settings):
    settings.NOTIFICATION_SMTP_PROBE_AFTER_SECONDS = 0  # probe before every reuse
    first, second = order_notification(customer, 1), order_notification(customer, 2)
    assert notification_send(notification_id=first.pk) == "sent"
    # when: the server drops the connection this worker keeps open
    sink.restart()

    # then: the NOOP probe fails, a new connection sends it, once, on the first attempt
    assert notification_send(notification_id=second.pk) == "sent"
    assert sink.header_values("X-Retaguarda-Notification") == [str(first.pk), str(second.pk)]
    assert len(set(sink.peers)) == 2
    assert _row(second.pk).attempts == 1


def test_a_connection_dropped_between_probes_fails_the_attempt_then_sends_once(
    customer, sink, settings
):
    settings.NOTIFICATION_SMTP_PROBE_AFTER_SECONDS = 3600  # reuse without probing
    first, second = order_notification(customer, 1), order_notification(customer, 2)
    assert notification_send(notification_id=first.pk) == "sent"
    sink.restart()

    # when: the send hits the dead connection
    with pytest.raises(NotificationSendError):
        notification_send(notification_id=second.pk)
    # then: nothing went out, the attempt is on the row, and the retry sends it once
    assert sink.count() == 1
    row = _row(second.pk)
    assert (row.status, row.attempts) == ("pending", 1)
    assert notification_send(notification_id=second.pk) == "sent"
    assert notification_send(notification_id=second.pk) == "already"
    assert sink.header_values("X-Retaguarda-Notification") == [str(first.pk), str(second.pk)]
    assert _row(second.pk).attempts == 2


def test_a_connection_is_renewed_after_max_messages(customer, sink, settings):
    settings.NOTIFICATION_SMTP_MAX_MESSAGES = 2
    rows = [order_notification(customer, n) for n in range(5)]
    for row in rows:
        assert notification_send(notification_id=row.pk) == "sent"
    assert sink.count() == 5
    assert len(set(sink.peers)) == 3  # 2 + 2 + 1


def test_a_batch_sends_the_others_and_retries_only_the_failed_row(customer, sink, monkeypatch):
    good = [order_notification(customer, n) for n in (1, 2)]
    refused = order_notification(customer, 3, to_email="refuse@example.com")
    already = order_notification(customer, 4)
    assert notification_send(notification_id=already.pk) == "sent"
    ids = [good[0].pk, refused.pk, good[1].pk, already.pk]

    # when
    outcomes = notification_send_batch(notification_ids=ids)

    # then: the good rows went out once each; the refused one is pending with its error
    # and a back-off of its own, and the batch as a whole did not fail
    assert outcomes == {"sent": 2, "error": 1, "already": 1}
    sent = sink.header_values("X-Retaguarda-Notification")
    assert sorted(sent) == sorted(str(pk) for pk in (already.pk, good[0].pk, good[1].pk))
    row = _row(refused.pk)
    assert (row.status, row.attempts, row.claimed_until) == ("pending", 1, None)
    assert "refuse@example.com" in row.last_error
    assert row.send_after is not None and row.send_after > timezone.now()
    assert all(_row(r.pk).attempts == 1 for r in good)
    # a redelivery of the whole batch sends nothing: the failed row waits for its back-off
    assert notification_send_batch(notification_ids=ids) == {"already": 3, "not_due": 1}
    assert sink.count() == 3
    # once the back-off has passed, the sweep retries that row alone
    Notification.objects.filter(pk=refused.pk).update(
        send_after=timezone.now() - timedelta(seconds=1)
    )
    enqueued: list[int] = []
    monkeypatch.setattr(notification_send_task, "delay", enqueued.append)
    assert notification_sweep() == 1
    assert enqueued == [refused.pk]
    with pytest.raises(NotificationSendError, match=r"refuse@example\.com"):
        notification_send(notification_id=refused.pk)
    assert sink.count() == 3
    row = _row(refused.pk)
    assert (row.status, row.attempts) == ("pending", 2)
    assert all(_row(r.pk).attempts == 1 for r in good)


def test_a_row_failing_its_last_attempt_in_a_batch_fails_for_good_and_staff_can_replay_it(
    customer, sink, settings
):
    settings.NOTIFICATION_MAX_ATTEMPTS = 1
    good = order_notification(customer, 1)
    refused = order_notification(customer, 2, to_email="refuse@example.com")

    outcomes = notification_send_batch(notification_ids=[good.pk, refused.pk])

    assert outcomes == {"sent": 1, "failed": 1}
    row = _row(refused.pk)
    assert (row.status, row.attempts) == ("failed", 1)
    assert "550" in row.last_error
    # the staff action puts it back in the queue (and it is refused again here)
    settings.NOTIFICATION_MAX_ATTEMPTS = 8
    notification_retry(notification_id=refused.pk)
    row = _row(refused.pk)
    assert (row.status, row.attempts, row.send_after) == ("pending", 0, None)
    assert notification_send_batch(notification_ids=[refused.pk]) == {"error": 1}
    assert sink.count() == 1


def test_a_lost_smtp_connection_stops_the_batch_and_releases_the_rest(customer, sink):
    rows = [order_notification(customer, n) for n in range(3)]
    ids = [row.pk for row in rows]
    sink.stop()  # nobody listens: connecting fails

    outcomes = notification_send_batch(notification_ids=ids)

    # then: one attempt is counted, on the first row only; the others are free again for
    # the sweep, without an attempt
    assert outcomes == {"error": 1, "released": 2}
    first = _row(ids[0])
    assert (first.status, first.attempts) == ("pending", 1)
    assert first.last_error
    for pk in ids[1:]:
        row = _row(pk)
        assert (row.status, row.attempts, row.claimed_until, row.enqueued_at) == (
            "pending",
            0,
            None,
            None,
        )
    assert notification_sweep() == 2  # the released rows, at once; the failed one backs off


def test_a_batch_delivered_twice_sends_each_row_once(customer, mailoutbox):
    rows = [order_notification(customer, n) for n in range(4)]
    ids = [row.pk for row in rows]

    first = notification_send_batch_task.apply(args=[ids]).get()
    second = notification_send_batch_task.apply(args=[ids]).get()

    assert first == {"sent": 4}
    assert second == {"already": 4}
    assert len(mailoutbox) == 4


def test_the_sweep_enqueues_batches(customer, mailoutbox, settings, monkeypatch):
    settings.NOTIFICATION_SEND_TASK_ROWS = 2
    rows = [order_notification(customer, n) for n in range(5)]  # no commit hooks run: all pending
    batches: list[list[int]] = []
    singles: list[int] = []
    batch_delay, single_delay = notification_send_batch_task.delay, notification_send_task.delay

    def record_batch(ids):
        batches.append(list(ids))
        return batch_delay(ids)

    def record_single(pk):
        singles.append(pk)
        return single_delay(pk)

    monkeypatch.setattr(notification_send_batch_task, "delay", record_batch)
    monkeypatch.setattr(notification_send_task, "delay", record_single)

    assert notification_sweep(now=timezone.now() + timedelta(minutes=6)) == 5

    ids = [row.pk for row in rows]
    assert batches == [ids[0:2], ids[2:4]]
    assert singles == [ids[4]]  # a batch of one is the plain per-row task
    assert len(mailoutbox) == 5
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}


def test_a_broker_down_during_the_sweep_leaves_the_batch_pending(customer, settings, monkeypatch):
    settings.NOTIFICATION_SEND_BATCH_SIZE = 10
    for n in range(3):
        order_notification(customer, n)

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("redis down")

    monkeypatch.setattr(notification_send_batch_task, "delay", broker_down)
    assert notification_sweep(now=timezone.now() + timedelta(minutes=6)) == 0
    assert set(Notification.objects.values_list("status", flat=True)) == {"pending"}


# --- the bytes on the wire -------------------------------------------------------------

HEADER_NAMES = st.sampled_from(
    ["Subject", "From", "To", "Message-ID", "Content-Type", "X-Retaguarda-Notification"]
)


@given(name=HEADER_NAMES, value=st.text(alphabet=st.characters(codec="ascii"), max_size=120))
@example(name="Subject", value="")
@example(name="Subject", value="  leading and trailing  \t")
@example(name="Subject", value="=?utf-8?q?looks_encoded?=")
@example(name="Subject", value="x" * 70)
@example(name="Subject", value="x" * 71)
@example(name="Subject", value="line\r\nbreak")
def test_the_short_header_policy_writes_what_compat32_writes(name, value):
    assert _folded(_SMTP_POLICY, name, value) == _folded(
        compat32.clone(linesep="\r\n"), name, value
    )


def _folded(policy, name, value):
    """The header's bytes, or the error (compat32 refuses some values)."""
    try:
        return policy.fold_binary(name, value)
    except Exception as exc:
        return type(exc), str(exc)


@pytest.mark.parametrize("subject", ["Pedido 1001 enviado", "Seu pedido nº 1001 está a caminho"])
def test_a_status_email_goes_out_as_djangos_backend_would_write_it(customer, subject):
    message = notification_message(order_notification(customer, 1))
    message.subject = subject
    mime = message.message()
    mime.set_boundary("===============fixed==")

    assert mime_bytes(mime) == mime.as_bytes(linesep="\r\n")
