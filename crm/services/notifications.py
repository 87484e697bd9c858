"""The notification outbox: queue in the caller's transaction, send from a worker.

Exactly-once, as far as SMTP allows. ``notification_queue`` writes the row inside the
caller's transaction and enqueues ``notification_send_task`` on commit, so a rolled-back
change sends nothing. ``notification_send`` locks the row (``SELECT ... FOR UPDATE SKIP
LOCKED``), skips it when it is already sent/skipped or not yet due, hands the message to
SMTP and marks it sent *in the same transaction*. A redelivered task (acks_late, worker
lost, sweep) therefore finds the row sent, or locked by the worker sending it, and sends
nothing. The one gap left is a crash after the SMTP server accepted the message and before
our COMMIT: the row rolls back to pending and is sent again. That window is the length of a
COMMIT; every copy carries the same Message-ID so mail clients can fold it. Closing it
entirely needs an idempotent provider API, which SMTP is not.

``notification_send_batch`` (the sweep's batch task) trades that one-COMMIT window for
throughput: it claims a chunk of rows in one committed UPDATE, sends them over one SMTP
connection and marks them sent in one UPDATE -- two COMMITs per chunk instead of one per
e-mail. A crash between the SMTP hand-offs and the marking COMMIT resends at most that
chunk, once its claim runs out.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import random
import smtplib
import threading
import time
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import connections, router, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from backoffice import sql
from crm.models import MARKETING_KINDS, Customer, Notification
from crm.services.audit import audit_record
from crm.services.mailer import mail_send

logger = logging.getLogger(__name__)

Kind = Notification.Kind
Status = Notification.Status

SUBJECTS: dict[str, Any] = {
    Kind.ORDER_RECEIVED: _("We received your order #%(order_number)s"),
    Kind.PAYMENT_CONFIRMED: _("Payment confirmed for order #%(order_number)s"),
    Kind.SHIPPED: _("Your order #%(order_number)s is on its way"),
    Kind.DELIVERY_DELAYED: _("Your order #%(order_number)s is running late"),
    Kind.DELIVERED: _("Your order #%(order_number)s was delivered"),
    Kind.CANCELLED: _("Your order #%(order_number)s was cancelled"),
    Kind.REFUND_ISSUED: _("Refund issued for order #%(order_number)s"),
    Kind.SURVEY: _("How was your order #%(order_number)s?"),
    Kind.REVIEW_REQUEST: _("Would you review your purchase at %(store_name)s?"),
    Kind.REPURCHASE_REMINDER: _("Time to restock %(product_name)s?"),
}

UNSUBSCRIBE_SALT = "crm.unsubscribe"
SURVEY_SALT = "crm.survey"


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def language_normalize(language: str | None) -> str:
    """'pt-BR', 'pt_BR', 'pt' -> 'pt-br'; 'es-AR' -> 'es'; unknown -> the site default."""
    code = (language or "").strip().lower().replace("_", "-")
    known = {value for value, _label in Customer.Language.choices}
    if code in known:
        return code
    base = code.split("-")[0]
    if base == "pt":
        return Customer.Language.PT_BR
    if base in known:
        return base
    return settings.LANGUAGE_CODE if settings.LANGUAGE_CODE in known else "pt-br"


def notification_queue(
    *,
    kind: str,
    to_email: str,
    language: str,
    dedupe_key: str,
    context: dict[str, Any],
    customer_id: int | None = None,
    order_id: int | None = None,
    send_after: datetime | None = None,
) -> Notification | None:
    """Write an outbox row in the caller's transaction and send it after commit.

    Returns None when a row with ``dedupe_key`` already exists (nothing is queued twice).
    A row with ``send_after`` in the future waits for the sweep. A 'delivered' row also
    schedules the satisfaction survey and the re-purchase reminders of its lines.
    Never raises because the broker is down: the row stays pending for the sweep.

    One statement on the hot path (every new order): ``INSERT ... ON CONFLICT
    (dedupe_key) DO NOTHING RETURNING id``. A single statement is atomic on its own, so
    it needs no savepoint, and a concurrent caller with the same key waits for the first
    one's transaction and then inserts nothing.
    """
    if kind not in Kind.values:
        raise ValueError(f"unknown notification kind: {kind!r}")
    # A 'delivered' row and the survey/reminders it schedules go in together or not at
    # all, so a repeated event (which finds the row and returns None) cannot miss them.
    together = transaction.atomic() if kind == Kind.DELIVERED else contextlib.nullcontext()
    with together:
        return _queue_one(
            kind=kind,
            to_email=to_email,
            language=language,
            dedupe_key=dedupe_key,
            context=context,
            customer_id=customer_id,
            order_id=order_id,
            send_after=send_after,
        )


def _queue_one(
    *,
    kind: str,
    to_email: str,
    language: str,
    dedupe_key: str,
    context: dict[str, Any],
    customer_id: int | None,
    order_id: int | None,
    send_after: datetime | None,
) -> Notification | None:
    now = timezone.now()
    due = send_after is None or send_after <= now
    status = Status.PENDING
    last_error = ""
    if not to_email:
        status, last_error = Status.SKIPPED, "no e-mail address"
    notification = Notification(
        kind=kind,
        to_email=(to_email or "").strip(),
        language=language_normalize(language),
        dedupe_key=dedupe_key,
        context=context or {},
        customer_id=customer_id,
        order_id=order_id,
        send_after=send_after,
        status=status,
        last_error=last_error,
        created_at=now,
        updated_at=now,
    )
    window = _enqueue_window.plan() if due and status == Status.PENDING else None
    if window == 0:
        notification.enqueued_at = now
    # One statement, atomic on its own: no savepoint; a duplicate key inserts nothing.
    if not sql.insert(notification, on_conflict_nothing=("dedupe_key",)):
        return None
    if window == 0:
        notification_id = notification.pk
        transaction.on_commit(lambda: notification_enqueue(notification_id=notification_id))
    elif window is not None:
        # Left un-enqueued (enqueued_at NULL): the window's one sweep sends it.
        transaction.on_commit(lambda: _enqueue_window.flush(window))
    if kind == Kind.DELIVERED:
        _schedule_after_delivery(notification, now=now)
    return notification


class _EnqueueWindow:
    """Under a burst of new e-mails, one broker round trip per window instead of one per
    e-mail (a Celery publish cost ~1-1.8 ms of CPU per order in bench/ingest.py, more
    than any statement of the order's transaction).

    Per process, NOTIFICATION_ENQUEUE_WINDOW_SECONDS (0: off; always off when Celery runs
    eagerly). The first e-mail of a window is enqueued on commit as always. The others
    of that window are stored with ``enqueued_at`` NULL, and the first of them to commit
    schedules one ``notification_sweep`` for the window's end plus a second; the sweep
    enqueues every un-enqueued due row in batch tasks. At a trickle every e-mail still
    goes at once; in a burst an e-mail waits at most the window and a second. A row the
    window's sweep misses (its transaction committed after the sweep ran; the broker was
    down) is sent by the next window's sweep or the periodic one (beat, every minute):
    late, never lost."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ends = 0.0  # monotonic end of the current window
        self._window = 0  # number of the current window; 0 = none yet
        self._flushed = 0  # the last window whose sweep is scheduled

    @staticmethod
    def seconds() -> float:
        if current_app.conf.task_always_eager:
            return 0.0
        return float(_setting("NOTIFICATION_ENQUEUE_WINDOW_SECONDS", 0))

    def plan(self) -> int:
        """0: enqueue this row on commit (it opens a window); N: leave it to window N's
        sweep."""
        seconds = self.seconds()
        if seconds <= 0:
            return 0
        now = time.monotonic()
        with self._lock:
            if now >= self._ends:
                self._window += 1
                self._ends = now + seconds
                return 0
            return self._window

    def flush(self, window: int) -> None:
        """On commit of a deferred row: schedule its window's sweep, once."""
        with self._lock:
            if self._flushed >= window:
                return
            self._flushed = window
            delay = max(self._ends - time.monotonic(), 0.0) + 1.0
        from crm.tasks import notification_sweep_task

        try:
            notification_sweep_task.apply_async(countdown=delay)
        except Exception:
            logger.exception("could not schedule the outbox sweep; the periodic one will run")


