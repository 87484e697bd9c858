"""Order-status e-mails through the outbox and a real Celery worker vs a plain smtplib loop.

    .venv/bin/python bench/mail.py --count 10000 --pools solo:1,prefork:2,threads:4

The script takes the machine-wide benchmark lock itself (``flock`` on ``$BENCH_LOCK``,
default ``<tmpdir>/retaguarda-bench.lock``) around the timed parts only.

What it does, per worker setting:

1. (untimed) Writes ``--count`` order-status notifications through the outbox service
   ``crm.services.notification_queue`` -- the call every order status change makes -- all
   inside one transaction whose on-commit hooks enqueue ``crm.notification_send`` on Redis.
2. Starts an aiosmtpd sink in its own process (counts messages, remembers every Message-ID
   and X-Retaguarda-Notification, counts duplicates) and a real ``celery worker``
   subprocess with the chosen pool/concurrency on a queue of its own.
3. (timed, under the machine-wide benchmark lock) commits the transaction -- the first
   enqueue -- and waits until the sink holds ``--count`` messages; then checks exactly
   ``--count`` arrived, none twice, and every row is ``sent`` after one attempt.

``--modes sweep`` instead commits the rows first, drops their tasks (a broker restart)
and times ``notification_sweep``, which enqueues ``crm.notification_send_batch`` tasks of
``--task-rows`` rows (``NOTIFICATION_SEND_TASK_ROWS``); the worker sends a task's rows in
chunks of ``--batch-size`` (``NOTIFICATION_SEND_BATCH_SIZE``): each chunk is claimed in
one UPDATE, sent over the worker's one SMTP connection and marked sent in one UPDATE (two
COMMITs per chunk instead of one per e-mail). Both settings reach the worker and this
process alike.

Baseline: the same rows rendered by the app (``notification_message``, same headers and
body, so the same size) sent by a plain ``smtplib`` loop over one connection to the same
sink, timed the same way, before the first round of runs and after each round
(``--repeat N`` rounds); each run's ratio is taken against the mean of the two
baselines around its round.

``BENCH_WORKER_ROOT=<dir>`` runs the worker from another checkout of the project (e.g. a
``git archive`` of the previous commit) to measure "before"; the producer stays this tree.

The lock is held from worker start to worker stop and around the smtplib loop; building
and rendering rows is not.
``--profile`` runs one extra solo worker under pyinstrument and writes its report under
bench/results/. Every wait is bounded by ``--timeout``.
"""

# ruff: noqa: E402  (sys.path must be fixed before the standard library imports below)
from __future__ import annotations

import sys
from pathlib import Path

# Run as ``python bench/mail.py``, this directory comes first on sys.path, where a bench
# module could shadow the standard library: import from the project root instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse
import contextlib
import fcntl
import json
import multiprocessing as mp
import os
import re
import shlex
import signal
import smtplib
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from bench.common import ROOT, recreate_database

DBNAME = "rg_bench_email"
RESULTS = ROOT / "bench" / "results"
LOCK_PATH = os.environ.get(
    "BENCH_LOCK", os.path.join(tempfile.gettempdir(), "retaguarda-bench.lock")
)
KINDS = ["order_received", "payment_confirmed", "shipped", "delivery_delayed", "cancelled"]
LANGUAGES = ["pt-br", "pt-br", "es", "en"]
HEADER_RE = {
    "mid": re.compile(rb"^Message-ID:\s*(\S+)", re.I | re.M),
    "nid": re.compile(rb"^X-Retaguarda-Notification:\s*(\S+)", re.I | re.M),
}


