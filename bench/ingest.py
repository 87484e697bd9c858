"""Webhook ingest through gunicorn, against pgbench running the same SQL (issue 7).

Run by hand, never by the test suite; on a shared machine, timed runs hold the
benchmark lock with flock (docs/benchmarks.md has the exact commands):

    .venv/bin/python bench/ingest.py                # steps of 1, 2, 4, 8, 16 clients
    .venv/bin/python bench/ingest.py --hot
    .venv/bin/python bench/ingest.py --capture      # rewrite bench/ingest_pgbench.sql
    .venv/bin/python bench/ingest.py --profile 300  # pyinstrument over 300 in-process orders
    .venv/bin/python bench/ingest.py --overhead     # CPU of a request that stores no order
    .venv/bin/python bench/ingest.py --phases 300   # CPU per order by hot-path function
    .venv/bin/python bench/ingest.py --instructions 30  # instructions per order (callgrind)
    .venv/bin/python bench/ingest.py --app-only --statements  # diagnosis: no pgbench steps,
                                                    # top statements per step

What a run does:
1. recreates the ``rg_bench_ingest`` database (bench/common.py), seeds one warehouse,
   1,000 SKUs with plenty of stock and a generic-platform channel with a known secret;
2. starts gunicorn (sync workers, persistent connections: ``CONN_MAX_AGE``) on loopback
   with ``DATABASE_URL`` on that database and ``REDIS_URL`` set, so Celery tasks go to
   Redis (no worker needed: the outbox rows are written in the order's transaction);
3. per concurrency step, N load-generator processes (whole requests prebuilt, a
   connection per request, as gunicorn's sync workers close it anyway) post signed
   ``order.created`` webhooks in the Retaguarda format, each order with 3 lines and a
   new customer with a valid CPF, bounded in count and time; and pgbench runs
   ``bench/ingest_pgbench.sql`` (the statements one order issues, captured from the
   app) with the same number of clients for the same time.
   The two alternate in ``--slices`` slices of the step's time (default 4, in the
   order app, pgbench, pgbench, app, ...), and each side's slices are added up: the
   machine is shared and its speed drifts by tens of percent within minutes, and
   interleaving puts a drift on both sides of the ratio instead of one
   (``--slices 1`` is the earlier app-then-pgbench). Before every slice
   ``bench.common.quiesce`` runs VACUUM (ANALYZE), CHECKPOINT and sync, and each
   records CPU milliseconds per order by process group (gunicorn, PostgreSQL, load
   generator or pgbench, other) from /proc;
4. checks that the orders stored equal the 2xx acks and that the stock levels still
   agree with the ledger (``check_stock_ledger``), and prints the table.

``--hot``: ten SKUs take half of the lines (contention on their stock-level rows).
Results (JSON and text) go to bench/results/, which git ignores.
"""

from __future__ import annotations

import os
import sys

# Run as a file, this folder comes first on sys.path, where a bench module could shadow
# a standard-library module: drop it.
if sys.path and sys.path[0] == os.path.dirname(os.path.abspath(__file__)):
    sys.path.pop(0)

import argparse
import hashlib
import hmac
import http.client
import json
import multiprocessing as mp
import random
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, django_setup, recreate_database

DB_NAME = "rg_bench_ingest"
# Redis database of its own: the test suites use 0 and may run a worker against it.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
SECRET = "bench-ingest-secret"
CHANNEL_SLUG = "bench"
N_SKUS = 1000
HOT_SKUS = 10
# Distinctive id ranges: the capture turns these literals into pgbench variables.
PRODUCT_BASE = 5_000_000
LEVEL_BASE = 6_000_000
ON_HAND = 10_000_000
SCRIPT = ROOT / "bench" / "ingest_pgbench.sql"
RESULTS = ROOT / "bench" / "results"


# --- the payload ----------------------------------------------------------------------------


def cpf(base: int) -> str:
    """A valid CPF (formatted) whose first nine digits are ``base``: unique per order."""
    digits = [int(c) for c in f"{base % 1_000_000_000:09d}"]
    for weight_start in (10, 11):
        total = sum(d * w for d, w in zip(digits, range(weight_start, 1, -1), strict=False))
        rest = total % 11
        digits.append(0 if rest < 2 else 11 - rest)
    s = "".join(map(str, digits))
    return f"{s[:3]}.{s[3:6]}.{s[6:9]}-{s[9:]}"