_enqueue_window = _EnqueueWindow()


def notification_enqueue(*, notification_id: int) -> bool:
    """Hand the send task to the broker; on failure log and leave the row to the sweep."""
    from crm.tasks import notification_send_task

    try:
        notification_send_task.delay(notification_id)
    except Exception:
        logger.exception("could not enqueue notification %s; the sweep will retry", notification_id)
        return False
    return True


def notification_enqueue_many(*, notification_ids: list[int]) -> int:
    """Enqueue rows in tasks of NOTIFICATION_SEND_TASK_ROWS (one Celery message per task
    instead of per e-mail; the task sends them in chunks of NOTIFICATION_SEND_BATCH_SIZE,
    see ``notification_send_batch``); a task of one row is the plain per-row task. On a
    broker failure the rows of that task are left to the sweep. Returns how many rows
    were enqueued."""
    from crm.tasks import notification_send_batch_task

    size = max(int(_setting("NOTIFICATION_SEND_TASK_ROWS", 100)), 1)
    enqueued = 0
    for start in range(0, len(notification_ids), size):
        chunk = notification_ids[start : start + size]
        if len(chunk) == 1:
            enqueued += notification_enqueue(notification_id=chunk[0])
            continue
        try:
            notification_send_batch_task.delay(chunk)
        except Exception:
            logger.exception("could not enqueue notifications %s; the sweep will retry", chunk)
            continue
        enqueued += len(chunk)
    return enqueued


