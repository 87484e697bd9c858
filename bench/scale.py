"""Orders admin changelist and order API list at 10k and 1M orders: time and query count.

Run by hand, never by the test suite. Two steps:

    # build (no lock needed): drop, create, migrate, load with INSERT ... SELECT, VACUUM ANALYZE
    .venv/bin/python bench/scale.py build --orders 10000 --db rg_bench_scale_10k
    .venv/bin/python bench/scale.py build --orders 1000000 --db rg_bench_scale_1m

    # measure (hold the machine-wide lock for the timed part only)
    flock /tmp/retaguarda-bench.lock .venv/bin/python bench/scale.py measure \
        --db rg_bench_scale_10k --db rg_bench_scale_1m --runs 9 --warmup 2 --budget 15

Measuring is in-process through django.test.Client (DEBUG off, no test-runner template
instrumentation): a logged-in superuser for the admin, a DRF token for the API. Each view
gets ``--warmup`` untimed requests per database, then ``--runs`` timed ones (bounded by
``--budget`` seconds per view), the databases taking turns request by request (one open
connection each), so that other load on the machine falls on both sizes alike; the
median is reported. The query count comes from one extra request under
CaptureQueriesContext, never from a timed one.

The data: ~N/3 customers (10 % without document), 300 products, 5 channels with skewed
shares, orders spread over two years (ids follow placed_at, as they do when ingested),
1-3 lines each, events per change, open holds on the recent orders on hold and cleared
holds on ~3 % of the older ones. Status, payment and fulfilment follow the order's age.
Results go to bench/results/scale-<date>.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Run as a script, Python puts bench/ first on sys.path, where a module may shadow the
# standard library: import from the project root.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from bench.common import ROOT, django_setup, pg_url, recreate_database  # noqa: E402

RESULTS = ROOT / "bench" / "results"

FIRST = [
    "Maria", "Ana", "Francisca", "Antonia", "Adriana", "Juliana", "Marcia", "Fernanda",
    "Patricia", "Aline", "Sandra", "Camila", "Amanda", "Bruna", "Jessica", "Leticia",
    "Julia", "Luciana", "Vanessa", "Mariana", "Jose", "Joao", "Antonio", "Francisco",
    "Carlos", "Paulo", "Pedro", "Lucas", "Luiz", "Marcos", "Luis", "Gabriel", "Rafael",
    "Daniel", "Marcelo", "Bruno", "Eduardo", "Felipe", "Raimundo", "Rodrigo", "Thiago",
    "Helena", "Beatriz", "Larissa", "Gustavo", "Mateus", "Vinicius", "Renata",
]  # fmt: skip
LAST = [
    "Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira",
    "Lima", "Gomes", "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes",
    "Soares", "Fernandes", "Vieira", "Barbosa", "Rocha", "Dias", "Nascimento", "Andrade",
    "Moreira", "Nunes", "Marques", "Machado", "Mendes", "Freitas", "Cardoso", "Ramos",
    "Goncalves", "Santana", "Teixeira", "Araujo", "Pinto", "Moura", "Cavalcanti", "Batista",
]  # fmt: skip
CITIES = [
    ("Sao Paulo", "SP"), ("Rio de Janeiro", "RJ"), ("Belo Horizonte", "MG"),
    ("Curitiba", "PR"), ("Porto Alegre", "RS"), ("Salvador", "BA"), ("Recife", "PE"),
    ("Fortaleza", "CE"), ("Campinas", "SP"), ("Goiania", "GO"), ("Florianopolis", "SC"),
    ("Brasilia", "DF"),
]  # fmt: skip


def _sql_array(values: list[str]) -> str:
    return "ARRAY[" + ",".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def build_sql(n_orders: int) -> list[tuple[str, str]]:
    """(label, statement) pairs that load the data set; deterministic (setseed)."""
    n_customers = max(n_orders // 3, 100)
    first, last = _sql_array(FIRST), _sql_array(LAST)
    cities = _sql_array([c for c, _ in CITIES])
    states = _sql_array([s for _, s in CITIES])
    n_cities = len(CITIES)
    # One day is 1/730 of the span; "recent" orders are the last 20 days.
    return [
        ("seed", "SELECT setseed(0.4242)"),
        (
            "channels",
            """
            INSERT INTO orders_channel (id, name, slug, platform, webhook_secret, api_base_url,
                api_token, store_external_id, outbound_webhook_url, is_active, created_at)
            VALUES
              (1, 'Loja Shopify', 'shopify-br', 'shopify', md5('s1'), '', '', '', '', true, now()),
              (2, 'Loja WooCommerce', 'woo', 'woocommerce', md5('s2'), '', '', '', '', true, now()),
              (3, 'Nuvemshop', 'nuvem', 'nuvemshop', md5('s3'), '', '', '', '', true, now()),
              (4, 'VTEX Marketplace', 'vtex', 'vtex', md5('s4'), '', '', '', '', true, now()),
              (5, 'Televendas (API)', 'api', 'generic', md5('s5'), '', '', '', '', true, now())
            """,
        ),
        (
            "products",
            """
            INSERT INTO inventory_product (id, sku, name, description, barcode, cost, price,
                currency, weight_grams, consumption_days, is_active, created_at, updated_at)
            SELECT p, 'SKU-' || lpad(p::text, 5, '0'), 'Produto ' || p, '', '',
                   round((9.90 + (p % 60) * 4.5) * 0.55, 2), 9.90 + (p % 60) * 4.5, 'BRL',
                   100 + p % 900, CASE WHEN p % 4 = 0 THEN 30 END, true, now(), now()
            FROM generate_series(1, 300) p
            """,
        ),
        (
            "customers",
            f"""
            INSERT INTO crm_customer (id, name, email, phone, document, document_kind,
                document_valid, language, marketing_opt_in, postal_code, street, street_number,
                complement, district, city, state, country, created_at, updated_at)
            SELECT c, f || ' ' || l1 || ' ' || l2,
                   lower(f || '.' || l2 || c || '@example.com.br'),
                   '+55 11 9' || lpad((c * 7 % 100000000)::text, 8, '0'),
                   CASE WHEN c % 10 = 0 THEN '' ELSE (10000000000 + c::bigint * 7919)::text END,
                   CASE WHEN c % 10 = 0 THEN '' ELSE 'cpf' END,
                   c % 10 <> 0, 'pt-br', c % 3 = 0,
                   lpad((c * 37 % 99999999)::text, 8, '0'), 'Rua ' || l1, (c % 2000)::text, '',
                   'Centro', ({cities})[1 + c % {n_cities}], ({states})[1 + c % {n_cities}], 'BR',
                   now() - interval '800 days', now()
            FROM (
                SELECT c,
                       ({first})[1 + floor(random() * {len(FIRST)})::int] AS f,
                       ({last})[1 + floor(random() * {len(LAST)})::int] AS l1,
                       ({last})[1 + floor(random() * {len(LAST)})::int] AS l2
                FROM generate_series(1, {n_customers}) c
            ) s
            """,
        ),
        (
            "orders",
            f"""
            INSERT INTO orders_order (id, external_id, number, email, status, payment_status,
                fulfillment_status, currency, subtotal, shipping_total, discount_total,
                tax_total, total, payment_method, installments, shipping_method, ship_name,
                ship_postal_code, ship_street, ship_number, ship_complement, ship_district,
                ship_city, ship_state, ship_country, utm_source, utm_medium, utm_campaign,
                coupon_code, note, placed_at, paid_at, cancelled_at, platform_updated_at,
                created_at, updated_at, channel_id, customer_id)
            SELECT i, (7000000000 + i * 13)::text, (100000 + i)::text, coalesce(cu.email, ''),
                   st.status, st.payment, st.fulfillment, 'BRL',
                   sub.subtotal, sh.shipping, sh.discount, 0,
                   sub.subtotal + sh.shipping - sh.discount,
                   (ARRAY['pix', 'credit_card', 'boleto'])[1 + i % 3],
                   CASE WHEN i % 3 = 1 THEN 1 + i % 6 ELSE 1 END,
                   (ARRAY['PAC', 'SEDEX', 'Jadlog'])[1 + i % 3],
                   coalesce(cu.name, 'Cliente convidado'), coalesce(cu.postal_code, '01001000'),
                   coalesce(cu.street, 'Praca da Se'), coalesce(cu.street_number, '1'), '',
                   'Centro', coalesce(cu.city, 'Sao Paulo'), coalesce(cu.state, 'SP'), 'BR',
                   (ARRAY['google', 'instagram', 'email', ''])[1 + i % 4],
                   (ARRAY['cpc', 'social', 'newsletter', ''])[1 + i % 4],
                   CASE WHEN i % 4 = 3 THEN '' ELSE 'camp-' || (i / 20000) END,
                   CASE WHEN i % 10 = 0 THEN 'BEMVINDO10' ELSE '' END, '',
                   o.placed_at,
                   CASE WHEN st.payment IN ('paid', 'refunded', 'partially_refunded')
                        THEN o.placed_at + interval '20 minutes' END,
                   CASE WHEN st.status = 'cancelled' THEN o.placed_at + interval '2 days' END,
                   o.placed_at, o.placed_at, o.placed_at, o.channel_id, o.customer_id
            FROM (
                SELECT i,
                       now() - (730.0 * (1 - i::float / {n_orders})) * interval '1 day'
                             - random() * interval '30 minutes' AS placed_at,
                       730.0 * (1 - i::float / {n_orders}) AS age_days,
                       random() AS r,
                       CASE WHEN random() < 0.02 THEN NULL
                            ELSE 1 + floor(random() * {n_customers})::bigint END AS customer_id,
                       (SELECT CASE WHEN x < 0.45 THEN 1 WHEN x < 0.70 THEN 2
                                    WHEN x < 0.85 THEN 3 WHEN x < 0.95 THEN 4 ELSE 5 END
                        FROM (SELECT random() + i * 0 AS x) q) AS channel_id,
                       CASE WHEN i * 7 % 10 < 6 THEN 1 WHEN i * 7 % 10 < 9 THEN 2 ELSE 3 END
                           AS n_lines
                FROM generate_series(1, {n_orders}) i
            ) o
            LEFT JOIN crm_customer cu ON cu.id = o.customer_id
            CROSS JOIN LATERAL (
                SELECT CASE
                    WHEN o.age_days > 20 THEN
                        CASE WHEN o.r < 0.90 THEN 'completed' ELSE 'cancelled' END
                    WHEN o.r < 0.25 THEN 'new' WHEN o.r < 0.33 THEN 'on_hold'
                    WHEN o.r < 0.58 THEN 'confirmed' WHEN o.r < 0.78 THEN 'processing'
                    WHEN o.r < 0.93 THEN 'completed' ELSE 'cancelled' END AS status
            ) s0
            CROSS JOIN LATERAL (
                SELECT s0.status,
                       CASE s0.status
                           WHEN 'completed' THEN
                               CASE WHEN o.r < 0.02 THEN 'refunded'
                                    WHEN o.r < 0.03 THEN 'partially_refunded' ELSE 'paid' END
                           WHEN 'cancelled' THEN
                               CASE WHEN o.r < 0.95 THEN 'refunded' ELSE 'failed' END
                           WHEN 'new' THEN CASE WHEN o.r < 0.12 THEN 'authorized' ELSE 'pending' END
                           WHEN 'on_hold' THEN CASE WHEN o.r < 0.30 THEN 'paid' ELSE 'pending' END
                           ELSE 'paid' END AS payment,
                       CASE s0.status
                           WHEN 'completed' THEN
                               CASE WHEN o.r < 0.03 THEN 'returned' ELSE 'delivered' END
                           WHEN 'processing' THEN
                               CASE WHEN o.r < 0.65 THEN 'unfulfilled'
                                    WHEN o.r < 0.70 THEN 'partially_shipped' ELSE 'shipped' END
                           ELSE 'unfulfilled' END AS fulfillment
            ) st
            CROSS JOIN LATERAL (
                SELECT sum((9.90 + (((i * 31 + g * 97) % 300 + 1) % 60) * 4.5)
                           * (1 + ((i + g) % 4 = 0)::int))::numeric(14, 2) AS subtotal
                FROM generate_series(1, o.n_lines) g
            ) sub
            CROSS JOIN LATERAL (
                SELECT CASE WHEN sub.subtotal >= 199 THEN 0 ELSE 15.90 END::numeric(14, 2)
                           AS shipping,
                       CASE WHEN i % 10 = 0 THEN round(sub.subtotal * 0.10, 2)
                            ELSE 0 END::numeric(14, 2) AS discount
            ) sh
            """,
        ),
        (
            "lines",
            """
            INSERT INTO orders_orderline (order_id, external_id, product_id, sku, name, quantity,
                unit_price, discount, total, unit_cost, stock_status)
            SELECT o.id, (o.id * 10 + g)::text, p.id, p.sku, p.name, q.qty, p.price, 0,
                   p.price * q.qty, p.cost,
                   CASE o.status WHEN 'completed' THEN 'shipped' WHEN 'cancelled' THEN 'released'
                        WHEN 'on_hold' THEN CASE WHEN g = 1 THEN 'backordered' ELSE 'reserved' END
                        ELSE 'reserved' END
            FROM orders_order o
            CROSS JOIN LATERAL generate_series(
                1, CASE WHEN o.id * 7 % 10 < 6 THEN 1 WHEN o.id * 7 % 10 < 9 THEN 2 ELSE 3 END
            ) g
            JOIN inventory_product p ON p.id = (o.id * 31 + g * 97) % 300 + 1
            CROSS JOIN LATERAL (SELECT 1 + ((o.id + g) % 4 = 0)::int AS qty) q
            ORDER BY o.id, g
            """,
        ),
        (
            "open holds",
            """
            INSERT INTO orders_orderhold (order_id, reason, detail, created_at, cleared_at)
            SELECT o.id,
                   CASE WHEN x < 0.35 THEN 'stock_shortage' WHEN x < 0.55 THEN 'invalid_document'
                        WHEN x < 0.70 THEN 'incomplete_address' WHEN x < 0.80 THEN 'unknown_sku'
                        WHEN x < 0.90 THEN 'price_mismatch' ELSE 'risk' END,
                   'bench', o.placed_at, NULL
            FROM (SELECT id, placed_at, random() AS x FROM orders_order
                  WHERE status = 'on_hold') o
            """,
        ),
        (
            "cleared holds",
            """
            INSERT INTO orders_orderhold (order_id, reason, detail, created_at, cleared_at)
            SELECT id, (ARRAY['stock_shortage', 'invalid_document', 'incomplete_address',
                              'unknown_sku', 'price_mismatch', 'risk'])[1 + id % 6],
                   'bench', placed_at, placed_at + interval '1 day'
            FROM orders_order WHERE id % 33 = 0 AND status <> 'on_hold'
            """,
        ),
        (
            "events",
            """
            INSERT INTO orders_orderevent (order_id, kind, from_value, to_value, message, source,
                data, created_at)
            SELECT id, 'created', '', 'new', '', 'webhook', '{}'::jsonb, placed_at
            FROM orders_order
            UNION ALL
            SELECT id, 'payment', 'pending', payment_status, '', 'webhook', '{}'::jsonb,
                   placed_at + interval '20 minutes'
            FROM orders_order WHERE payment_status <> 'pending'
            UNION ALL
            SELECT id, 'status', 'new', status, '', 'system', '{}'::jsonb,
                   placed_at + interval '1 hour'
            FROM orders_order WHERE status <> 'new'
            UNION ALL
            SELECT id, 'fulfillment', 'unfulfilled', fulfillment_status, '', 'system',
                   '{}'::jsonb, placed_at + interval '3 days'
            FROM orders_order WHERE fulfillment_status <> 'unfulfilled'
            UNION ALL
            SELECT order_id, 'hold_placed', '', reason, 'bench', 'system', '{}'::jsonb, created_at
            FROM orders_orderhold
            """,
        ),
        (
            "sequences",
            """
            DO $$
            DECLARE t text;
            BEGIN
              FOREACH t IN ARRAY ARRAY['orders_channel', 'inventory_product', 'crm_customer',
                  'orders_order', 'orders_orderline', 'orders_orderhold', 'orders_orderevent']
              LOOP
                EXECUTE format(
                  'SELECT setval(pg_get_serial_sequence(%L, ''id''),
                                 (SELECT coalesce(max(id), 1) FROM %I))', t, t);
              END LOOP;
            END $$
            """,
        ),
    ]


def build(*, db: str, n_orders: int) -> None:
    import psycopg

    started = time.perf_counter()
    url = recreate_database(db)
    print(f"{db}: migrated in {time.perf_counter() - started:.1f}s", flush=True)
    with psycopg.connect(url) as conn:
        for label, sql in build_sql(n_orders):
            t0 = time.perf_counter()
            cur = conn.execute(sql)
            print(f"  {label}: {cur.rowcount} rows, {time.perf_counter() - t0:.1f}s", flush=True)
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        t0 = time.perf_counter()
        conn.execute("VACUUM (ANALYZE)")
        print(f"  vacuum analyze: {time.perf_counter() - t0:.1f}s", flush=True)
        for table in ("orders_order", "orders_orderline", "orders_orderhold", "orders_orderevent"):
            row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
            print(f"  {table}: {row[0] if row else 0}")
    print(f"{db}: built in {time.perf_counter() - started:.1f}s")


# --- measuring ------------------------------------------------------------------------------


def _targets() -> dict[str, str]:
    """Search terms taken from the data: a customer in the middle of the id range."""
    from crm.models import Customer
    from orders.models import Order

    last_id = Order.objects.order_by("-pk").values_list("pk", flat=True).first() or 1
    middle = (
        Order.objects.filter(pk__gte=last_id // 2, customer__document__gt="")
        .select_related("customer")
        .order_by("pk")
        .first()
    )
    assert middle is not None and middle.customer is not None
    customer: Customer = middle.customer
    return {
        "number": middle.number,
        "document": customer.document,
        "email": customer.email,
        "name": customer.name,
    }


def _views(t: dict[str, str]) -> list[tuple[str, str, str]]:
    """(kind, label, url); kind is admin or api. ``o=2`` is the placed_at column."""
    from urllib.parse import quote_plus

    cl = "/admin/orders/order/"
    return [
        ("admin", "changelist, default", cl),
        ("admin", "filter status=processing", cl + "?status__exact=processing"),
        ("admin", "filter status=on_hold", cl + "?status__exact=on_hold"),
        ("admin", "filter channel=3", cl + "?channel__id__exact=3"),
        ("admin", "filter open hold=stock_shortage", cl + "?hold_reason=stock_shortage"),
        ("admin", "search number", cl + "?q=" + quote_plus(t["number"])),
        ("admin", "search document", cl + "?q=" + quote_plus(t["document"])),
        ("admin", "search e-mail", cl + "?q=" + quote_plus(t["email"])),
        ("admin", "search name", cl + "?q=" + quote_plus(t["name"])),
        ("admin", "search a common first name", cl + "?q=Maria"),
        ("admin", "sort placed_at ascending", cl + "?o=2"),
        ("admin", "page 2", cl + "?p=2"),
        ("admin", "page 150", cl + "?p=150"),
        ("api", "first page", "/api/orders/"),
        ("api", "next cursor page", "@next"),
        ("api", "filter status=processing", "/api/orders/?status=processing"),
        ("api", "filter channel=woo", "/api/orders/?channel=woo"),
        ("api", "filter hold_reason=stock_shortage", "/api/orders/?hold_reason=stock_shortage"),
        ("api", "search number", "/api/orders/?search=" + quote_plus(t["number"])),
        ("api", "search name", "/api/orders/?search=" + quote_plus(t["name"])),
    ]


class _Site:
    """One database: its own connection, superuser, clients and search terms."""

    def __init__(self, db: str) -> None:
        from django.db import connections

        self.db = db
        default = connections["default"]
        settings_dict = {**default.settings_dict, "NAME": db}
        self.wrapper = type(default)(settings_dict, alias="default")
        self.activate()
        from django.contrib.auth.models import User
        from django.test import Client
        from rest_framework.authtoken.models import Token

        from orders.models import Order

        user = User.objects.filter(username="bench").first()
        if user is None:
            user = User.objects.create_superuser("bench", "bench@example.com", "bench-not-secret")
        token, _ = Token.objects.get_or_create(user=user)
        self.admin = Client()
        self.admin.force_login(user)
        self.api = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
        self.orders = Order.objects.count()
        self.targets = _targets()
        first_page = self.api.get("/api/orders/")
        assert first_page.status_code == 200, first_page.content[:500]
        self.next_url: str = first_page.json()["next"]

    def activate(self) -> None:
        from django.db import connections

        connections["default"] = self.wrapper


def _get(site: _Site, kind: str, url: str) -> int:
    """GET ``url``; the number of orders on the page (admin: row checkboxes)."""
    response = (site.admin if kind == "admin" else site.api).get(url)
    assert response.status_code == 200, (site.db, url, response.status_code)
    if kind == "api":
        return len(response.json()["results"])
    return response.content.count(b'name="_selected_action"')


def measure(*, dbs: list[str], runs: int, warmup: int, budget: float, tag: str) -> None:
    """Per view, the databases take turns request by request, so that load from other
    processes on the machine falls on both sizes alike."""
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    django_setup(
        pg_url(dbs[0]),
        DJANGO_DEBUG="false",
        DJANGO_ALLOWED_HOSTS="testserver,localhost",
        CONN_MAX_AGE="600",
    )
    started = datetime.now(UTC)
    sites = [_Site(db) for db in dbs]
    results: list[dict[str, Any]] = [
        {"db": s.db, "orders": s.orders, "targets": s.targets, "rows": []} for s in sites
    ]
    for index, (kind, label, _url) in enumerate(_views(sites[0].targets)):
        urls = []
        for site in sites:
            view_url = _views(site.targets)[index][2]
            urls.append(site.next_url if view_url == "@next" else view_url)
        queries, sql_ms, shown = [], [], []
        for site, url in zip(sites, urls, strict=True):
            site.activate()
            for _ in range(warmup):
                _get(site, kind, url)
            with CaptureQueriesContext(connections["default"]) as ctx:
                shown.append(_get(site, kind, url))
            queries.append(len(ctx))
            sql_ms.append(sum(float(q["time"]) for q in ctx.captured_queries) * 1000)
        times: list[list[float]] = [[] for _ in sites]
        deadline = time.perf_counter() + budget
        for _ in range(runs):
            for i, (site, url) in enumerate(zip(sites, urls, strict=True)):
                site.activate()
                t0 = time.perf_counter()
                _get(site, kind, url)
                times[i].append((time.perf_counter() - t0) * 1000)
            if time.perf_counter() > deadline:
                break
        line = f"  {kind:<5} {label:<36}"
        for i, site in enumerate(sites):
            row = {
                "kind": kind,
                "view": label,
                "url": urls[i],
                "median_ms": round(statistics.median(times[i]), 1),
                "min_ms": round(min(times[i]), 1),
                "runs": len(times[i]),
                "queries": queries[i],
                "sql_ms": round(sql_ms[i], 1),
                "rows_shown": shown[i],
            }
            results[i]["rows"].append(row)
            line += (
                f" | {site.orders:>8}: {row['median_ms']:>7.1f} ms (min {row['min_ms']:.1f})"
                f" {queries[i]} q, sql {row['sql_ms']:.1f} ms, {shown[i]} rows"
            )
        print(line, flush=True)
    if len(results) == 2:
        small_n, big_n = results[0]["orders"], results[1]["orders"]
        print(f"\n| view | {small_n}: ms | {big_n}: ms | ratio | queries | SQL ms | rows shown |")
        print("| --- | ---: | ---: | ---: | --- | --- | --- |")
        for small, big in zip(results[0]["rows"], results[1]["rows"], strict=True):
            ratio = big["median_ms"] / small["median_ms"] if small["median_ms"] else 0.0
            print(
                f"| {small['kind']}: {small['view']} | {small['median_ms']:.1f} | "
                f"{big['median_ms']:.1f} | {ratio:.2f} | {small['queries']} / {big['queries']} | "
                f"{small['sql_ms']:.1f} / {big['sql_ms']:.1f} | "
                f"{small['rows_shown']} / {big['rows_shown']} |"
            )
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"scale-{started:%Y%m%dT%H%M%S}{'-' + tag if tag else ''}.json"
    out.write_text(
        json.dumps({"started": started.isoformat(), "argv": sys.argv, "results": results}, indent=2)
    )
    print(f"\nwritten {out.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="drop, create, migrate and load one database")
    b.add_argument("--db", required=True)
    b.add_argument("--orders", type=int, required=True)
    m = sub.add_parser("measure", help="time the views on one or two built databases")
    m.add_argument("--db", action="append", required=True)
    m.add_argument("--runs", type=int, default=7)
    m.add_argument("--warmup", type=int, default=2)
    m.add_argument("--budget", type=float, default=20.0, help="max seconds per view")
    m.add_argument("--tag", default="", help="suffix of the results file name")
    args = parser.parse_args()
    if args.command == "build":
        build(db=args.db, n_orders=args.orders)
    else:
        measure(dbs=args.db, runs=args.runs, warmup=args.warmup, budget=args.budget, tag=args.tag)


if __name__ == "__main__":
    main()
