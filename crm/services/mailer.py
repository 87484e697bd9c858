"""One SMTP connection per worker process (per thread with a threads pool), reused.

Opening a connection costs a TCP handshake, the server's greeting, EHLO and, in
production, STARTTLS and AUTH -- far more than handing over one message. ``mail_send``
keeps the connection open between sends and replaces it when it may have gone stale:

- after ``NOTIFICATION_SMTP_MAX_IDLE_SECONDS`` (60) without use it is closed and reopened
  (servers drop idle clients; RFC 5321 lets them after 5 minutes, some sooner);
- after ``NOTIFICATION_SMTP_PROBE_AFTER_SECONDS`` (2) without use it is probed with NOOP
  first, and reopened if the probe fails -- nothing was sent on it yet, so that retry
  cannot duplicate a message;
- after ``NOTIFICATION_SMTP_MAX_MESSAGES`` (100) messages it is renewed (providers cap
  messages per connection);
- any error while sending closes it, and the error goes to the caller, exactly as a
  failed send on a fresh connection does: the row keeps its lock-render-send-mark-commit
  transaction, counts the attempt and is retried with back-off. A message is never sent a
  second time in here, because after a failure mid-send nobody can tell whether the
  server took it.

Backends other than SMTP (locmem in tests, files in the embedded demo, console) have
nothing to keep open and are called as ``message.send()`` would.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import re
import smtplib
import threading
import time
import uuid
from email.generator import BytesGenerator
from email.message import Message
from email.policy import Compat32
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.core.mail.message import sanitize_address
from django.utils.module_loading import import_string


class _Held(threading.local):
    backend: SmtpBackend | None = None
    key: tuple[Any, ...] = ()
    pid: int = 0
    last_used: float = 0.0
    sent: int = 0


_held = _Held()


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def _config_key() -> tuple[Any, ...]:
    return (
        settings.EMAIL_BACKEND,
        settings.EMAIL_HOST,
        settings.EMAIL_PORT,
        settings.EMAIL_HOST_USER,
        settings.EMAIL_USE_TLS,
        settings.EMAIL_USE_SSL,
        settings.EMAIL_TIMEOUT,
    )


def mail_connection_close() -> None:
    """Drop this process's (thread's) SMTP connection, quietly."""
    backend, _held.backend = _held.backend, None
    _held.sent = 0
    if backend is not None:
        with contextlib.suppress(Exception):
            backend.close()


def _usable_backend() -> SmtpBackend:
    now = time.monotonic()
    key = _config_key()
    backend = _held.backend
    if backend is not None and (_held.key != key or _held.pid != os.getpid()):
        if _held.pid != os.getpid():
            # Inherited through fork: the socket is shared with the parent; forget it
            # without QUIT, which would end the parent's session.
            _held.backend = None
        else:
            mail_connection_close()
        backend = None
    smtp = backend.connection if backend is not None else None
    if backend is not None and smtp is not None:
        idle = now - _held.last_used
        if idle > _setting("NOTIFICATION_SMTP_MAX_IDLE_SECONDS", 60) or _held.sent >= _setting(
            "NOTIFICATION_SMTP_MAX_MESSAGES", 100
        ):
            mail_connection_close()
            backend = None
        elif idle > _setting("NOTIFICATION_SMTP_PROBE_AFTER_SECONDS", 2):
            try:
                code = smtp.noop()[0]
            except Exception:
                code = 0
            if code != 250:
                mail_connection_close()
                backend = None
    if backend is None:
        backend = get_connection(fail_silently=False)
        assert isinstance(backend, SmtpBackend)
        _held.backend, _held.key, _held.pid, _held.sent = backend, key, os.getpid(), 0
    return backend


@functools.lru_cache(maxsize=8)
def _is_smtp(backend_path: str) -> bool:
    """Django's SMTP backend, or a subclass that sends the way it does: a subclass with its
    own ``_send`` (signing, archiving) goes through ``message.send()`` so it runs."""
    backend_class = import_string(backend_path)
    return (
        isinstance(backend_class, type)
        and issubclass(backend_class, SmtpBackend)
        # _send is private (absent from the type stubs), hence getattr
        and getattr(backend_class, "_send", None) is getattr(SmtpBackend, "_send", None)
    )


def mail_send(message: EmailMessage) -> None:
    """Hand ``message`` to the mail backend; raises whatever the backend raised."""
    if not _is_smtp(settings.EMAIL_BACKEND):
        message.send(fail_silently=False)
        return
    backend = _usable_backend()
    try:
        backend.open()  # a no-op when the connection is already open
        assert backend.connection is not None
        _smtp_send(backend.connection, message)
    except BaseException:
        mail_connection_close()
        raise
    _held.last_used = time.monotonic()
    _held.sent += 1


def _smtp_send(connection: smtplib.SMTP, message: EmailMessage) -> None:
    """What Django's SMTP backend does for one message (``EmailBackend._send``), minus two
    costs that are the same for every e-mail: the sender's address is parsed once, not
    per message, and a multipart message gets a random MIME boundary up front. Left to
    itself, ``email.generator`` draws one and compiles a new regular expression to make
    sure the body does not contain it; a 128-bit random boundary cannot collide."""
    recipients = message.recipients()
    if not recipients:
        return
    encoding = message.encoding or settings.DEFAULT_CHARSET
    mime = message.message()
    if mime.is_multipart() and mime.get_boundary() is None:
        mime.set_boundary(f"==============={uuid.uuid4().hex}==")
    connection.sendmail(
        _address(message.from_email, encoding),
        [_address(address, encoding) for address in recipients],
        mime_bytes(mime),
    )


# Tab, space and the visible ASCII characters: no line breaks (str.splitlines also
# breaks at \x1c-\x1e, \x85 ...), nothing to encode.
_PRINTABLE_ASCII = re.compile(r"[\t\x20-\x7e]*")


class _Compat32ShortHeaders(Compat32):
    """The compat32 policy Django's messages are written with, except that a header
    whose value is printable ASCII (one line) and fits the line length is written as is.
    compat32 hands every header to ``email.header.Header(...).encode()``, whose folding
    algorithm returns such a value unchanged (tests/crm/test_mailer.py compares the two
    on generated headers); a status e-mail has about fourteen headers, and writing its
    bytes went from 0.36 to 0.125 ms here (docs/benchmarks.md, "E-mail")."""

    def _fold(self, name: str, value: Any, sanitize: bool) -> str:
        if (
            isinstance(value, str)
            and len(name) + 2 + len(value) <= (self.max_line_length or 78)
            and _PRINTABLE_ASCII.fullmatch(value)
        ):
            return f"{name}: {value}{self.linesep}"
        return super()._fold(name, value, sanitize)  # type: ignore[misc]  # private in the stubs


_SMTP_POLICY = _Compat32ShortHeaders(linesep="\r\n")


def mime_bytes(mime: Message) -> bytes:
    """``mime.as_bytes(linesep="\\r\\n")``, as Django's backend sends it, with the
    short-header policy above."""
    out = io.BytesIO()
    BytesGenerator(out, mangle_from_=False, policy=_SMTP_POLICY).flatten(mime)
    return out.getvalue()


@functools.lru_cache(maxsize=2048)
def _address(address: str, encoding: str) -> str:
    # Parsing an address with the email package costs a quarter of a millisecond; the
    # sender is the same on every message and a customer gets several e-mails.
    return sanitize_address(address, encoding)