def _schedule_after_delivery(delivered: Notification, *, now: datetime) -> None:
    context = delivered.context or {}
    delivered_at = _parse_dt(context.get("delivered_at")) or now
    anchor = f"order:{delivered.order_id}" if delivered.order_id else f"n:{delivered.pk}"
    base_context = {
        key: context[key]
        for key in ("order_number", "order_id", "store_name", "customer_name")
        if key in context
    }
    notification_queue(
        kind=Kind.SURVEY,
        dedupe_key=f"{anchor}:survey",
        context=base_context,
        send_after=delivered_at + timedelta(days=_setting("SURVEY_DELAY_DAYS", 7)),
        to_email=delivered.to_email,
        language=delivered.language,
        customer_id=delivered.customer_id,
        order_id=delivered.order_id,
    )
    lead = _setting("REPURCHASE_LEAD_DAYS", 5)
    for line in context.get("lines") or []:
        days = line.get("consumption_days")
        sku = line.get("sku")
        if not days or not sku:
            continue
        try:
            days = int(days)
        except (TypeError, ValueError):
            continue
        notification_queue(
            kind=Kind.REPURCHASE_REMINDER,
            dedupe_key=f"{anchor}:repurchase_reminder:{sku}",
            context={
                **base_context,
                "product_name": line.get("name") or sku,
                "line": {k: line.get(k) for k in ("sku", "name", "quantity")},
            },
            send_after=delivered_at + timedelta(days=max(days - lead, 0)),
            to_email=delivered.to_email,
            language=delivered.language,
            customer_id=delivered.customer_id,
            order_id=delivered.order_id,
        )


def _parse_dt(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        parsed = parse_datetime(value)
        if parsed is not None and timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed)
        return parsed
    return None


# --- sending ---------------------------------------------------------------------------


class NotificationSendError(Exception):
    """SMTP (or rendering) failed; the task retries with back-off."""


def notification_send(*, notification_id: int) -> str:
    """Send one outbox row if it is still due; safe to run any number of times.

    Returns what happened: 'sent', 'skipped', 'already' (sent/skipped/failed before),
    'not_due', 'locked' (another worker is sending it now) or 'missing'. Raises
    NotificationSendError after recording the error, so the task can retry.
    """
    error: Exception | None = None
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("customer")
            .filter(pk=notification_id)
            .first()
        )
        if notification is None:
            exists = Notification.objects.filter(pk=notification_id).exists()
            return "locked" if exists else "missing"
        if notification.status != Status.PENDING:
            return "already"
        now = timezone.now()
        if notification.send_after and notification.send_after > now:
            return "not_due"
        if notification.claimed_until and notification.claimed_until > now:
            return "locked"  # a batch send holds it (notification_send_batch)
        reason = _skip_reason(notification)
        if reason:
            notification.status = Status.SKIPPED
            notification.last_error = reason
            notification.save(update_fields=["status", "last_error", "updated_at"])
            return "skipped"
        notification.attempts += 1
        try:
            message = notification_message(notification)
            notification.subject = message.subject[:255]
            _deliver(message)
        except Exception as exc:
            error = exc
            notification.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if notification.attempts >= _setting("NOTIFICATION_MAX_ATTEMPTS", 8):
                notification.status = Status.FAILED
            notification.save(update_fields=["attempts", "last_error", "status", "updated_at"])
        else:
            notification.status = Status.SENT
            notification.sent_at = now
            notification.last_error = ""
            notification.save(
                update_fields=[
                    "attempts",
                    "subject",
                    "status",
                    "sent_at",
                    "last_error",
                    "updated_at",
                ]
            )
    if error is not None:
        if notification.status == Status.FAILED:
            logger.error("notification %s failed for good: %s", notification_id, error)
            return "failed"
        raise NotificationSendError(str(error)) from error
    return "sent"


