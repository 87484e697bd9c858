"""A real Celery worker, started by the test, consumes a real task through Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from backoffice.celery import app
from backoffice.tasks import ping_task

pytestmark = pytest.mark.redis


@pytest.fixture
def worker_queue():
    """Start ``celery worker`` on a queue of its own; stop it afterwards."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "backoffice.settings",
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "backoffice",
            "worker",
            "-Q",
            queue,
            "--pool=solo",
            "--concurrency=1",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
            "-n",
            f"{queue}@%h",
        ],
        cwd=Path(settings.BASE_DIR),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    old = (app.conf.task_always_eager, app.conf.broker_url, app.conf.result_backend)
    app.conf.task_always_eager = False
    app.conf.broker_url = os.environ["REDIS_URL"]
    app.conf.result_backend = os.environ["REDIS_URL"]
    try:
        yield queue
    finally:
        app.conf.task_always_eager, app.conf.broker_url, app.conf.result_backend = old
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_a_real_worker_consumes_a_task_from_redis(worker_queue):
    token = uuid.uuid4().hex

    result = ping_task.apply_async(kwargs={"echo": token}, queue=worker_queue)

    # Eager tasks run from the threads of the concurrency tests leave Celery's
    # process-global "inside a task" flag set (it is not thread-safe); this test is not
    # inside a task, so it says so explicitly.
    assert result.get(timeout=60, disable_sync_subtasks=False) == token


def test_health_sees_the_worker(worker_queue, client, db):
    deadline = time.monotonic() + 30
    while True:
        response = client.get("/health/")
        if response.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    body = response.json()
    assert response.status_code == 200, body
    assert body["checks"]["redis"]["status"] == "ok"
    assert body["checks"]["celery"]["status"] == "ok"
    assert any(worker_queue in name for name in body["checks"]["celery"]["workers"])
