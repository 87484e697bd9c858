"""The arithmetic and the HTTP client of bench/ingest.py (issue 7): the ratio it reports is
only as good as the way it adds up a step's slices and reads the server's answers. No
database, no gunicorn: the benchmark itself is run by hand."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from bench.ingest import http_post, http_request, merge_app, merge_pgbench
from tests.http_server import http_server


def _app_slice(latencies: list[float], elapsed: float, server_s: float) -> dict:
    return {
        "clients": 2,
        "processed": len(latencies),
        "errors": 0,
        "codes": {"200": len(latencies)},
        "orders_per_s": round(len(latencies) / elapsed, 1),
        "_latencies": sorted(latencies),
        "_elapsed": elapsed,
        "_cpu_s": {"machine_busy": 2 * server_s, "server": server_s, "other": server_s},
    }


def test_app_slices_add_up_orders_over_summed_time_and_pool_latencies():
    fast = _app_slice([0.010] * 300, elapsed=2.0, server_s=0.6)  # 150 orders/s
    slow = _app_slice([0.030] * 100, elapsed=2.0, server_s=0.6)  # 50 orders/s
    step = merge_app([fast, slow])
    assert step["acks_2xx"] == 400
    assert step["orders_per_s"] == 100.0  # 400 orders in 4 s, not a mean of rates
    assert step["p50_ms"] == 10.0  # three quarters of the pooled latencies are 10 ms
    assert step["p99_ms"] == 30.0
    assert step["cpu_per_order"]["server_ms"] == 3.0  # 1.2 s over 400 orders
    assert step["slices_orders_per_s"] == [150.0, 50.0]


def _pg_slice(tps: float | None, processed: int, failed: int | None = 0) -> dict:
    return {
        "tps": tps,
        "processed": processed,
        "latency_avg_ms": 5.0 if tps else None,
        "failed": failed,
        "returncode": 0 if tps else 1,
        "command": "pgbench ...",
        "_cpu_s": {"machine_busy": processed * 0.004, "postgres": processed * 0.003},
    }


def test_pgbench_slices_add_up_transactions_over_summed_time():
    step = merge_pgbench([_pg_slice(100.0, 500), _pg_slice(200.0, 400)])
    # 500 in 5 s and 400 in 2 s: 900 in 7 s, where the mean of the rates would say 150
    assert step["tps"] == round(900 / 7, 1)
    assert step["processed"] == 900
    assert step["failed"] == 0
    assert step["cpu_per_order"]["postgres_ms"] == 3.0


def test_a_failed_pgbench_slice_is_left_out_of_the_rate_and_shows():
    step = merge_pgbench([_pg_slice(100.0, 500), _pg_slice(None, 0, failed=None)])
    assert step["tps"] == 100.0
    assert step["failed"] is None  # unknown for one slice: not reported as 0
    assert step["returncode"] == 1
    assert step["slices_tps"] == [100.0, None]


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        answer = b'{"status": "processed", "echo": "' + body + b'"}'
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Seen-Signature", self.headers.get("X-Retaguarda-Signature", ""))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server_port() -> Iterator[int]:
    with http_server(_Handler) as port:
        yield port


def test_http_post_sends_the_whole_request_and_reads_the_answer_to_the_close(server_port):
    request = http_request(
        server_port, "/api/webhooks/bench/", b"abc", {"X-Retaguarda-Signature": "sha256=00"}
    )
    status, data = http_post(server_port, request)
    assert status == 201
    assert b"X-Seen-Signature: sha256=00" in data
    assert data.endswith(b'{"status": "processed", "echo": "abc"}')


def test_http_post_refuses_an_answer_that_is_not_http():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        def answer_garbage() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.recv(65536)
                conn.sendall(b"SSH-2.0-OpenSSH\r\n")

        thread = threading.Thread(target=answer_garbage, daemon=True)
        thread.start()
        with pytest.raises(OSError, match="not an HTTP answer"):
            http_post(port, http_request(port, "/", b"", {}))
        thread.join(5)