def notification_send_batch(*, notification_ids: list[int]) -> dict[str, int]:
    """Send several outbox rows over this worker's one SMTP connection, with two commits
    per chunk of NOTIFICATION_SEND_BATCH_SIZE rows instead of one per row. Returns a count
    per outcome (those of ``notification_send``, plus 'error' and 'released').

    Per chunk: one UPDATE claims the rows that are pending, due and not claimed
    (``claimed_until`` = now + NOTIFICATION_CLAIM_SECONDS, the candidates taken ``FOR
    UPDATE SKIP LOCKED``) and commits; one SELECT reads them; each is rendered and handed
    to SMTP; one UPDATE marks the sent ones sent and commits. The per-row task and other
    batches skip a claimed row, so a normal run sends each e-mail once.

    A worker that dies after the SMTP server took some messages and before the marking
    COMMIT leaves them claimed; when the claim runs out the sweep re-enqueues them and
    they go out again: at most one chunk of duplicates per crash (each copy carries the
    same Message-ID). A worker that is still alive stops sending from a claim once half
    of it has passed and releases the rest, so a claim never runs out under a live sender.

    A row that fails (recipient refused, rendering error) is recorded on its own: the
    attempt is counted, the error kept, and it is retried by the sweep after a back-off
    (``send_after``), or marked failed after NOTIFICATION_MAX_ATTEMPTS; the other rows are
    sent. When the connection to the SMTP server is lost, the rest of the chunk is
    released without counting an attempt and left to the sweep.

    Must run outside a transaction (a Celery worker): each claim and mark commits.
    """
    size = max(int(_setting("NOTIFICATION_SEND_BATCH_SIZE", 20)), 1)
    outcomes: dict[str, int] = {}
    ids = list(dict.fromkeys(notification_ids))
    for start in range(0, len(ids), size):
        for outcome, n in _send_chunk(ids[start : start + size]).items():
            outcomes[outcome] = outcomes.get(outcome, 0) + n
    return outcomes


def _send_chunk(ids: list[int]) -> dict[str, int]:
    outcomes: dict[str, int] = {}

    def count(outcome: str, n: int = 1) -> None:
        if n:
            outcomes[outcome] = outcomes.get(outcome, 0) + n

    claim_seconds = float(_setting("NOTIFICATION_CLAIM_SECONDS", 300))
    now = timezone.now()
    claimed = _claim(ids, now=now, until=now + timedelta(seconds=claim_seconds))
    if len(claimed) < len(ids):
        for outcome, n in _unclaimed_outcomes(set(ids) - set(claimed), now=now).items():
            count(outcome, n)
    if not claimed:
        return outcomes
    rows = Notification.objects.select_related("customer").in_bulk(claimed)
    stop_at = time.monotonic() + claim_seconds / 2
    sent: dict[int, str] = {}  # id -> subject
    skipped: dict[str, list[int]] = {}
    release: list[int] = []
    try:
        for position, notification_id in enumerate(claimed):
            notification = rows.get(notification_id)
            if notification is None:
                count("missing")
                continue
            if time.monotonic() > stop_at:
                release.extend(claimed[position:])
                break
            reason = _skip_reason(notification)
            if reason:
                skipped.setdefault(reason, []).append(notification_id)
                continue
            try:
                message = notification_message(notification)
                _deliver(message)
            except Exception as exc:
                count(_record_failure(notification, exc))
                if _connection_lost(exc):
                    release.extend(claimed[position + 1 :])
                    break
                continue
            sent[notification_id] = message.subject[:255]
    finally:
        # Also on the way out of an unexpected error: what went out is marked sent.
        _mark(sent=sent, skipped=skipped, release=release)
    count("sent", len(sent))
    count("skipped", sum(len(v) for v in skipped.values()))
    count("released", len(release))
    return outcomes