# Line k draws from its own ranges, so the 3 products of an order are always distinct:
# a hot group of the first ten SKUs, and a third of the rest of the catalogue.
HOT_GROUPS = [(1, 3), (4, 6), (7, HOT_SKUS)]
THIRDS = [
    (HOT_SKUS + 1, N_SKUS // 3),
    (N_SKUS // 3 + 1, 2 * N_SKUS // 3),
    (2 * N_SKUS // 3 + 1, N_SKUS),
]


def line_products(rng: random.Random, hot: bool) -> list[int]:
    """Product ids of the 3 lines, ascending (the order inventory locks them in): line k
    from the k-th third of the catalogue, or with ``hot`` half of the time from the k-th
    group of the ten hot SKUs. pgbench draws the same way (see the script's header)."""
    out = []
    for k in range(3):
        lo, hi = HOT_GROUPS[k] if hot and rng.random() < 0.5 else THIRDS[k]
        out.append(PRODUCT_BASE + rng.randint(lo, hi))
    return sorted(out)


def order_body(*, key: str, serial: int, products: list[int], paid: bool) -> bytes:
    lines = []
    subtotal = 0
    for i, product_id in enumerate(products, start=1):
        n = product_id - PRODUCT_BASE
        quantity = 1 + (serial + i) % 3
        price_cents = 1990 + (n % 50) * 100
        subtotal += quantity * price_cents
        lines.append(
            {
                "sku": f"SKU-{n:05d}",
                "name": f"Produto {n}",
                "quantity": quantity,
                "unit_price": f"{price_cents / 100:.2f}",
                "discount": "0.00",
                "external_id": f"L-{i}",
            }
        )
    shipping = 1500
    data: dict[str, Any] = {
        "id": key,
        "number": key,
        "placed_at": datetime.now(UTC).isoformat(),
        "currency": "BRL",
        "customer": {
            "name": f"Cliente {serial}",
            "email": f"{key.lower()}@bench.example",
            "phone": "+55 11 99999-0000",
            "document": cpf(serial),
            "language": "pt-BR",
            "accepts_marketing": False,
        },
        "shipping_address": {
            "name": f"Cliente {serial}",
            "postal_code": "01310100",
            "street": "Avenida Paulista",
            "number": "1000",
            "complement": "apto 12",
            "district": "Bela Vista",
            "city": "São Paulo",
            "state": "SP",
            "country": "BR",
        },
        "lines": lines,
        "subtotal": f"{subtotal / 100:.2f}",
        "shipping_total": f"{shipping / 100:.2f}",
        "discount_total": "0.00",
        "tax_total": "0.00",
        "total": f"{(subtotal + shipping) / 100:.2f}",
        "payment_status": "paid" if paid else "pending",
        "payment_method": "pix",
        "installments": 1,
        "shipping_method": "SEDEX",
    }
    if paid:
        data["paid_at"] = data["placed_at"]
    return json.dumps(data).encode()


def signed_headers(body: bytes, delivery_id: str) -> dict[str, str]:
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Retaguarda-Signature": f"sha256={signature}",
        "X-Retaguarda-Delivery": delivery_id,
        "X-Retaguarda-Event": "order.created",
    }


# --- database and server ----------------------------------------------------------------------


def seed(url: str) -> None:
    """One warehouse, N_SKUS products with their levels and receipt movements (so the
    ledger check holds), the channel. Ids of products and levels are fixed ranges."""
    django_setup(url, REDIS_URL=REDIS_URL)
    from django.db import connection

    from inventory.models import Product, StockLevel, StockMovement, Warehouse
    from orders.models import Channel

    warehouse = Warehouse.objects.create(code="cd-bench", name="CD Bench", priority=1)
    Product.objects.bulk_create(
        Product(
            id=PRODUCT_BASE + n,
            sku=f"SKU-{n:05d}",
            name=f"Produto {n}",
            cost="10.00",
            price=f"{(1990 + (n % 50) * 100) / 100:.2f}",
        )
        for n in range(1, N_SKUS + 1)
    )
    StockLevel.objects.bulk_create(
        StockLevel(
            id=LEVEL_BASE + n,
            product_id=PRODUCT_BASE + n,
            warehouse=warehouse,
            on_hand=ON_HAND,
        )
        for n in range(1, N_SKUS + 1)
    )
    StockMovement.objects.bulk_create(
        StockMovement(
            product_id=PRODUCT_BASE + n,
            warehouse=warehouse,
            on_hand_delta=ON_HAND,
            reason=StockMovement.Reason.RECEIPT,
            reference="bench seed",
        )
        for n in range(1, N_SKUS + 1)
    )
    Channel.objects.create(
        name="Bench", slug=CHANNEL_SLUG, platform="generic", webhook_secret=SECRET
    )
    with connection.cursor() as cursor:
        for table in ("inventory_product", "inventory_stocklevel"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        cursor.execute("ANALYZE")
    connection.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_gunicorn(url: str, *, workers: int, port: int, conn_max_age: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": REDIS_URL,
        "CONN_MAX_AGE": str(conn_max_age),
        "DJANGO_DEBUG": "0",
        "DJANGO_SETTINGS_MODULE": "backoffice.settings",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    proc = subprocess.Popen(
        [
            gunicorn,
            "backoffice.wsgi:application",
            "--worker-class",
            "sync",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--backlog",
            "2048",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/webhooks/nope/")
            conn.getresponse().read()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("gunicorn did not start")


def stop_gunicorn(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


# --- where the CPU goes ---------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def cpu_snapshot(server_sid: int | None = None, dbname: str = "") -> dict[str, float]:
    """CPU seconds used so far, from /proc: the whole machine (busy = all but idle and
    iowait), the PostgreSQL processes serving ``dbname`` plus the server's background
    processes (the live backends of other databases are left in "other"), and the
    processes of the gunicorn session.
    A backend that ended between two snapshots (pgbench's connections) is counted through
    the postmaster, which reaps it: its children's CPU counts as PostgreSQL's (whatever
    their database), so take a snapshot only once the backends that ended have been
    reaped (``backends_settle``; ``bench.common.quiesce`` waits for its own).
    Gunicorn workers and its backends live for the whole run; pgbench itself is counted
    by the caller."""
    with open("/proc/stat") as fh:
        fields = [int(x) for x in fh.readline().split()[1:]]
    idle = fields[3] + fields[4]
    snap = {"machine_busy": (sum(fields[:8]) - idle) / _TICK, "postgres": 0.0, "server": 0.0}
    for pid, comm, rest in _processes():
        used = (int(rest[11]) + int(rest[12])) / _TICK  # utime + stime
        if comm == "postgres":
            title = _title(pid)
            if title is None:
                continue
            if not title.startswith("postgres: "):  # the postmaster, + its reaped children
                snap["postgres"] += used + (int(rest[13]) + int(rest[14])) / _TICK
            elif _postgres_counts(title, dbname):
                snap["postgres"] += used
        elif server_sid is not None and int(rest[3]) == server_sid:  # session id
            snap["server"] += used
    return snap


def _processes() -> Iterator[tuple[str, str, list[str]]]:
    """Every process in /proc: its pid, command name and the fields of its stat line after
    the name (state first)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        yield (
            entry,
            stat[stat.index("(") + 1 : stat.rindex(")")],
            stat[stat.rindex(")") + 2 :].split(),
        )


def _title(pid: str) -> str | None:
    """The process title (a PostgreSQL backend's names its database), None once gone."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None


_BACKGROUND = ("checkpointer", "background writer", "walwriter", "autovacuum", "logical rep")


def _postgres_counts(title: str, dbname: str) -> bool:
    """A backend of ``dbname``, or one of the server's own background processes."""
    # "postgres: [cluster: ]walwriter" or "postgres: [cluster: ]user db host(port) state"
    return any(f": {name}" in title for name in _BACKGROUND) or (
        bool(dbname) and f" {dbname} " in title
    )


def backends_settle(dbname: str, count: int, timeout: float = 5.0) -> None:
    """Wait until ``dbname`` has ``count`` backends again (the ones that ended reaped by
    the postmaster, so their CPU shows in its children's time)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and backend_count(dbname) != count:
        time.sleep(0.05)


def backend_count(dbname: str) -> int:
    """Live backends of ``dbname``, plus any PostgreSQL process that has ended and is not
    reaped yet (a zombie has no title: it may be one of them)."""
    n = 0
    for pid, comm, rest in _processes():
        if comm != "postgres" or (title := _title(pid)) is None:
            continue
        ended = rest[0] in "ZX" or not title
        n += ended or (title.startswith("postgres: ") and f" {dbname} " in title)
    return n


def cpu_parts(before: dict[str, float], after: dict[str, float], **extra: float) -> dict:
    """CPU seconds by part between two snapshots; "other" is the rest of the machine's
    busy time (the load generator or pgbench when not given, other work on the machine)."""
    parts = {k: after[k] - before[k] for k in after}
    parts.update(extra)
    known = sum(v for k, v in parts.items() if k != "machine_busy")
    parts["other"] = max(0.0, parts["machine_busy"] - known)
    return parts


def per_order(parts: dict[str, float], n: int) -> dict:
    """Milliseconds of CPU per order by part."""
    if not n:
        return {}
    return {f"{k}_ms": round(1000 * v / n, 2) for k, v in parts.items()}


def cpu_per_order(
    before: dict[str, float], after: dict[str, float], n: int, **extra: float
) -> dict:
    return per_order(cpu_parts(before, after, **extra), n)


def statements_reset(dbname: str) -> bool:
    """Reset pg_stat_statements when the server has it loaded (shared_preload_libraries);
    False when it does not."""
    import psycopg

    from bench.common import pg_url

    with psycopg.connect(pg_url(dbname), autocommit=True) as conn:
        loaded = conn.execute(
            "SELECT 'pg_stat_statements' = ANY(string_to_array(current_setting("
            "'shared_preload_libraries'), ', '))"
        ).fetchone()
        if not (loaded and loaded[0]):
            return False
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        conn.execute("SELECT pg_stat_statements_reset()")
    return True


def statements_top(dbname: str, orders: int, limit: int = 12) -> list[dict[str, Any]]:
    """The statements that took the most execution time since the reset, per order."""
    import psycopg

    from bench.common import pg_url

    with psycopg.connect(pg_url(dbname), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 90), calls, total_exec_time,"
            " shared_blks_hit + shared_blks_read FROM pg_stat_statements"
            " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " ORDER BY total_exec_time DESC LIMIT %s",
            [limit],
        ).fetchall()
    n = max(orders, 1)
    return [
        {
            "query": q,
            "calls_per_order": round(calls / n, 2),
            "ms_per_order": round(total / n, 3),
            "ms_per_call": round(total / max(calls, 1), 3),
            "blocks_per_call": round(blocks / max(calls, 1), 1),
        }
        for q, calls, total, blocks in rows
    ]


# --- the load generator ---------------------------------------------------------------------


def client_proc(
    *,
    port: int,
    tag: str,
    serial_base: int,
    index: int,
    count: int,
    hot: bool,
    paid: bool,
    seconds: float,
    barrier: Any,
    out: Any,
) -> None:
    """One client: prebuild its requests, wait for the others, post until done or out of
    time; report latencies of 2xx answers and counts of everything else. Order ``seq``
    has serial ``serial_base + seq`` (its CPF, unique in the run) and key
    ``B<tag>-<index>-<seq>`` (its ids and e-mail).

    Each request is sent whole (request line, headers and body built before the clock
    starts) on a connection of its own with ``Connection: close``, as gunicorn's sync
    workers answer anyway, and the answer is read to the server's close: the load
    generator's CPU per order is about pgbench's own (its client is C), where
    ``http.client`` (its header parsing through the ``email`` package) cost twice that,
    on the same two cores as the app."""
    rng = random.Random(serial_base)
    requests = []
    path = f"/api/webhooks/{CHANNEL_SLUG}/"
    for seq in range(count):
        serial = serial_base + seq
        key = f"B{tag}-{index}-{seq}"
        body = order_body(key=key, serial=serial, products=line_products(rng, hot), paid=paid)
        requests.append(http_request(port, path, body, signed_headers(body, f"d-{key}")))
    latencies: list[float] = []
    codes: dict[str, int] = {}
    processed = errors = 0
    barrier.wait()
    cpu0 = time.process_time()
    start = time.monotonic()
    deadline = start + seconds
    end = start
    for request in requests:
        if time.monotonic() >= deadline:
            break
        t0 = time.monotonic()
        try:
            status, data = http_post(port, request)
        except OSError:
            errors += 1
            continue
        end = time.monotonic()
        codes[str(status)] = codes.get(str(status), 0) + 1
        if 200 <= status < 300:
            latencies.append(end - t0)
            if b'"processed"' in data:
                processed += 1
    out.put(
        {
            "latencies": latencies,
            "codes": codes,
            "errors": errors,
            "processed": processed,
            "end": end,
            "cpu_s": time.process_time() - cpu0,
        }
    )


def http_request(port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    """A whole HTTP/1.1 POST, ready to send; the server closes the connection after it."""
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


_STATUS_LINE = re.compile(rb"HTTP/1\.[01] (\d{3}) ")


def http_post(port: int, request: bytes) -> tuple[int, bytes]:
    """Send ``request`` on a new connection; the status code and the whole answer (read
    until the server closes). OSError on a connection problem or a malformed answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    data = b"".join(chunks)
    match = _STATUS_LINE.match(data)
    if match is None:
        raise OSError(f"not an HTTP answer: {data[:60]!r}")
    return int(match.group(1)), data


def load_step(
    *,
    port: int,
    tag: str,
    serial_base: int,
    clients: int,
    max_orders: int,
    seconds: float,
    hot: bool,
    paid: bool,
    server_sid: int | None = None,
) -> dict[str, Any]:
    from bench.common import quiesce

    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(clients + 1)
    out = ctx.Queue()
    per_client = -(-max_orders // clients)
    procs = [
        ctx.Process(
            target=client_proc,
            kwargs={
                "port": port,
                "tag": tag,
                "serial_base": serial_base + i * per_client,
                "index": i,
                "count": per_client,
                "hot": hot,
                "paid": paid,
                "seconds": seconds,
                "barrier": barrier,
                "out": out,
            },
        )
        for i in range(clients)
    ]
    for p in procs:
        p.start()
    quiesce(DB_NAME)
    barrier.wait()
    cpu0 = cpu_snapshot(server_sid, DB_NAME)
    start = time.monotonic()
    results = [out.get(timeout=seconds + 120) for _ in procs]
    cpu1 = cpu_snapshot(server_sid, DB_NAME)
    for p in procs:
        p.join()
    latencies = sorted(x for r in results for x in r["latencies"])
    codes: dict[str, int] = {}
    for r in results:
        for code, n in r["codes"].items():
            codes[code] = codes.get(code, 0) + n
    elapsed = max(r["end"] for r in results) - start
    ok = len(latencies)
    cpu = cpu_parts(cpu0, cpu1, load_generator=sum(r["cpu_s"] for r in results))
    return {
        "clients": clients,
        "acks_2xx": ok,
        "processed": sum(r["processed"] for r in results),
        "errors": sum(r["errors"] for r in results)
        + sum(n for c, n in codes.items() if c[0] != "2"),
        "codes": codes,
        "elapsed_s": round(elapsed, 2),
        "orders_per_s": round(ok / elapsed, 1) if elapsed > 0 else 0.0,
        "p50_ms": round(1000 * latencies[len(latencies) // 2], 1) if latencies else None,
        "p99_ms": round(1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 1)
        if latencies
        else None,
        "mean_ms": round(1000 * statistics.fmean(latencies), 1) if latencies else None,
        "cpu_per_order": per_order(cpu, ok),
        # for merge_app (slices of one step); not written to the results file
        "_latencies": latencies,
        "_elapsed": elapsed,
        "_cpu_s": cpu,
    }


def pgbench_step(
    *, dbname: str, clients: int, seconds: int, run: int, hot: bool, script: Path = SCRIPT
) -> dict[str, Any]:
    from bench.common import pg_url, quiesce

    cmd = [
        "pgbench",
        "-n",
        "-f",
        str(script.relative_to(ROOT)),
        "-c",
        str(clients),
        "-j",
        str(min(2, clients)),
        "-T",
        str(seconds),
        "-D",
        f"rg_run={run}",
        "-D",
        "rg_i=0",
        "-D",
        f"rg_hot={1 if hot else 0}",
        pg_url(dbname),
    ]
    quiesce(dbname)
    resident = backend_count(dbname)  # gunicorn's, idle during this step
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu0 = cpu_snapshot(dbname=dbname)
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    backends_settle(dbname, resident)
    cpu1 = cpu_snapshot(dbname=dbname)
    children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    text = proc.stdout + proc.stderr
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", text)
    failed = re.search(r"number of failed transactions: (\d+)", text)
    latency = re.search(r"latency average = ([\d.]+) ms", text)
    processed = re.search(r"number of transactions actually processed: (\d+)", text)
    if proc.returncode != 0 or tps is None:
        print(text, file=sys.stderr)
    n = int(processed.group(1)) if processed else 0
    cpu = cpu_parts(
        cpu0,
        cpu1,
        pgbench=(children1.ru_utime + children1.ru_stime)
        - (children0.ru_utime + children0.ru_stime),
    )
    return {
        "tps": float(tps.group(1)) if tps else None,
        "latency_avg_ms": float(latency.group(1)) if latency else None,
        "failed": int(failed.group(1)) if failed else None,
        "returncode": proc.returncode,
        "command": " ".join([*cmd[:-1], dbname]),
        "processed": n,
        "cpu_per_order": per_order(cpu, n),
        "_cpu_s": cpu,
    }


def _sum_parts(slices: list[dict[str, Any]]) -> dict[str, float]:
    total: dict[str, float] = {}
    for part in slices:
        for k, v in part["_cpu_s"].items():
            total[k] = total.get(k, 0.0) + v
    return total


def merge_app(slices: list[dict[str, Any]]) -> dict[str, Any]:
    """One step's app slices as one measurement: orders over the slices' summed time,
    percentiles over all their latencies, CPU summed."""
    latencies = sorted(x for part in slices for x in part["_latencies"])
    elapsed = sum(part["_elapsed"] for part in slices)
    ok = len(latencies)
    codes: dict[str, int] = {}
    for part in slices:
        for code, n in part["codes"].items():
            codes[code] = codes.get(code, 0) + n
    return {
        "clients": slices[0]["clients"],
        "acks_2xx": ok,
        "processed": sum(part["processed"] for part in slices),
        "errors": sum(part["errors"] for part in slices),
        "codes": codes,
        "elapsed_s": round(elapsed, 2),
        "orders_per_s": round(ok / elapsed, 1) if elapsed > 0 else 0.0,
        "p50_ms": round(1000 * latencies[ok // 2], 1) if latencies else None,
        "p99_ms": round(1000 * latencies[min(ok - 1, int(ok * 0.99))], 1) if latencies else None,
        "mean_ms": round(1000 * statistics.fmean(latencies), 1) if latencies else None,
        "cpu_per_order": per_order(_sum_parts(slices), ok),
        "slices_orders_per_s": [part["orders_per_s"] for part in slices],
    }


def merge_pgbench(slices: list[dict[str, Any]]) -> dict[str, Any]:
    """One step's pgbench slices as one: transactions over the slices' summed time (each
    slice's time without its connection set-up, as pgbench's tps counts it)."""
    timed = [part for part in slices if part["tps"]]
    n = sum(part["processed"] for part in timed)
    elapsed = sum(part["processed"] / part["tps"] for part in timed)
    return {
        "tps": round(n / elapsed, 1) if elapsed > 0 else None,
        "latency_avg_ms": round(
            sum(part["latency_avg_ms"] * part["processed"] for part in timed) / n, 3
        )
        if n and all(part["latency_avg_ms"] is not None for part in timed)
        else None,
        "failed": None
        if any(part["failed"] is None for part in slices)
        else sum(part["failed"] for part in slices),
        "returncode": max(part["returncode"] for part in slices),
        "command": slices[0]["command"],
        "processed": n,
        "cpu_per_order": per_order(_sum_parts(timed), n),
        "slices_tps": [part["tps"] for part in slices],
    }


def verify(acks: int) -> dict[str, Any]:
    """Orders the app stored == its 2xx acks (pgbench's rows are told apart by their
    'pgb-' external ids); outbox rows written; stock levels agree with the ledger."""
    from django.db import connection

    from crm.models import Notification
    from inventory.selectors import stock_ledger_check
    from orders.models import Order, WebhookDelivery

    app_orders = Order.objects.exclude(external_id__startswith="pgb-")
    out = {
        "app_orders": app_orders.count(),
        "acks_2xx": acks,
        "deliveries_failed": WebhookDelivery.objects.filter(status="failed").count(),
        "app_outbox_rows": Notification.objects.filter(
            order_id__in=app_orders.values("pk")
        ).count(),
        "pgbench_orders": Order.objects.filter(external_id__startswith="pgb-").count(),
        "ledger_problems": [str(p) for p in stock_ledger_check()],
    }
    out["ok"] = out["app_orders"] == acks and not out["ledger_problems"]
    connection.close()
    return out


def run(args: argparse.Namespace) -> None:
    if not SCRIPT.exists():
        raise SystemExit(f"{SCRIPT} is missing: run bench/ingest.py --capture first")
    url = recreate_database(DB_NAME)
    seed(url)
    port = free_port()
    server = start_gunicorn(url, workers=args.workers, port=port, conn_max_age=600)
    started = datetime.now(UTC)
    steps: list[dict[str, Any]] = []
    total_acks = 0
    serial = 1_000_000  # the next order's serial (its CPF): unique in the run
    try:
        warm = load_step(
            port=port, tag="W", serial_base=serial, clients=args.workers,
            max_orders=30 * args.workers, seconds=10, hot=args.hot, paid=args.paid,
        )  # fmt: skip
        serial += 30 * args.workers + args.workers
        total_acks += warm["acks_2xx"]
        # both sides get the same whole seconds per slice (pgbench's -T takes an integer)
        slice_seconds = max(1, round(args.seconds / args.slices))
        slice_orders = -(-args.max_orders // args.slices)
        for i, clients in enumerate(args.steps, start=1):
            if args.statements:
                statements_reset(DB_NAME)
            app_slices: list[dict[str, Any]] = []
            pg_slices: list[dict[str, Any]] = []
            for s in range(args.slices):
                # ABBA: app then pgbench, pgbench then app, ...: a drift of the machine's
                # speed during the step weighs on both sides alike.
                for side in ("app", "pgbench") if s % 2 == 0 else ("pgbench", "app"):
                    if side == "app":
                        part = load_step(
                            port=port,
                            tag=f"{i}.{s}",
                            serial_base=serial,
                            clients=clients,
                            max_orders=slice_orders,
                            seconds=slice_seconds,
                            hot=args.hot,
                            paid=args.paid,
                            server_sid=server.pid,
                        )
                        serial += slice_orders + clients
                        app_slices.append(part)
                    elif not args.app_only:
                        pg_slices.append(
                            pgbench_step(
                                dbname=DB_NAME,
                                clients=clients,
                                seconds=slice_seconds,
                                run=i * 10 + s,
                                hot=args.hot,
                            )
                        )
            app = merge_app(app_slices)
            total_acks += app["acks_2xx"]
            if args.statements:
                app["statements"] = statements_top(DB_NAME, app["acks_2xx"])
                for row in app["statements"]:
                    print(f"      {row}", flush=True)
            pg = merge_pgbench(pg_slices) if pg_slices else {"tps": None, "failed": None}
            ratio = round(app["orders_per_s"] / pg["tps"], 3) if pg["tps"] else None
            # The machine is shared: the 1-minute load average says how busy it was.
            load = round(os.getloadavg()[0], 1)
            steps.append({**app, "pgbench": pg, "ratio": ratio, "loadavg_1m": load})
            print(
                f"c={clients:>2}  app {app['orders_per_s']:>7.1f} orders/s  "
                f"p50 {app['p50_ms']} ms  p99 {app['p99_ms']} ms  errors {app['errors']}  "
                f"| pgbench {pg['tps']} tps (failed {pg['failed']})  ratio {ratio}  "
                f"load {load}",
                flush=True,
            )
            print(f"      cpu ms/order  app {_cpu(app)}  | pgbench {_cpu(pg)}", flush=True)
            print(
                f"      slices  app orders/s {app['slices_orders_per_s']}  "
                f"| pgbench tps {pg.get('slices_tps')}",
                flush=True,
            )
    finally:
        stop_gunicorn(server)
    checks = verify(total_acks)
    report = {
        "date": started.isoformat(timespec="seconds"),
        "command": " ".join(["bench/ingest.py", *sys.argv[1:]]),
        "workers": args.workers,
        "slices": args.slices,
        "hot": args.hot,
        "paid": args.paid,
        "statements_per_order": _script_statements(),
        "steps": steps,
        "checks": checks,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = f"ingest{'-hot' if args.hot else ''}-{started:%Y%m%dT%H%M%S}"
    (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=2))
    print(_table(report))
    print()
    print(_cpu_table(report))
    print(f"checks: {json.dumps(checks)}")
    print(f"results: bench/results/{name}.json")
    _flush_redis()
    if not checks["ok"]:
        raise SystemExit("verification failed")


def _script_statements() -> int:
    text = SCRIPT.read_text() if SCRIPT.exists() else ""
    return sum(
        1 for line in text.splitlines() if line.strip() and not line.startswith(("--", "\\set"))
    )


def _cpu(step: dict[str, Any]) -> str:
    cpu = step.get("cpu_per_order") or {}
    return " ".join(f"{k[:-3]} {v}" for k, v in cpu.items())


def _cpu_table(report: dict[str, Any]) -> str:
    """CPU milliseconds per order: the app (gunicorn, PostgreSQL, the load generator,
    anything else) against pgbench (PostgreSQL, pgbench itself, anything else)."""
    rows = [
        "| clients | app: gunicorn | app: PostgreSQL | load generator | other | app total "
        "| pgbench: PostgreSQL | pgbench client | other | pgbench total |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in report["steps"]:
        a = s.get("cpu_per_order") or {}
        b = s["pgbench"].get("cpu_per_order") or {}
        if not a or not b:
            continue
        rows.append(
            f"| {s['clients']} | {a['server_ms']} | {a['postgres_ms']} | "
            f"{a['load_generator_ms']} | {a['other_ms']} | {a['machine_busy_ms']} | "
            f"{b['postgres_ms']} | {b['pgbench_ms']} | {b['other_ms']} | {b['machine_busy_ms']} |"
        )
    return "\n".join(rows)


def _table(report: dict[str, Any]) -> str:
    rows = [
        "| clients | orders/s | p50 ms | p99 ms | errors | pgbench tps | ratio | load |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in report["steps"]:
        rows.append(
            f"| {s['clients']} | {s['orders_per_s']} | {s['p50_ms']} | {s['p99_ms']} | "
            f"{s['errors']} | {round(s['pgbench']['tps'] or 0, 1)} | {s['ratio']} | "
            f"{s['loadavg_1m']} |"
        )
    return "\n".join(rows)


def _flush_redis() -> None:
    """Drop the Celery messages the run queued (nobody consumes them)."""
    try:
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()
    except Exception as exc:  # the run's figures stand without it
        print(f"could not flush {REDIS_URL}: {exc}", file=sys.stderr)


# --- capture: the SQL of one order, as a pgbench script ------------------------------------------

# Sequences moved to distinctive values before the capture, so every id in the captured
# SQL can be told from prices, quantities and timestamps and becomes a variable.
CAPTURE_SEQUENCES = {
    "orders_webhookdelivery": 840_000_000,
    "orders_order": 810_000_000,
    "orders_orderline": 820_000_000,
    "crm_customer": 830_000_000,
    "crm_notification": 850_000_000,
    "inventory_reservation": 860_000_000,
    "inventory_stockmovement": 870_000_000,
    "orders_orderevent": 880_000_000,
    "orders_orderhold": 890_000_000,
}
# Tables whose new id later statements use: INSERT ... RETURNING id \gset <prefix>.
GSET_PREFIX = {
    "orders_webhookdelivery": "rg_delivery_",
    "crm_customer": "rg_customer_",
    "orders_order": "rg_order_",
    "crm_notification": "rg_notification_",
}
CAPTURE_KEY = "RGCAPKEY1"
CAPTURE_SERIAL = 987_654_321
CAPTURE_PRODUCTS = [PRODUCT_BASE + 100, PRODUCT_BASE + 400, PRODUCT_BASE + 800]

SCRIPT_HEADER = """\
-- The SQL statements one signed webhook order (3 lines, new customer) issues on the
-- ingest path, as a pgbench script: the app's side of the ratio in bench/ingest.py.
--
-- Generated by `bench/ingest.py --capture` (do not edit by hand; re-generate it after a
-- change of the ingest path): one order is posted through Django's test client in
-- autocommit, as gunicorn runs it; every statement the database connection executes is
-- recorded with its literal values (Django's psycopg client-side binding sends exactly
-- these), transaction boundaries become BEGIN/COMMIT, and the values that must differ per
-- order become pgbench variables: ids returned by INSERT ... RETURNING (\\gset), the
-- delivery id, order number, e-mail and CPF (from rg_key, unique per run, client and
-- transaction), and the 3 products and their stock levels (drawn as bench/ingest.py's
-- load generator draws them; rg_hot=1 sends half of the lines to 10 SKUs). pgbench needs
-- -D rg_run=<unique per invocation> -D rg_i=0 -D rg_hot=0|1.
-- {health}
--
-- Statements per order: {count} ({savepoints} of them SAVEPOINT/RELEASE, {txn} BEGIN/COMMIT).
\\set rg_i :rg_i + 1
\\set rg_key :rg_run * 10000000 + :client_id * 100000 + :rg_i
\\set rg_doc 10000000000 + :rg_key
{draws}\\set rg_p1 least(:rg_x1, :rg_x2, :rg_x3)
\\set rg_p3 greatest(:rg_x1, :rg_x2, :rg_x3)
\\set rg_p2 :rg_x1 + :rg_x2 + :rg_x3 - :rg_p1 - :rg_p3
\\set rg_l1 :rg_p1 + {level_offset}
\\set rg_l2 :rg_p2 + {level_offset}
\\set rg_l3 :rg_p3 + {level_offset}
"""


class Recorder:
    """An execute_wrapper keeping each statement with its literal values and the
    transaction it ran in (None: autocommit)."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.statements: list[tuple[str, int | None]] = []

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        conn = self.connection
        if many:
            raise SystemExit("executemany on the ingest path: the capture does not handle it")
        literal = conn.ops.compose_sql(sql, params) if params is not None else sql
        block = id(conn.atomic_blocks[0]) if conn.in_atomic_block and conn.atomic_blocks else None
        self.statements.append((literal, block))
        return execute(sql, params, many, context)


def capture_order(client: Any, *, key: str, serial: int, products: list[int]) -> Any:
    body = order_body(key=key, serial=serial, products=products, paid=False)
    headers = signed_headers(body, f"d-{key}")
    response = client.post(
        f"/api/webhooks/{CHANNEL_SLUG}/",
        data=body,
        content_type="application/json",
        headers={k: v for k, v in headers.items() if k != "Content-Type"},
    )
    if response.status_code != 200 or response.json().get("status") != "processed":
        raise SystemExit(
            f"capture order not processed: {response.status_code} {response.content!r}"
        )
    return response.json()


def warm_up(client: Any, rng: random.Random, count: int) -> None:
    """Post ``count`` orders first: the first requests' work (imports, caches, the
    connection) is not the steady state an in-process measurement wants."""
    for i in range(count):
        capture_order(client, key=f"W{i}", serial=200 + i, products=line_products(rng, False))


def in_process_client(rng_seed: int) -> tuple[Any, random.Random]:
    """A fresh, seeded bench database with Django set up on it in this process; Django's
    test client (the same middleware and view gunicorn runs) and a seeded draw of
    products. For --capture, --profile and --phases."""
    url = recreate_database(DB_NAME)
    seed(url)
    django_setup(url, REDIS_URL=REDIS_URL)
    from django.test import Client

    return Client(SERVER_NAME="127.0.0.1"), random.Random(rng_seed)


def capture(args: argparse.Namespace) -> None:
    client, rng = in_process_client(7)
    from django.conf import settings
    from django.db import connection

    from crm.models import Customer, Notification
    from orders.models import Order, OrderLine, WebhookDelivery

    for i in range(5):  # warm: first-request work is not the steady state
        capture_order(client, key=f"WARM{i}", serial=100 + i, products=line_products(rng, False))
    with connection.cursor() as cursor:
        for table, start in CAPTURE_SEQUENCES.items():
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {start})")
    recorder = Recorder(connection)
    with connection.execute_wrapper(recorder):
        answer = capture_order(
            client, key=CAPTURE_KEY, serial=CAPTURE_SERIAL, products=CAPTURE_PRODUCTS
        )
    order = Order.objects.get(pk=answer["order_id"])
    lines = list(OrderLine.objects.filter(order=order).order_by("id"))
    if [line.product_id for line in lines] != CAPTURE_PRODUCTS:
        raise SystemExit("captured lines are not in product order")
    email = order.email
    document = Customer.objects.get(pk=order.customer_id).document
    delivery = WebhookDelivery.objects.get(pk=answer["delivery_id"])
    ids: dict[int, str] = {
        delivery.pk: "rg_delivery_id",
        order.pk: "rg_order_id",
        order.customer_id: "rg_customer_id",
        **{line.pk: f"rg_line{k}" for k, line in enumerate(lines, start=1)},
        **{p: f"rg_p{k}" for k, p in enumerate(CAPTURE_PRODUCTS, start=1)},
        **{p - PRODUCT_BASE + LEVEL_BASE: f"rg_l{k}" for k, p in enumerate(CAPTURE_PRODUCTS, 1)},
    }
    for n in Notification.objects.filter(order_id=order.pk):
        ids[n.pk] = "rg_notification_id"
    texts = {
        delivery.delivery_id: "pgbd-:rg_key",
        CAPTURE_KEY.lower(): "pgbm-:rg_key",  # the e-mail's local part
        CAPTURE_KEY: "pgb-:rg_key",
        document: ":rg_doc",
    }
    if email.split("@")[0] != CAPTURE_KEY.lower():
        raise SystemExit(f"unexpected e-mail {email}")

    out: list[str] = []
    current: int | None = None
    savepoints = txn = 0
    for sql, block in recorder.statements:
        if block != current:
            if current is not None:
                out.append("COMMIT;")
                txn += 1
            if block is not None:
                out.append("BEGIN;")
                txn += 1
            current = block
        if re.match(r"\s*(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT)", sql):
            savepoints += 1
        out.append(_pgbench_statement(sql, ids=ids, texts=texts))
    if current is not None:
        out.append("COMMIT;")
        txn += 1
    health = ""
    if settings.DATABASES["default"].get("CONN_HEALTH_CHECKS"):
        # Django pings a persistent connection once per request before using it.
        out.insert(0, "SELECT 1;")
        health = "CONN_HEALTH_CHECKS is on: Django sends SELECT 1 first on every request."
    draws = "".join(
        f"\\set rg_x{k} case when :rg_hot = 1 and random(0, 1) = 1 "
        f"then random({PRODUCT_BASE + hot[0]}, {PRODUCT_BASE + hot[1]}) "
        f"else random({PRODUCT_BASE + third[0]}, {PRODUCT_BASE + third[1]}) end\n"
        for k, (hot, third) in enumerate(zip(HOT_GROUPS, THIRDS, strict=True), start=1)
    )
    header = SCRIPT_HEADER.format(
        health=health,
        count=len(out),
        savepoints=savepoints,
        txn=txn,
        draws=draws,
        level_offset=LEVEL_BASE - PRODUCT_BASE,
    )
    SCRIPT.write_text(header + "\n".join(out) + "\n")
    kinds: dict[str, int] = {}
    for line in out:
        word = line.split()[0].upper()
        kinds[word] = kinds.get(word, 0) + 1
    print(f"{len(out)} statements per order: {kinds}")
    print(f"wrote {SCRIPT.relative_to(ROOT)}")
    if args.verbose:
        print("\n".join(out))
    connection.close()
    _flush_redis()


_LITERAL = re.compile(r"'(?:[^']|'')*'")


def _pgbench_statement(sql: str, *, ids: dict[int, str], texts: dict[str, str]) -> str:
    """One captured statement as a pgbench command: per-order values become variables."""
    sql = " ".join(sql.split("\n"))
    for value, var in sorted(texts.items(), key=lambda kv: -len(kv[0])):
        sql = sql.replace(value, var)
    number = re.compile(r"(?<![\w.])(" + "|".join(str(k) for k in ids) + r")(?![\w.])")
    sql = number.sub(lambda m: ":" + ids[int(m.group(1))], sql)
    # pgbench skips ':' runs ("::" is a cast), so a variable right after a ':' inside a
    # string ('order::rg_order_id:...') would stay unexpanded: split such literals.
    sql = _LITERAL.sub(_split_literal, sql)
    returning = re.search(r'^INSERT INTO "(\w+)" .* RETURNING (?:"\w+"\.)?"id"$', sql)
    if returning:
        table = returning.group(1)
        if table in GSET_PREFIX:
            return f"{sql} \\gset {GSET_PREFIX[table]}"
        if table == "orders_orderline":
            # Several rows: their ids in insertion order, one variable each.
            picks = ", ".join(
                f"(array_agg(id ORDER BY id))[{k}] AS rg_line{k}" for k in range(1, 4)
            )
            return f"WITH rg_ins AS ({sql}) SELECT {picks} FROM rg_ins \\gset"
    return sql + ";"


def _split_literal(match: re.Match[str]) -> str:
    text = match.group(0)
    if "::rg_" not in text:
        return text
    body = text[1:-1]
    parts = re.split(r"(?<=:):(rg_\w+)", body)
    pieces = []
    for i, part in enumerate(parts):
        if i % 2:
            pieces.append(f":{part}")
        elif part:
            pieces.append(f"'{part}'")
    return "(" + " || ".join(pieces) + ")"


# --- profile -----------------------------------------------------------------------------------


def profile(args: argparse.Namespace) -> None:
    """pyinstrument over N orders posted in-process through Django's test client (the
    same middleware and view gunicorn runs), after a short warm-up."""
    from pyinstrument import Profiler

    client, rng = in_process_client(11)
    from django.db import connection

    warm_up(client, rng, 20)
    statements = [0]

    def counter(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements[0] += 1
        return execute(sql, params, many, context)

    profiler = Profiler(interval=0.0005)
    t0 = time.perf_counter()
    with connection.execute_wrapper(counter):
        profiler.start()
        for i in range(args.profile):
            capture_order(
                client, key=f"P{i}", serial=300_000 + i, products=line_products(rng, args.hot)
            )
        profiler.stop()
    elapsed = time.perf_counter() - t0
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%S}"
    html = RESULTS / f"ingest-profile-{stamp}.html"
    html.write_text(profiler.output_html())
    text = profiler.output_text(unicode=True, color=False, show_all=False)
    (RESULTS / f"ingest-profile-{stamp}.txt").write_text(text)
    print(text)
    print(
        f"{args.profile} orders in {elapsed:.2f} s in-process, one process "
        f"({args.profile / elapsed:.1f} orders/s under the profiler); "
        f"{statements[0] / args.profile:.1f} statements per order"
    )
    print(f"profile: bench/results/{html.name}")
    connection.close()
    _flush_redis()


# Instructions per order (``--instructions``): valgrind's callgrind counts the
# instructions this process executes, not seconds, so the count does not move with the
# machine's speed or load: an A/B of a Python-side change reads the same within ~2 % run
# to run (the outbox's 1-second burst window, in wall time, moves a few Redis publishes),
# where CPU seconds on this machine drift by 30-60 % within the hour. PostgreSQL's side
# (another process) is not counted.
CALLGRIND_ENV = "RG_BENCH_UNDER_CALLGRIND"


def instructions(args: argparse.Namespace) -> None:
    """Re-run this script under callgrind: warm up, zero the counters, post N orders
    in-process (Django's test client: the middleware and view gunicorn runs), dump; print
    the instructions per order. ``--db`` lets two runs (two checkouts) go side by side."""
    if os.environ.get(CALLGRIND_ENV):
        _instructions_measured(args)
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%S}"
    out = RESULTS / f"callgrind-ingest-{stamp}-{os.getpid()}"
    cmd = [
        "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}.%p",
        sys.executable, os.path.abspath(__file__),
        "--instructions", str(args.instructions), "--db", DB_NAME,
    ]  # fmt: skip
    proc = subprocess.run(
        cmd, env={**os.environ, CALLGRIND_ENV: "1"}, capture_output=True, text=True, check=False
    )
    files = sorted(RESULTS.glob(f"{out.name}.*"))
    texts = [p.read_text() for p in files]
    for p in files:
        p.unlink()
    # callgrind writes one file at exit and one per `callgrind_control -d`: ours is tagged
    measured = [t for t in texts if "desc: Trigger: dump measured" in t]
    if proc.returncode != 0 or not measured:
        raise SystemExit(f"callgrind run failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    summary = re.search(r"^summary: (\d+)", measured[0], re.M)
    if summary is None:
        raise SystemExit("no instruction count in callgrind's dump")
    total = int(summary.group(1))
    print(
        f"{args.instructions} orders in-process: {total / args.instructions / 1e6:.2f} M "
        f"instructions per order ({total:,} in all; {ROOT.name} at {_git_head()})"
    )


def _instructions_measured(args: argparse.Namespace) -> None:
    client, rng = in_process_client(11)
    warm_up(client, rng, 20)
    pid = str(os.getpid())
    subprocess.run(["callgrind_control", "-z", pid], check=True, capture_output=True)
    for i in range(args.instructions):
        capture_order(client, key=f"I{i}", serial=400_000 + i, products=line_products(rng, False))
    subprocess.run(["callgrind_control", "-d", "measured", pid], check=True, capture_output=True)


def _git_head() -> str:
    proc = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    return proc.stdout.strip() or "?"


# Where the CPU of one order goes, by function of the hot path (``--phases``): each is
# wrapped to add up its own process CPU time (time.process_time: this process only, no
# waiting). Nested functions are included in their callers; "all SQL" is every
# statement's execute, psycopg's work included, wherever it is called from.
PHASES = [
    ("orders.webhooks", "delivery_store"),
    ("orders.webhooks", "_process"),
    ("orders.adapters.generic", "GenericAdapter.parse"),
    ("orders.services.ingest", "customer_upsert"),
    ("crm.services.customers", "_find_locked"),
    ("crm.services.customers", "_history_created"),
    ("orders.services.ingest", "_locked"),
    ("orders.services.ingest", "order_checks"),
    ("orders.services.ingest", "lines_reserve"),
    ("inventory.services", "_candidate_levels_locked"),
    ("inventory.services", "_reserve_write_pg"),
    ("orders.services.common", "notification_queue"),
    ("crm.services.notifications", "notification_enqueue"),
    ("orders.services.ingest", "_delivery_processed"),
    ("backoffice.sql", "insert"),
    ("backoffice.sql", "insert_many"),
    ("backoffice.sql", "select"),
    ("backoffice.sql", "update"),
    ("django.db.backends.utils", "CursorWrapper.execute"),
]


def phases(args: argparse.Namespace) -> None:
    """CPU milliseconds per order by hot-path function, N orders in-process through
    Django's test client (its own cost is in the total), after 30 warm-up orders."""
    import functools
    import importlib
    from collections import Counter

    client, rng = in_process_client(13)
    from django.db import connection

    spent: Counter[str] = Counter()

    def wrapped(label: str, f: Any) -> Any:
        @functools.wraps(f)
        def timed(*a: Any, **kw: Any) -> Any:
            t0 = time.process_time()
            try:
                return f(*a, **kw)
            finally:
                spent[label] += time.process_time() - t0

        return timed

    for module_name, name in PHASES:
        owner: Any = importlib.import_module(module_name)
        attr = name
        if "." in name:
            cls, attr = name.split(".")
            owner = getattr(owner, cls)
        setattr(owner, attr, wrapped(f"{module_name}.{name}", getattr(owner, attr)))
    warm_up(client, rng, 30)
    spent.clear()
    t0 = time.process_time()
    for i in range(args.phases):
        capture_order(
            client, key=f"F{i}", serial=400_000 + i, products=line_products(rng, args.hot)
        )
    total = time.process_time() - t0
    print(f"{args.phases} orders in-process: {total / args.phases * 1000:.2f} ms CPU per order")
    print("| function | CPU ms per order |\n| --- | ---: |")
    for label, seconds in spent.most_common():
        print(f"| `{label}` | {seconds / args.phases * 1000:.2f} |")
    connection.close()
    _flush_redis()


def overhead(args: argparse.Namespace) -> None:
    """The fixed cost of a request, without the order: gunicorn + Django answering a GET
    with 405 (no database), and a POST for an unknown channel (404 after the channel
    lookup, one ORM query). CPU milliseconds per request by process group."""
    import threading

    url = recreate_database(DB_NAME)
    seed(url)
    port = free_port()
    server = start_gunicorn(url, workers=args.workers, port=port, conn_max_age=600)

    def client(n: int, method: str) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        body = b"{}" if method == "POST" else None
        for _ in range(n):
            conn.request(method, "/api/webhooks/nope/", body=body)
            response = conn.getresponse()
            response.read()
            if response.will_close:
                conn.close()

    n, clients = 1500, 2
    try:
        for method in ("GET", "POST"):
            client(200, method)  # warm-up
            before = cpu_snapshot(server.pid, DB_NAME)
            t0 = time.perf_counter()
            threads = [threading.Thread(target=client, args=(n, method)) for _ in range(clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - t0
            after = cpu_snapshot(server.pid, DB_NAME)
            cpu = cpu_per_order(before, after, n * clients)
            print(f"{method} {n * clients / elapsed:.0f} requests/s, CPU ms per request {cpu}")
    finally:
        stop_gunicorn(server)


def gap_probe(args: argparse.Namespace) -> None:
    """Does PostgreSQL spend more CPU per order when its client pauses between statements,
    as gunicorn does while Python works? pgbench runs the captured script as is and with
    ``\\sleep <gap> us`` before every statement, at each step's client count, alternating,
    twice; the table gives PostgreSQL's CPU ms per order (``cpu_per_order``)."""
    url = recreate_database(DB_NAME)
    seed(url)
    lines = SCRIPT.read_text().splitlines()
    paused = RESULTS / f"ingest-gap-{args.gap_probe}us.sql"
    RESULTS.mkdir(exist_ok=True)
    paused.write_text(
        "\n".join(
            line
            if not line.strip() or line.startswith(("\\", "--"))
            else f"\\sleep {args.gap_probe} us\n{line}"
            for line in lines
        )
        + "\n"
    )
    run_id = int(time.time()) % 100_000
    print("| gap | clients | tps | PostgreSQL ms/order | pgbench ms/order | other ms/order |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for _ in range(2):
        for clients in args.steps:
            for gap, script in ((0, SCRIPT), (args.gap_probe, paused)):
                run_id += 1
                r = pgbench_step(
                    dbname=DB_NAME, clients=clients, seconds=int(args.seconds), run=run_id,
                    hot=args.hot, script=script,
                )  # fmt: skip
                cpu = r["cpu_per_order"]
                print(
                    f"| {gap} us | {clients} | {r['tps']:.0f} | {cpu.get('postgres_ms')} "
                    f"| {cpu.get('pgbench_ms')} | {cpu.get('other_ms')} |",
                    flush=True,
                )


def main() -> None:
    global DB_NAME
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", default="1,2,4,8,16", help="client counts (default 1,2,4,8,16)")
    parser.add_argument("--seconds", type=float, default=20, help="time bound per step")
    parser.add_argument("--max-orders", type=int, default=8000, help="count bound per step")
    parser.add_argument(
        "--slices", type=int, default=4, choices=range(1, 10), metavar="1-9",
        help="each step alternates app and pgbench in this many slices of its time (ABBA)",
    )  # fmt: skip
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--hot", action="store_true", help="10 SKUs take half of the lines")
    parser.add_argument(
        "--statements", action="store_true", help="per-step pg_stat_statements top (if loaded)"
    )
    parser.add_argument("--app-only", action="store_true", help="skip the pgbench steps")
    parser.add_argument("--paid", action="store_true", help="orders arrive already paid")
    parser.add_argument("--capture", action="store_true", help="rewrite bench/ingest_pgbench.sql")
    parser.add_argument("--profile", type=int, default=0, help="profile N in-process orders")
    parser.add_argument(
        "--overhead", action="store_true", help="CPU of a request that stores no order"
    )
    parser.add_argument("--phases", type=int, default=0, help="CPU per hot-path function, N orders")
    parser.add_argument(
        "--instructions", type=int, default=0, metavar="N",
        help="instructions per order over N in-process orders, counted by valgrind's callgrind",
    )  # fmt: skip
    parser.add_argument(
        "--gap-probe", type=int, default=0, metavar="US",
        help="pgbench alone: the script as is vs. with a pause of US microseconds per statement",
    )  # fmt: skip
    parser.add_argument("--db", default=DB_NAME, help=f"scratch database (default {DB_NAME})")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    args.steps = [int(x) for x in args.steps.split(",")]
    if args.statements and not args.app_only:
        parser.error("--statements needs --app-only (pgbench's statements would count too)")
    DB_NAME = args.db  # the functions above read it
    if args.capture:
        capture(args)
    elif args.profile:
        profile(args)
    elif args.overhead:
        overhead(args)
    elif args.phases:
        phases(args)
    elif args.instructions:
        instructions(args)
    elif args.gap_probe:
        gap_probe(args)
    else:
        run(args)


if __name__ == "__main__":
    main()
