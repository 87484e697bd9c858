"""Shared helpers for the benchmarks: a scratch PostgreSQL database and Django setup."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("BENCH_PG_ADMIN", "postgres://postgres@127.0.0.1:5432/postgres")


def pg_url(dbname: str) -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + dbname


def recreate_database(dbname: str) -> str:
    """Drop and create ``dbname``, migrate it, and return its URL."""
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{dbname}"')
    url = pg_url(dbname)
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "backoffice.settings"}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    return url


def django_setup(database_url: str, **env: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def quiesce(dbname: str | None = None) -> None:
    """Start a measurement from a steady state: ``VACUUM (ANALYZE)`` of ``dbname`` (what
    autovacuum does on a production server, where it is on; on the development machine
    the server runs with ``autovacuum = off``), a CHECKPOINT for the dirty buffers, and
    ``sync`` for the page cache, so a step pays for neither the previous step's garbage
    nor its writes.

    The ANALYZE matters most: without it, a long-lived connection (gunicorn with
    ``CONN_MAX_AGE``) keeps the plans it made while the tables were empty -- the
    deferred foreign-key checks at COMMIT (``SELECT 1 ... FOR KEY SHARE``) stay
    sequential scans and cost more with every order stored, while pgbench, connecting
    afresh, plans with the tables' real size. ANALYZE invalidates those cached plans."""
    import psycopg

    pids = []
    if dbname:
        with psycopg.connect(pg_url(dbname), autocommit=True) as conn:
            conn.execute("VACUUM (ANALYZE)")
            pids.append(conn.info.backend_pid)
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
        pids.append(conn.info.backend_pid)
    os.sync()
    # Wait for those backends to be reaped: a step that counts the postmaster's children's
    # CPU (bench/ingest.py) would otherwise be charged with the VACUUM.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in pids):
        time.sleep(0.05)
