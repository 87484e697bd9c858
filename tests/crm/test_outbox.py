"""The notification outbox: written in the caller's transaction, sent once after commit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db import OperationalError, transaction
from django.utils import timezone

from crm.models import Notification
from crm.services import notification_queue, notification_send, notification_sweep
from crm.tasks import notification_send_task
from tests.factories.crm import order_context

pytestmark = pytest.mark.django_db


def _queue(customer, kind="order_received", **kw):
    defaults = dict(
        kind=kind,
        to_email=customer.email,
        language="pt-br",
        dedupe_key=f"order:1:{kind}",
        context=order_context(),
        customer_id=customer.pk,
        order_id=1,
    )
    defaults.update(kw)
    return notification_queue(**defaults)


def test_row_is_written_in_the_callers_transaction_and_sent_after_commit(
    customer, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notification = _queue(customer)
        # the row exists inside the transaction, nothing went out yet
        assert Notification.objects.filter(pk=notification.pk).exists()
        assert mailoutbox == []
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT
    assert notification.sent_at is not None
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["maria@example.com"]
    assert "1001" in message.subject
    assert message.alternatives[0][1] == "text/html"
    assert "Loja Teste" in message.alternatives[0][0]
    assert message.extra_headers["X-Retaguarda-Notification"] == str(notification.pk)


def test_a_rolled_back_transaction_sends_nothing(
    customer, mailoutbox, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        _queue(customer)
        raise RuntimeError("order failed")
    assert callbacks == []
    assert not Notification.objects.exists()
    assert mailoutbox == []


def test_the_same_dedupe_key_gives_one_row(customer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = _queue(customer)
        second = _queue(customer, context=order_context(order_number="other"))
    assert first is not None
    assert second is None
    assert Notification.objects.count() == 1
    assert len(mail.outbox) == 1


def test_running_the_task_twice_sends_one_email(customer, mailoutbox):
    notification = _queue(customer)  # no commit callbacks run here
    assert mailoutbox == []

    first = notification_send_task.apply(args=[notification.pk]).get()
    second = notification_send_task.apply(args=[notification.pk]).get()

    assert (first, second) == ("sent", "already")
    assert len(mailoutbox) == 1
    notification.refresh_from_db()
    assert notification.attempts == 1


def test_a_broker_down_at_commit_does_not_reach_the_caller_and_the_sweep_sends_later(
    customer, mailoutbox, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to redis: Connection refused")

    monkeypatch.setattr(notification_send_task, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        notification = _queue(customer)  # must not raise
    notification.refresh_from_db()
    assert notification.status == Notification.Status.PENDING
    assert mailoutbox == []

    monkeypatch.undo()
    # not stale yet: the sweep leaves it alone
    assert notification_sweep() == 0
    assert notification_sweep(now=timezone.now() + timedelta(minutes=6)) == 1
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT
    assert len(mailoutbox) == 1
    # and a later sweep finds nothing to do
    assert notification_sweep(now=timezone.now() + timedelta(minutes=30)) == 0
    assert len(mailoutbox) == 1


def test_a_scheduled_row_waits_for_its_time(
    customer, mailoutbox, django_capture_on_commit_callbacks
):
    later = timezone.now() + timedelta(days=2)
    with django_capture_on_commit_callbacks(execute=True):
        notification = _queue(customer, kind="delivery_delayed", send_after=later)
    assert mailoutbox == []
    assert notification_send(notification_id=notification.pk) == "not_due"
    assert notification_sweep() == 0

    notification.send_after = timezone.now() - timedelta(seconds=1)
    notification.save(update_fields=["send_after"])
    assert notification_sweep() == 1
    assert len(mailoutbox) == 1


def test_no_email_address_is_logged_as_skipped(customer, mailoutbox):
    notification = _queue(customer, to_email="")
    assert notification.status == Notification.Status.SKIPPED
    assert notification_send(notification_id=notification.pk) == "already"
    assert mailoutbox == []


class FailingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("SMTP down")


def test_an_smtp_failure_is_recorded_and_retried(customer, mailoutbox, settings):
    from crm.services.notifications import NotificationSendError

    notification = _queue(customer)
    settings.EMAIL_BACKEND = "tests.crm.test_outbox.FailingBackend"
    with pytest.raises(NotificationSendError):
        notification_send(notification_id=notification.pk)
    notification.refresh_from_db()
    assert notification.status == Notification.Status.PENDING
    assert notification.attempts == 1
    assert "SMTP down" in notification.last_error

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert notification_send(notification_id=notification.pk) == "sent"
    notification.refresh_from_db()
    assert notification.attempts == 2
    assert notification.last_error == ""


def test_after_the_last_attempt_the_row_fails_for_good(customer, settings):
    notification = _queue(customer)
    settings.EMAIL_BACKEND = "tests.crm.test_outbox.FailingBackend"
    settings.NOTIFICATION_MAX_ATTEMPTS = 1
    assert notification_send(notification_id=notification.pk) == "failed"
    notification.refresh_from_db()
    assert notification.status == Notification.Status.FAILED
    assert notification_sweep(now=timezone.now() + timedelta(hours=1)) == 0


@pytest.mark.parametrize(
    ("language", "expected"),
    [("pt-br", "Recebemos seu pedido"), ("es", "Recibimos tu pedido"), ("en", "We received")],
)
def test_emails_are_rendered_in_the_customers_language(customer, mailoutbox, language, expected):
    notification = _queue(customer, language=language)
    notification_send(notification_id=notification.pk)
    assert expected in mailoutbox[0].subject
    assert expected in mailoutbox[0].body


@pytest.mark.parametrize("kind", Notification.Kind.values)
def test_every_kind_renders_html_and_text(customer, mailoutbox, kind):
    notification = _queue(customer, kind=kind, dedupe_key=f"k:{kind}")
    assert notification_send(notification_id=notification.pk) == "sent"
    message = mailoutbox[-1]
    assert message.subject
    assert "Maria Silva" in message.body
    assert "<html" in message.alternatives[0][0]
    assert "{%" not in message.body


def test_the_shipped_email_links_to_tracking(customer, mailoutbox):
    notification = _queue(customer, kind="shipped")
    notification_send(notification_id=notification.pk)
    assert "https://rastreio.example.com/BR123456789BR" in mailoutbox[0].body
    assert 'href="https://rastreio.example.com/BR123456789BR"' in mailoutbox[0].alternatives[0][0]