def _claim(ids: list[int], *, now: datetime, until: datetime) -> list[int]:
    """One UPDATE ... RETURNING: the rows of ``ids`` that are pending, due and not held
    by another sender, now held until ``until``. In ``ids`` order."""
    connection = connections[router.db_for_write(Notification)]
    table = connection.ops.quote_name(Notification._meta.db_table)
    adapt = connection.ops.adapt_datetimefield_value
    lock = (
        " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    )
    marks = ", ".join(["%s"] * len(ids))
    sql = (
        f"UPDATE {table} SET claimed_until = %s WHERE id IN ("  # noqa: S608 - names from the model, values are parameters
        f"SELECT id FROM {table} WHERE id IN ({marks}) AND status = %s"
        " AND (send_after IS NULL OR send_after <= %s)"
        f" AND (claimed_until IS NULL OR claimed_until <= %s){lock}"
        ") RETURNING id"
    )
    params = [adapt(until), *ids, Status.PENDING, adapt(now), adapt(now)]
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute(sql, params)
        got = {row[0] for row in cursor.fetchall()}
    return [pk for pk in ids if pk in got]


def _unclaimed_outcomes(ids: set[int], *, now: datetime) -> dict[str, int]:
    """Why the claim did not take these rows (a redelivered or duplicate task)."""
    outcomes: dict[str, int] = {}
    found = Notification.objects.filter(pk__in=ids).values_list("status", "send_after")
    seen = 0
    for status, send_after in found:
        seen += 1
        if status != Status.PENDING:
            outcome = "already"
        elif send_after and send_after > now:
            outcome = "not_due"
        else:
            outcome = "locked"  # claimed by another sender, or its row lock held
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    if len(ids) > seen:
        outcomes["missing"] = len(ids) - seen
    return outcomes


def _mark(*, sent: dict[int, str], skipped: dict[str, list[int]], release: list[int]) -> None:
    """One UPDATE for the sent rows (plus one per skip reason and one for released rows,
    both rare), in one transaction: one COMMIT for the chunk."""
    if not (sent or skipped or release):
        return
    now = timezone.now()
    held = Notification.objects.filter(status=Status.PENDING)
    with transaction.atomic():
        if sent:
            _mark_sent(sent, now=now)
        for reason, skipped_ids in skipped.items():
            held.filter(pk__in=skipped_ids).update(
                status=Status.SKIPPED, last_error=reason, claimed_until=None, updated_at=now
            )
        if release:
            held.filter(pk__in=release).update(claimed_until=None, enqueued_at=None)


def _mark_sent(sent: dict[int, str], *, now: datetime) -> None:
    """One UPDATE, each row with its own subject. Written out because the ORM's
    ``Case(When(pk=...), ...)`` for twenty rows costs more to compile than the statement
    costs to run."""
    connection = connections[router.db_for_write(Notification)]
    table = connection.ops.quote_name(Notification._meta.db_table)
    adapt = connection.ops.adapt_datetimefield_value
    values = ", ".join(["(CAST(%s AS bigint), %s)"] * len(sent))
    sql = (
        f"WITH sent (id, subject) AS (VALUES {values}) "  # noqa: S608 - names from the model, values are parameters
        f"UPDATE {table} SET status = %s, sent_at = %s, updated_at = %s, "
        "attempts = attempts + 1, last_error = '', claimed_until = NULL, "
        f"subject = (SELECT sent.subject FROM sent WHERE sent.id = {table}.id) "
        "WHERE id IN (SELECT id FROM sent) AND status = %s"
    )
    params: list[Any] = [value for pk, subject in sent.items() for value in (pk, subject)]
    params += [Status.SENT, adapt(now), adapt(now), Status.PENDING]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _record_failure(notification: Notification, exc: Exception) -> str:
    """Count the attempt and keep the error on the row (its own UPDATE and COMMIT); the
    sweep retries it after a back-off, or it fails for good after the last attempt.
    Returns the outcome: 'error' or 'failed'."""
    attempts = notification.attempts + 1
    error = f"{type(exc).__name__}: {exc}"[:2000]
    now = timezone.now()
    changes: dict[str, Any] = {
        "attempts": attempts,
        "last_error": error,
        "claimed_until": None,
        "updated_at": now,
    }
    if attempts >= _setting("NOTIFICATION_MAX_ATTEMPTS", 8):
        changes["status"] = Status.FAILED
        logger.error("notification %s failed for good: %s", notification.pk, error)
    else:
        # Celery's retry_backoff for the per-row task: 30 s doubling, capped, jittered.
        backoff = min(30 * 2 ** (attempts - 1), 1800)
        jitter = random.uniform(backoff / 2, backoff)
        changes["send_after"] = now + timedelta(seconds=jitter)
        changes["enqueued_at"] = None
        logger.warning(
            "notification %s not sent (attempt %s): %s", notification.pk, attempts, error
        )
    Notification.objects.filter(pk=notification.pk, status=Status.PENDING).update(**changes)
    return "failed" if changes.get("status") == Status.FAILED else "error"


def _connection_lost(exc: Exception) -> bool:
    """True when the SMTP session itself broke (server gone, network, timeout), as
    opposed to the server refusing this one message; the session is dropped either way
    (crm.services.mailer), but only a lost connection stops the chunk."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused | smtplib.SMTPResponseException):
        return False
    return isinstance(exc, OSError)  # smtplib.SMTPException is an OSError too


def _deliver(message: EmailMultiAlternatives) -> None:
    """The SMTP hand-off, on this worker's reused connection (crm.services.mailer); a seam
    the worker integration test slows down."""
    mail_send(message)


def _skip_reason(notification: Notification) -> str:
    if not notification.to_email:
        return "no e-mail address"
    customer = notification.customer
    if customer is not None and customer.erased_at is not None:
        return "customer data erased"
    if notification.kind in MARKETING_KINDS:
        if marketing_opted_out(email=notification.to_email, customer=customer):
            return "customer opted out of marketing e-mail"
        if (
            _setting("MARKETING_REQUIRES_OPT_IN", False)
            and customer is not None
            and not customer.marketing_opt_in
        ):
            return "customer did not opt in to marketing e-mail"
    return ""


def notification_message(notification: Notification) -> EmailMultiAlternatives:
    """Render the e-mail (subject, text and HTML) in the notification's language."""
    context = notification_template_context(notification)
    template = f"crm/email/{notification.kind}"
    with translation.override(notification.language or settings.LANGUAGE_CODE):
        subject = str(SUBJECTS[notification.kind]) % _SafeDict(context)
        context["subject"] = subject
        text = render_to_string(f"{template}.txt", context)
        html = render_to_string(f"{template}.html", context)
    headers = {
        "Message-ID": _message_id(notification),
        "X-Retaguarda-Notification": str(notification.pk),
    }
    if "unsubscribe_url" in context:
        headers["List-Unsubscribe"] = f"<{context['unsubscribe_url']}>"
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.to_email],
        headers=headers,
    )
    message.attach_alternative(html, "text/html")
    return message


