"""Reusable pieces for tests that run a REAL Celery worker against Redis and PostgreSQL.

- ``SmtpSink``: an aiosmtpd server on a free local port that keeps every message.
- ``CeleryWorker``: a ``celery worker`` subprocess on the *test* database and a queue of
  its own, logging to a file; ``kill()`` is SIGKILL (a crash), ``stop()`` a clean exit.
- ``eager_off(queue)``: point this process's Celery app at Redis and that queue.
- ``broker_at(url)``: swap the broker URL (e.g. a closed port) and drop cached connections.
- ``wait_until(predicate, timeout)``: every wait in these tests is bounded.

Run as a module (``python -m tests.integration.worker <celery worker args>``) it starts the
worker itself; with ``RG_TEST_SLOW_SEND_SECONDS`` set, every e-mail hand-off first sleeps
that long *inside* the row-locking transaction, so a test can kill the worker mid-task;
with ``RG_TEST_RESTORE_INTERVAL`` it looks for unacknowledged messages that often.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(predicate: Callable[[], Any], *, timeout: float, interval: float = 0.2) -> Any:
    """Poll until ``predicate()`` is truthy and return it; AssertionError after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {predicate!r}")
        time.sleep(interval)


class SmtpSink:
    """A real SMTP server (aiosmtpd) collecting messages in memory."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._lock = threading.Lock()
        self.port = free_port()
        self._controller: Any = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content or envelope.content)
        with self._lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def start(self) -> SmtpSink:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def count(self) -> int:
        with self._lock:
            return len(self.messages)

    def header_values(self, name: str) -> list[str]:
        with self._lock:
            return [str(m.get(name, "")) for m in self.messages]

    def wait_for(self, n: int, *, timeout: float) -> list[Message]:
        wait_until(lambda: self.count() >= n, timeout=timeout)
        with self._lock:
            return list(self.messages)


def worker_database_url() -> str:
    """DATABASE_URL of the database the test process is using right now (test_<name>)."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        raise RuntimeError("a worker subprocess needs PostgreSQL (a shared database)")
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


class CeleryWorker:
    """One ``celery worker`` subprocess (solo pool) consuming ``queue`` only."""

    def __init__(
        self,
        *,
        queue: str,
        smtp_url: str,
        extra_env: dict[str, str] | None = None,
        slow_send_seconds: float | None = None,
        name: str | None = None,
    ) -> None:
        self.queue = queue
        self.name = name or f"w-{uuid.uuid4().hex[:6]}@{queue}"
        self.log = Path(tempfile.mkstemp(prefix="celery-worker-", suffix=".log")[1])
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "backoffice.settings",
            "DATABASE_URL": worker_database_url(),
            "REDIS_URL": os.environ["REDIS_URL"],
            "EMAIL_URL": smtp_url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "CELERY_TASK_DEFAULT_QUEUE": queue,
            "CONN_MAX_AGE": "0",
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        if slow_send_seconds:
            env["RG_TEST_SLOW_SEND_SECONDS"] = str(slow_send_seconds)
        env.update(extra_env or {})
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> CeleryWorker:
        args = [
            sys.executable,
            "-m",
            "tests.integration.worker",
            "worker",
            "-Q",
            self.queue,
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
            "-n",
            self.name,
        ]
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                args,
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: kill() reaches all of it
            )
        return self

    def wait_ready(self, *, timeout: float = 60) -> CeleryWorker:
        wait_until(lambda: "ready." in self.log_text() or self._died(), timeout=timeout)
        if self._died():
            raise AssertionError(f"worker exited early:\n{self.log_text()[-4000:]}")
        return self

    def _died(self) -> bool:
        return self.proc is not None and self.proc.poll() is not None

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def kill(self) -> None:
        """SIGKILL the whole process group: a crash, nothing acknowledged or cleaned up."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=20)

    def stop(self) -> None:
        """SIGTERM (warm shutdown), SIGKILL after 20 s; then drop the log file. Called while
        an exception propagates (a ``finally`` of a failing test), it first copies the log's
        tail to stderr, which pytest shows with the failure: a worker that misbehaved only
        under load can then be read after the fact."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        if sys.exc_info()[0] is not None:
            print(
                f"--- celery worker {self.name}, last of {self.log}:\n{self.log_text()[-6000:]}",
                file=sys.stderr,
            )
        self.log.unlink(missing_ok=True)

    def __enter__(self) -> CeleryWorker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _reset_connections(app: Any) -> None:
    pool = getattr(app, "_pool", None)
    if pool is not None:
        with contextlib.suppress(Exception):
            pool.force_close_all()
        app._pool = None
    # Producer pools live in kombu's global registry, keyed by connection: clear it, or a
    # closed pool would be handed out again.
    from kombu import pools

    pools.reset()
    app.amqp._producer_pool = None


@contextlib.contextmanager
def eager_off(queue: str) -> Iterator[Any]:
    """Send this process's tasks to Redis, on ``queue``; restore everything afterwards."""
    from backoffice.celery import app

    conf = app.conf
    old = (
        conf.task_always_eager,
        conf.broker_url,
        conf.result_backend,
        conf.task_default_queue,
    )
    conf.task_always_eager = False
    conf.broker_url = os.environ["REDIS_URL"]
    conf.result_backend = os.environ["REDIS_URL"]
    conf.task_default_queue = queue
    _reset_connections(app)
    try:
        yield app
    finally:
        (
            conf.task_always_eager,
            conf.broker_url,
            conf.result_backend,
            conf.task_default_queue,
        ) = old
        _reset_connections(app)


@contextlib.contextmanager
def broker_at(url: str) -> Iterator[None]:
    """Publish to ``url`` for the duration (a closed port = broker down)."""
    from backoffice.celery import app

    old = app.conf.broker_url
    old_retry = app.conf.broker_connection_max_retries
    app.conf.broker_url = url
    app.conf.broker_connection_max_retries = 1
    _reset_connections(app)
    try:
        yield
    finally:
        app.conf.broker_url = old
        app.conf.broker_connection_max_retries = old_retry
        _reset_connections(app)


def purge_queue(queue: str) -> None:
    """Drop the test queue's key from Redis (messages and nothing else)."""
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    client.delete(queue)
    client.close()


def _main() -> None:  # pragma: no cover - runs in the worker subprocess
    import django

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
    django.setup()
    delay = float(os.environ.get("RG_TEST_SLOW_SEND_SECONDS") or 0)
    if delay:
        from crm.services import notifications

        original = notifications._deliver

        def slow_deliver(message: Any) -> None:
            time.sleep(delay)
            original(message)

        notifications._deliver = slow_deliver  # type: ignore[assignment]

    from backoffice.celery import app

    restore = os.environ.get("RG_TEST_RESTORE_INTERVAL")
    if restore:
        # kombu scans for unacknowledged messages past the visibility timeout every
        # interval x throttle seconds (100 s by default); scan every ``restore`` seconds.
        app.conf.broker_transport_options = {
            **(app.conf.broker_transport_options or {}),
            "unacked_restore_interval": int(restore),
            "unacked_restore_throttle": 1,
        }
    app.worker_main(argv=sys.argv[1:])


if __name__ == "__main__":  # pragma: no cover
    _main()