@contextlib.contextmanager
def bench_lock() -> Iterator[float]:
    """Hold the machine-wide benchmark lock; yields how long we waited for it."""
    start = time.monotonic()
    with open(LOCK_PATH, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield time.monotonic() - start
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the SMTP sink, in its own process ------------------------------------------------------


def _sink_main(port: int, counter: Any, ready: Any, conn: Any) -> None:
    import asyncio

    from aiosmtpd.controller import Controller

    seen_mid: set[bytes] = set()
    seen_nid: set[bytes] = set()
    stats = {"messages": 0, "dup_message_id": 0, "dup_notification": 0, "bytes": 0}

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            data = envelope.original_content or envelope.content
            head = data.split(b"\r\n\r\n", 1)[0]
            mid = HEADER_RE["mid"].search(head)
            nid = HEADER_RE["nid"].search(head)
            key_mid = mid.group(1) if mid else b"?"
            key_nid = nid.group(1) if nid else key_mid
            if key_mid in seen_mid:
                stats["dup_message_id"] += 1
            if key_nid in seen_nid:
                stats["dup_notification"] += 1
            seen_mid.add(key_mid)
            seen_nid.add(key_nid)
            stats["messages"] += 1
            stats["bytes"] += len(data)
            with counter.get_lock():
                counter.value += 1
            return "250 Message accepted for delivery"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    try:
        while True:
            if conn.poll(0.5):
                command = conn.recv()
                if command == "stats":
                    conn.send({**stats, "unique_message_id": len(seen_mid)})
                elif command == "reset":
                    seen_mid.clear()
                    seen_nid.clear()
                    for key in stats:
                        stats[key] = 0
                    with counter.get_lock():
                        counter.value = 0
                    conn.send("ok")
                elif command == "stop":
                    break
    finally:
        controller.stop()
        del asyncio


class Sink:
    def __init__(self) -> None:
        ctx = mp.get_context("spawn")
        self.port = free_port()
        self.counter = ctx.Value("l", 0)
        self.ready = ctx.Event()
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(
            target=_sink_main, args=(self.port, self.counter, self.ready, child), daemon=True
        )

    def start(self) -> Sink:
        self.proc.start()
        if not self.ready.wait(30):
            raise RuntimeError("SMTP sink did not start")
        return self

    def count(self) -> int:
        return int(self.counter.value)

    def stats(self) -> dict[str, int]:
        self.conn.send("stats")
        return dict(self.conn.recv())

    def reset(self) -> None:
        self.conn.send("reset")
        self.conn.recv()

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.send("stop")
        self.proc.join(10)
        if self.proc.is_alive():
            self.proc.kill()

    def wait_for(self, n: int, *, timeout: float) -> float:
        """Poll until ``n`` messages arrived; returns the monotonic time it happened."""
        deadline = time.monotonic() + timeout
        while True:
            if self.count() >= n:
                return time.perf_counter()
            if time.monotonic() > deadline:
                raise TimeoutError(f"sink has {self.count()}/{n} after {timeout}s")
            time.sleep(0.005)


# --- the worker ---------------------------------------------------------------------------------


class Worker:
    def __init__(
        self, *, pool: str, concurrency: int, queue: str, env: dict[str, str], profile: Path | None
    ) -> None:
        self.log = Path(tempfile.mkstemp(prefix="bench-email-worker-", suffix=".log")[1])
        celery = [
            "-m",
            "celery",
            "-A",
            "backoffice",
            "worker",
            "-Q",
            queue,
            f"--pool={pool}",
            f"--concurrency={concurrency}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=INFO",
            "-n",
            f"bench-{queue}@%h",
        ]
        if profile is not None:
            head = [
                sys.executable,
                "-m",
                "pyinstrument",
                "-r",
                "text",
                "--show-all",
                "-o",
                str(profile),
            ]
            self.args = head + celery[:1] + celery[1:]
        else:
            self.args = [sys.executable, *celery]
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                self.args,
                cwd=os.environ.get("BENCH_WORKER_ROOT") or ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while "ready." not in self.log.read_text(errors="replace"):
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError("worker died:\n" + self.log.read_text(errors="replace")[-3000:])
            if time.monotonic() > deadline:
                raise TimeoutError("worker not ready")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)

    def cpu_seconds(self) -> float:
        """user+system CPU of every process in the worker's process group (call before
        stop(): the pool children are gone after it)."""
        if self.proc is None:
            return 0.0
        total = 0
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[2]) == self.proc.pid:  # pgrp
                total += int(fields[11]) + int(fields[12])  # utime + stime
        return total / os.sysconf("SC_CLK_TCK")

    def errors(self) -> list[str]:
        text = self.log.read_text(errors="replace")
        marks = ("ERROR", "Traceback", " retry: ")
        return [line for line in text.splitlines() if any(m in line for m in marks)]


# --- building the notifications --------------------------------------------------------------