class _SafeDict(dict):
    def __missing__(self, key: str) -> str:
        return ""


def _message_id(notification: Notification) -> str:
    digest = hashlib.sha256(notification.dedupe_key.encode()).hexdigest()[:16]
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(" >") or "retaguarda.local"
    return f"<n{notification.pk}.{digest}@{domain}>"


def notification_template_context(notification: Notification) -> dict[str, Any]:
    ctx: dict[str, Any] = dict(notification.context or {})
    ctx.setdefault("store_name", settings.STORE_NAME)
    ctx["store_name"] = ctx["store_name"] or settings.STORE_NAME
    ctx.setdefault("customer_name", notification.customer.name if notification.customer else "")
    ctx["store_logo_url"] = _setting("STORE_LOGO_URL", "")
    ctx.setdefault("store_url", _setting("STORE_URL", ""))
    ctx.setdefault("review_url", _setting("STORE_REVIEW_URL", "") or ctx["store_url"])
    ctx["site_url"] = settings.SITE_URL.rstrip("/")
    ctx["notification"] = notification
    ctx["kind"] = notification.kind
    if notification.kind in MARKETING_KINDS:
        ctx["unsubscribe_url"] = ctx["site_url"] + reverse(
            "crm:unsubscribe", args=[unsubscribe_token_make(notification_id=notification.pk)]
        )
    if notification.kind == Kind.SURVEY:
        url = ctx["site_url"] + reverse(
            "crm:survey", args=[survey_token_make(notification_id=notification.pk)]
        )
        ctx["survey_url"] = url
        ctx["survey_scores"] = [(n, f"{url}?score={n}") for n in range(11)]
    return ctx


