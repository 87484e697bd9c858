"""Shared fixtures and the rules that decide which tests run where.

- ``@pytest.mark.postgres``: needs PostgreSQL (row locks, concurrency); skipped on SQLite.
- ``@pytest.mark.redis``: needs REDIS_URL and starts a real Celery worker; skipped without.
- ``@pytest.mark.browser``: needs /usr/bin/chromium and Playwright.
"""

from __future__ import annotations

import os
import shutil

import pytest
from django.db import connection

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres", "pgsql"))
HAS_REDIS = bool(os.environ.get("REDIS_URL"))
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
HAS_CHROMIUM = shutil.which(CHROMIUM) is not None


def pytest_report_header(config):
    db = "PostgreSQL" if ON_POSTGRES else "SQLite (Postgres-only tests are skipped)"
    redis = "Redis + real Celery worker" if HAS_REDIS else "no REDIS_URL (worker tests skipped)"
    browser = CHROMIUM if HAS_CHROMIUM else "no Chromium (browser tests skipped)"
    return [f"database: {db}", f"celery: {redis}", f"browser: {browser}"]


def pytest_collection_modifyitems(config, items):
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
    skip_redis = pytest.mark.skip(reason="needs Redis and a worker: set REDIS_URL=redis://...")
    skip_browser = pytest.mark.skip(reason=f"needs Chromium at {CHROMIUM}")
    for item in items:
        if "postgres" in item.keywords and not ON_POSTGRES:
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not HAS_REDIS:
            item.add_marker(skip_redis)
        if "browser" in item.keywords and not HAS_CHROMIUM:
            item.add_marker(skip_browser)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not ON_POSTGRES:
        terminalreporter.write_line(
            "NOTE: ran on SQLite; tests marked 'postgres' were skipped. "
            "Set DATABASE_URL=postgres://... to run them.",
            yellow=True,
        )


@pytest.fixture
def on_postgres() -> bool:
    return connection.vendor == "postgresql"


# --- a real worker's surroundings (tests/integration/worker.py) ---------------------------


@pytest.fixture
def smtp_sink():
    """An SMTP server in this process that records what it receives."""
    from tests.integration.worker import SmtpSink

    server = SmtpSink().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def worker_queue():
    """A Celery queue name of its own per test (tasks go to Redis, not run eagerly), so
    stale messages in Redis never interfere; purged afterwards."""
    import uuid

    from tests.integration.worker import eager_off, purge_queue

    name = f"test-worker-{uuid.uuid4().hex[:10]}"
    try:
        with eager_off(name):
            yield name
    finally:
        purge_queue(name)