def order_context(i: int, customer_name: str) -> dict[str, Any]:
    """What orders.selectors.order_notification_context gives the outbox for one order."""
    n_lines = 1 + i % 3
    lines = [
        {
            "sku": f"SKU-{(i + k) % 500:04d}",
            "name": ["Café 500 g", "Filtro de papel 103", "Caneca esmaltada"][k],
            "quantity": 1 + (i + k) % 3,
            "unit_price": ["49.90", "12.50", "39.00"][k],
            "consumption_days": 30 if k == 0 else None,
        }
        for k in range(n_lines)
    ]
    return {
        "order_number": str(100000 + i // len(KINDS)),
        "order_id": 1 + i // len(KINDS),
        "store_name": "Loja Bench",
        "customer_name": customer_name,
        "total": "101.40",
        "currency": "BRL",
        "lines": lines,
        "tracking_code": f"BR{i:09d}BR",
        "tracking_url": f"https://rastreio.example.com/BR{i:09d}BR",
        "carrier": "Correios",
        "promised_date": "2026-12-05",
        "reason": "Pedido cancelado a pedido do cliente",
    }


def customers_ensure(n: int) -> list[Any]:
    from crm.models import Customer

    have = list(Customer.objects.order_by("id"))
    if len(have) >= n:
        return have[:n]
    Customer.objects.bulk_create(
        [
            Customer(
                name=f"Cliente {i}",
                email=f"cliente{i}@example.com",
                language=LANGUAGES[i % len(LANGUAGES)],
            )
            for i in range(len(have), n)
        ]
    )
    return list(Customer.objects.order_by("id"))[:n]


def settings_module() -> Any:
    from django.conf import settings

    return settings


def notifications_reset(*, redis_url: str, queue: str) -> None:
    """Empty the outbox table and the benchmark's queue (untimed, between runs)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE crm_notification RESTART IDENTITY CASCADE")
    notifications_reset_queue(redis_url=redis_url, queue=queue)


def notifications_reset_queue(*, redis_url: str, queue: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.delete(queue)
    client.close()


def notifications_write(count: int) -> Any:
    """Queue ``count`` status e-mails in one transaction left OPEN; returns the atomic
    block. Leaving it commits, and the commit's on-commit hooks enqueue one send task
    per row -- exactly what a status change does in the app."""
    from django.db import transaction

    from crm.services import notification_queue

    customers = customers_ensure(max(count // len(KINDS), 1))
    atomic = transaction.atomic()
    atomic.__enter__()
    try:
        for i in range(count):
            customer = customers[(i // len(KINDS)) % len(customers)]
            kind = KINDS[i % len(KINDS)]
            order_id = 1 + i // len(KINDS)
            notification = notification_queue(
                kind=kind,
                to_email=customer.email,
                language=customer.language,
                dedupe_key=f"order:{order_id}:{kind}",
                context=order_context(i, customer.name),
                customer_id=customer.pk,
                order_id=order_id,
            )
            assert notification is not None
    except BaseException:
        atomic.__exit__(*sys.exc_info())
        raise
    return atomic


def rows_summary() -> dict[str, Any]:
    from django.db.models import Count, Max

    from crm.models import Notification

    by_status = dict(Notification.objects.values_list("status").annotate(n=Count("id")).order_by())
    return {
        "by_status": by_status,
        "max_attempts": Notification.objects.aggregate(m=Max("attempts"))["m"],
    }


# --- runs -------------------------------------------------------------------------------------


def worker_env(*, db_url: str, redis_url: str, queue: str, smtp_port: int) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "backoffice.settings",
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


def run_outbox(
    *,
    count: int,
    pool: str,
    concurrency: int,
    sink: Sink,
    db_url: str,
    redis_url: str,
    queue: str,
    timeout: float,
    mode: str = "commit",
    profile: Path | None = None,
) -> dict[str, Any]:
    """``mode`` 'commit': the transaction's on-commit hooks enqueue one task per row (the
    path of every status change). 'sweep': the rows were committed earlier and their tasks
    lost (queue purged: a broker restart), so the periodic sweep enqueues them, in batch
    tasks of NOTIFICATION_SEND_BATCH_SIZE rows."""
    from datetime import timedelta

    from django.utils import timezone

    from crm.services.notifications import notification_sweep

    notifications_reset(redis_url=redis_url, queue=queue)
    sink.reset()
    env = worker_env(db_url=db_url, redis_url=redis_url, queue=queue, smtp_port=sink.port)
    result: dict[str, Any] = {
        "mode": mode,
        "pool": pool,
        "concurrency": concurrency,
        "count": count,
    }
    started = time.perf_counter()
    atomic = notifications_write(count)
    result["write_seconds"] = round(time.perf_counter() - started, 2)
    if mode == "sweep":
        atomic.__exit__(None, None, None)
        notifications_reset_queue(redis_url=redis_url, queue=queue)
    result["batch_size"] = int(settings_module().NOTIFICATION_SEND_BATCH_SIZE)
    result["task_rows"] = int(settings_module().NOTIFICATION_SEND_TASK_ROWS)
    worker = Worker(pool=pool, concurrency=concurrency, queue=queue, env=env, profile=profile)
    committed = False
    with bench_lock() as waited:
        result["lock_wait_seconds"] = round(waited, 1)
        try:
            worker.start().wait_ready(timeout=120)
            time.sleep(1.0)  # let pool children finish booting
            result["load_avg_1m"] = round(os.getloadavg()[0], 2)
            cpu0 = worker.cpu_seconds()
            t0 = time.perf_counter()
            committed = True
            if mode == "sweep":
                later = timezone.now() + timedelta(minutes=10)
                assert notification_sweep(now=later, limit=count) == count
            else:
                atomic.__exit__(None, None, None)  # COMMIT; on-commit hooks enqueue each row
            result["enqueue_seconds"] = round(time.perf_counter() - t0, 3)
            t_done = sink.wait_for(count, timeout=timeout)
            result["worker_cpu_ms_per_email"] = round(
                (worker.cpu_seconds() - cpu0) * 1000 / count, 3
            )
            time.sleep(2.0)  # anything arriving late now would be a duplicate
        finally:
            if not committed:
                atomic.__exit__(RuntimeError, RuntimeError("aborted"), None)
            worker.stop()
    elapsed = t_done - t0
    stats = sink.stats()
    rows = rows_summary()
    result.update(
        seconds=round(elapsed, 3),
        per_second=round(count / elapsed, 1),
        sink=stats,
        rows=rows,
        worker_errors=worker.errors()[:5],
        ok=(
            stats["messages"] == count
            and stats["dup_message_id"] == 0
            and stats["dup_notification"] == 0
            and rows["by_status"] == {"sent": count}
            and rows["max_attempts"] == 1
        ),
    )
    if result["ok"]:
        worker.log.unlink(missing_ok=True)
    else:
        result["worker_log"] = str(worker.log)
    return result


def run_smtplib(
    *, count: int, sink: Sink, redis_url: str, queue: str, timeout: float
) -> dict[str, Any]:
    """The same rows, rendered by the app, sent by a plain loop over one SMTP connection."""
    from crm.models import Notification
    from crm.services.notifications import notification_message

    notifications_reset(redis_url=redis_url, queue=queue)
    sink.reset()
    atomic = notifications_write(count)
    atomic.__exit__(None, None, None)  # nobody consumes this queue: the tasks just sit there
    rendered: list[tuple[str, list[str], bytes]] = []
    for notification in Notification.objects.select_related("customer").order_by("id"):
        message = notification_message(notification)
        rendered.append(
            (message.from_email, message.recipients(), message.message().as_bytes(linesep="\r\n"))
        )
    size = sum(len(m[2]) for m in rendered)
    with bench_lock() as waited:
        load = round(os.getloadavg()[0], 2)
        t0 = time.perf_counter()
        smtp = smtplib.SMTP("127.0.0.1", sink.port, timeout=30)
        for from_email, to, data in rendered:
            smtp.sendmail(from_email, to, data)
        smtp.quit()
        t_done = sink.wait_for(count, timeout=timeout)
    elapsed = t_done - t0
    stats = sink.stats()
    return {
        "count": count,
        "lock_wait_seconds": round(waited, 1),
        "load_avg_1m": load,
        "seconds": round(elapsed, 3),
        "per_second": round(count / elapsed, 1),
        "avg_message_bytes": round(size / count),
        "sink": stats,
        "ok": stats["messages"] == count and stats["dup_message_id"] == 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument(
        "--pools",
        default="solo:1,prefork:2,threads:4",
        help="comma-separated pool:concurrency settings for the worker",
    )
    parser.add_argument(
        "--modes",
        default="commit,sweep",
        help="commit: one task per row from the on-commit hooks; sweep: batch tasks",
    )
    parser.add_argument("--batch-size", type=int, default=20, help="rows per claim/commit chunk")
    parser.add_argument("--task-rows", type=int, default=100, help="rows per batch task")
    parser.add_argument("--timeout", type=float, default=240, help="max seconds per run")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument(
        "--profile", action="store_true", help="one more solo worker run under pyinstrument"
    )
    parser.add_argument("--keep-db", action="store_true", help="do not recreate the database")
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds of runs, each between two baselines"
    )
    args = parser.parse_args()
    # SIGTERM (``timeout``, Ctrl-C from a wrapper) runs the finally blocks: no orphan worker.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    # A Redis database of its own: a worker on the default one would answer other
    # processes' broadcast control commands (e.g. the health check's ping).
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    queue = f"bench-email-{uuid.uuid4().hex[:8]}"
    if args.keep_db:
        from bench.common import pg_url

        db_url = pg_url(DBNAME)
    else:
        db_url = recreate_database(DBNAME)
    # This process only writes rows and publishes; the worker sends.
    os.environ.update(
        DATABASE_URL=db_url,
        REDIS_URL=redis_url,
        CELERY_TASK_ALWAYS_EAGER="false",
        CELERY_TASK_DEFAULT_QUEUE=queue,
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="backoffice.settings",
    )
    import django

    django.setup()
    # the worker reads them from its environment (worker_env), this process from settings
    os.environ["NOTIFICATION_SEND_BATCH_SIZE"] = str(args.batch_size)
    os.environ["NOTIFICATION_SEND_TASK_ROWS"] = str(args.task_rows)
    settings_module().NOTIFICATION_SEND_BATCH_SIZE = args.batch_size
    settings_module().NOTIFICATION_SEND_TASK_ROWS = args.task_rows

    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    command = shlex.join([".venv/bin/python", *sys.argv])
    report: dict[str, Any] = {
        "worker_root": os.environ.get("BENCH_WORKER_ROOT") or ".",
        "date": stamp,
        "command": command,
        "cpus": os.cpu_count(),
        "runs": [],
    }
    sink = Sink().start()
    try:
        settings = [p for p in args.pools.split(",") if p]
        modes = [m for m in args.modes.split(",") if m]
        report["baselines"] = []

        def baseline(round_no: int) -> dict[str, Any]:
            base = run_smtplib(
                count=args.count, sink=sink, redis_url=redis_url, queue=queue, timeout=args.timeout
            )
            base["round"] = round_no
            report["baselines"].append(base)
            report["smtplib"] = base
            print(
                f"[{round_no}] smtplib loop, one connection: {base['per_second']} e-mails/s "
                f"({base['seconds']} s, {base['avg_message_bytes']} B/message) ok={base['ok']}",
                flush=True,
            )
            return base

        # Each round is bracketed by smtplib baselines (one before, one after, shared
        # with the next round), and its runs' ratios are taken against their mean: on a
        # machine whose speed drifts between minutes, a ratio of two measurements far
        # apart would measure the drift.
        before = None if args.no_baseline else baseline(0)
        for round_no in range(1, args.repeat + 1):
            round_runs = []
            for mode, setting in [(m, p) for m in modes for p in settings]:
                pool, _, conc = setting.partition(":")
                run = run_outbox(
                    count=args.count,
                    pool=pool,
                    concurrency=int(conc or 1),
                    sink=sink,
                    db_url=db_url,
                    redis_url=redis_url,
                    queue=queue,
                    timeout=args.timeout,
                    mode=mode,
                )
                run["round"] = round_no
                round_runs.append(run)
                report["runs"].append(run)
                print(
                    f"[{round_no}] outbox+worker {mode} {pool}:{run['concurrency']}: "
                    f"{run['per_second']} e-mails/s "
                    f"({run['seconds']} s, enqueue {run['enqueue_seconds']} s, worker CPU "
                    f"{run['worker_cpu_ms_per_email']} ms/e-mail, load {run['load_avg_1m']}) "
                    f"ok={run['ok']}",
                    flush=True,
                )
            if before is None:
                continue
            after = baseline(round_no)
            rate = (before["per_second"] + after["per_second"]) / 2
            before = after
            for run in round_runs:
                run["baseline_per_second"] = round(rate, 1)
                run["ratio"] = round(run["per_second"] / rate, 3)
                print(
                    f"[{round_no}] ratio {run['mode']} {run['pool']}:{run['concurrency']}: "
                    f"{run['ratio']}",
                    flush=True,
                )
        if args.profile:
            profile = RESULTS / f"email-worker-profile-{stamp}.txt"
            run = run_outbox(
                count=args.count,
                pool="solo",
                concurrency=1,
                sink=sink,
                db_url=db_url,
                redis_url=redis_url,
                queue=queue,
                timeout=args.timeout,
                mode=modes[0] if modes else "commit",
                profile=profile,
            )
            run["profile"] = str(profile.relative_to(ROOT))
            report["profile_run"] = run
            print(f"profiled solo run: {run['per_second']} e-mails/s -> {run['profile']}")
    finally:
        sink.stop()
        import redis

        client = redis.Redis.from_url(redis_url)
        client.delete(queue)
        client.close()
    out = RESULTS / f"email-{stamp}.json"
    out.write_text(json.dumps(report, indent=2, default=str))
    print(f"results: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