def survey_token_make(*, notification_id: int) -> str:
    return signing.TimestampSigner(salt=SURVEY_SALT).sign(str(notification_id))


def unsubscribe_token_make(*, notification_id: int) -> str:
    """Signed, and naming the e-mail it came in rather than the address itself, so the
    address never shows up in URLs and access logs."""
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign(str(notification_id))


def unsubscribe_token_read(token: str) -> str:
    """The address the e-mail behind a valid token went to; raises signing.BadSignature
    (also when that address was erased since)."""
    notification_id = int(signing.Signer(salt=UNSUBSCRIBE_SALT).unsign(token))
    email = (
        Notification.objects.filter(pk=notification_id).values_list("to_email", flat=True).first()
    )
    if not email:
        raise signing.BadSignature("unknown or erased")
    return email


def marketing_opted_out(*, email: str, customer: Customer | None = None) -> bool:
    if customer is not None and customer.marketing_opted_out_at is not None:
        return True
    email = email.strip().lower()
    return (
        bool(email)
        and Customer.objects.filter(
            email__iexact=email, marketing_opted_out_at__isnull=False
        ).exists()
    )


@transaction.atomic
def marketing_opt_out(*, email: str, source: str = "unsubscribe_link") -> int:
    """Stop marketing e-mail to every customer with this address; returns how many
    customers changed. Order e-mails keep going. Pending marketing rows are skipped."""
    email = email.strip().lower()
    now = timezone.now()
    changed = 0
    for customer in Customer.objects.select_for_update().filter(
        email__iexact=email, marketing_opted_out_at__isnull=True
    ):
        customer.marketing_opted_out_at = now
        customer.marketing_opt_in = False
        customer.save(update_fields=["marketing_opted_out_at", "marketing_opt_in", "updated_at"])
        audit_record(
            action="marketing_opt_out",
            object_type="customer",
            object_id=customer.pk,
            customer_id=customer.pk,
            data={"source": source},
        )
        changed += 1
    Notification.objects.filter(
        to_email__iexact=email, status=Status.PENDING, kind__in=list(MARKETING_KINDS)
    ).update(status=Status.SKIPPED, last_error="customer opted out of marketing e-mail")
    return changed


# --- sweep and staff actions -------------------------------------------------------------


def notification_sweep(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Re-enqueue pending rows that are due and were not enqueued in the last
    NOTIFICATION_SWEEP_AFTER_MINUTES (broker down at commit, worker lost, scheduled rows
    that just came due, rows a batch send failed or released) and are not held by a live
    batch claim (a dead sender's claim runs out after NOTIFICATION_CLAIM_SECONDS).
    Returns how many were enqueued."""
    now = now or timezone.now()
    stale = now - timedelta(minutes=_setting("NOTIFICATION_SWEEP_AFTER_MINUTES", 5))
    # Picked and marked in one transaction, skipping rows another sweep is marking right
    # now: concurrent sweeps (one per enqueue window and process, and beat's) enqueue
    # each row once.
    with transaction.atomic():
        ids = list(
            Notification.objects.filter(status=Status.PENDING)
            .filter(Q(send_after__isnull=True) | Q(send_after__lte=now))
            .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=stale))
            # a live batch claim: its sender is still at it (a dead one's claim runs out)
            .exclude(claimed_until__gt=now)
            .order_by("id")
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)[:limit]
        )
        if not ids:
            return 0
        Notification.objects.filter(pk__in=ids).update(enqueued_at=now)
    return notification_enqueue_many(notification_ids=ids)


@transaction.atomic
def notification_retry(*, notification_id: int, actor: Any = None) -> Notification:
    """Put a failed or skipped row back in the queue (staff action)."""
    notification = Notification.objects.select_for_update().get(pk=notification_id)
    if notification.status == Status.SENT:
        from backoffice.errors import ConflictError

        raise ConflictError(str(_("This e-mail was already sent.")))
    old = notification.status
    notification.status = Status.PENDING
    notification.attempts = 0
    notification.send_after = None
    notification.enqueued_at = timezone.now()
    notification.save(
        update_fields=["status", "attempts", "send_after", "enqueued_at", "updated_at"]
    )
    audit_record(
        action="notification_retry",
        object_type="notification",
        object_id=notification.pk,
        customer_id=notification.customer_id,
        actor=actor,
        data={"from": old},
    )
    transaction.on_commit(lambda: notification_enqueue(notification_id=notification_id))
    return notification
