"""Monthly management report (finance) for a month of N orders: time and peak memory.

Build a data set (no lock needed; minutes, all in SQL with ``generate_series``)::

    .venv/bin/python bench/report.py build --orders 150000 --db rg_bench_report_150k
    .venv/bin/python bench/report.py build --orders 1500000 --db rg_bench_report_1500k

The build ends by filling the daily rollup (``fill``: the nightly job's work,
``finance.services.daily_rollup_fill`` day by day from August to the last instalment's
due date, timed per day and per month). On a database built before the rollup existed::

    .venv/bin/python manage.py migrate   # with DATABASE_URL on that database
    .venv/bin/python bench/report.py fill --db rg_bench_report_150k

Measure (hold the machine-wide bench lock only for this part)::

    flock "$BENCH_LOCK" .venv/bin/python bench/report.py run --db rg_bench_report_150k --runs 5

``--no-rollup`` measures the report summed live from the source tables (the code before
the rollup, with the same indexes); ``--stale N`` marks the month's last N days stale
first (as late changes would), so they are summed live.

Every run is a fresh subprocess (``measure``) that imports Django and WeasyPrint, then
times ``report_data`` (gather: all SQL) and ``report_html`` + ``render_pdf`` (render)
and reads ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (peak resident set of the
whole process, Django + WeasyPrint included). One extra subprocess runs the same
with ``tracemalloc`` on, for the peak of the Python heap of each phase (tracemalloc
slows Python down, so its times are not used). Figures are medians of the runs.

The data set (month 2026-10, report generated on 2026-11-01 like the beat entry):
N orders placed and paid in October, N/5 in each of August and September; 1-3 lines
per order over 4,500 selling products (skewed), 500 more products with stock that never
sell; receivables and instalments by payment method (pix, boleto, card up to 6x,
debit), receipts in the cash ledger for every instalment due before November (3 %
left overdue), supplier payables, refunds and return requests, shipments with freight,
promised and delivered dates, NPS survey answers (with their notifications), stock
levels and an append-only movement ledger (one ``ship`` movement per shipped line, old
and recent receipts), campaign costs (N/2000 campaigns), a revenue goal and store
metrics.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, bench/ is sys.path[0]: drop it so bench modules whose names clash
# with the standard library cannot shadow it.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from datetime import date, timedelta  # noqa: E402

sys.path.insert(0, str(_HERE.parent))

from bench.common import ROOT, django_setup, pg_url, recreate_database  # noqa: E402

MONTH = date(2026, 10, 1)
TODAY = date(2026, 11, 1)
RESULTS = ROOT / "bench" / "results"


# --- build ----------------------------------------------------------------------------------


def _build_sql(n: int) -> list[tuple[str, str]]:
    """(label, SQL) steps that fill a migrated, empty database."""
    n_prev = n // 5
    n_campaigns = max(20, n // 2000)
    months = [
        # (first order id, count, month start, month end)
        (1, n, "2026-10-01", "2026-11-01"),
        (n + 1, n_prev, "2026-09-01", "2026-10-01"),
        (n + n_prev + 1, n_prev, "2026-08-01", "2026-09-01"),
    ]
    steps: list[tuple[str, str]] = []

    def add(label: str, sql: str) -> None:
        steps.append((label, sql))

    add(
        "reference data",
        """
        INSERT INTO orders_channel (id, name, slug, platform, webhook_secret, api_base_url,
            api_token, store_external_id, outbound_webhook_url, is_active, created_at,
            price_list_id)
        SELECT i, 'Canal ' || i, 'canal-' || i,
               (ARRAY['shopify', 'woocommerce', 'nuvemshop', 'generic'])[i], md5(i::text),
               '', '', '', '', true, '2025-01-01', NULL
        FROM generate_series(1, 4) i;
        INSERT INTO inventory_supplier (id, name, document, email, phone, created_at)
        SELECT i, 'Fornecedor ' || i, '', '', '', '2025-01-01' FROM generate_series(1, 50) i;
        INSERT INTO inventory_warehouse (id, code, name, kind, sells_online, priority,
            postal_code, city, state, is_active)
        SELECT i, 'wh' || i, 'Depósito ' || i, 'distribution', true, i, '', '', '', true
        FROM generate_series(1, 3) i;
        INSERT INTO inventory_product (id, sku, name, description, barcode, cost, price,
            currency, weight_grams, consumption_days, is_active, created_at, updated_at,
            supplier_id)
        SELECT i, 'SKU-' || lpad(i::text, 5, '0'), 'Produto de teste ' || i, '', '',
               round(price * 0.55, 2), price, 'BRL', 300, NULL, true, created, created,
               1 + i % 50
        FROM (SELECT i, (19.90 + (i * 37) % 480)::numeric(14, 2) AS price,
                     timestamptz '2026-01-10' + (i % 200) * interval '1 day' AS created
              FROM generate_series(1, 5000) i) p;
        INSERT INTO finance_cashaccount (id, name, kind, currency, is_active, created_at)
        VALUES (1, 'Banco', 'bank', 'BRL', true, '2026-01-01'),
               (2, 'Gateway', 'gateway', 'BRL', true, '2026-01-01'),
               (3, 'Caixa', 'petty_cash', 'BRL', true, '2026-01-01');
        """,
    )
    add(
        "staging tables",
        "CREATE UNLOGGED TABLE bench_o (id bigint primary key, "
        "placed_at timestamptz, paid_at timestamptz, pay text, method text, inst int, "
        "channel int, campaign text, ship numeric(14,2), disc_rate numeric);"
        "CREATE UNLOGGED TABLE bench_l (id bigserial, order_id bigint, product_id bigint, "
        "qty int, unit_price numeric(14,2), discount numeric(14,2), total numeric(14,2), "
        "unit_cost numeric(14,2));",
    )
    for first, count, lo, hi in months:
        add(
            f"staging orders {lo[:7]} ({count})",
            f"""
            INSERT INTO bench_o
            SELECT id, placed_at,
                   CASE WHEN pay IN ('pending', 'failed') THEN NULL
                        ELSE least(placed_at + random() * interval '20 minutes',
                                   timestamptz '{hi}' - interval '1 second') END,
                   pay, method,
                   CASE WHEN method = 'credit_card' THEN 1 + floor(random() * 6)::int ELSE 1 END,
                   1 + floor(random() * 4)::int,
                   CASE WHEN random() < 0.4 THEN ''
                        ELSE 'camp-' || (1 + floor(random() ^ 1.5 * {n_campaigns})::int) END,
                   (ARRAY[0, 12.90, 19.90, 29.90])[1 + floor(random() * 4)::int],
                   CASE WHEN random() < 0.15 THEN 0.10 ELSE 0 END
            FROM (SELECT g AS id,
                         timestamptz '{lo}' + random() * (timestamptz '{hi}' - timestamptz '{lo}')
                             AS placed_at,
                         (SELECT CASE WHEN u < 0.88 THEN 'paid'
                                      WHEN u < 0.905 THEN 'partially_refunded'
                                      WHEN u < 0.92 THEN 'refunded'
                                      WHEN u < 0.922 THEN 'chargeback'
                                      WHEN u < 0.97 THEN 'pending' ELSE 'failed' END
                          FROM (SELECT random() + g * 0 AS u) r) AS pay,
                         (SELECT CASE WHEN u < 0.5 THEN 'credit_card' WHEN u < 0.8 THEN 'pix'
                                      WHEN u < 0.92 THEN 'boleto' ELSE 'debit_card' END
                          FROM (SELECT random() + g * 0 AS u) r) AS method
                  FROM generate_series({first}, {first + count - 1}) g) s;
            """,
        )
    add(
        "staging lines",
        """
        INSERT INTO bench_l (order_id, product_id, qty, unit_price, discount, total, unit_cost)
        SELECT order_id, p.id, qty, p.price,
               CASE WHEN d THEN round(p.price * qty * 0.05, 2) ELSE 0 END,
               p.price * qty - CASE WHEN d THEN round(p.price * qty * 0.05, 2) ELSE 0 END,
               p.cost
        FROM (SELECT o.id AS order_id,
                     1 + floor(4500 * random() ^ 2)::int + 0 * k AS product_id,
                     1 + floor(random() ^ 3 * 3)::int AS qty,
                     random() < 0.1 AS d
              FROM bench_o o, generate_series(1, 1 + (o.id % 3)::int) k) l
        JOIN inventory_product p ON p.id = l.product_id;
        """,
    )
    add(
        "orders",
        """
        INSERT INTO orders_order (id, external_id, number, email, status, payment_status,
            fulfillment_status, currency, subtotal, shipping_total, discount_total, tax_total,
            total, payment_method, installments, shipping_method, ship_name, ship_postal_code,
            ship_street, ship_number, ship_complement, ship_district, ship_city, ship_state,
            ship_country, utm_source, utm_medium, utm_campaign, coupon_code, note, placed_at,
            paid_at, cancelled_at, platform_updated_at, created_at, updated_at, channel_id,
            customer_id)
        SELECT o.id, 'ext-' || o.id, (100000 + o.id)::text, 'c' || o.id || '@example.com',
               CASE WHEN o.pay = 'failed' THEN 'cancelled' WHEN o.pay = 'pending' THEN 'new'
                    ELSE 'completed' END,
               o.pay,
               CASE WHEN o.paid_at IS NULL THEN 'unfulfilled' ELSE 'delivered' END,
               'BRL', s.subtotal, o.ship, round(s.subtotal * o.disc_rate, 2), 0,
               s.subtotal + o.ship - round(s.subtotal * o.disc_rate, 2),
               o.method, o.inst, 'PAC', 'Cliente ' || o.id, '01310-100', 'Av. Paulista',
               '1000', '', 'Bela Vista', 'São Paulo', 'SP', 'BR',
               CASE WHEN o.campaign = '' THEN '' ELSE 'google' END,
               CASE WHEN o.campaign = '' THEN '' ELSE 'cpc' END,
               o.campaign, '', '', o.placed_at, o.paid_at,
               CASE WHEN o.pay = 'failed' THEN o.placed_at + interval '1 hour' END,
               NULL, o.placed_at, coalesce(o.paid_at, o.placed_at), o.channel, NULL
        FROM bench_o o
        JOIN (SELECT order_id, sum(total) AS subtotal FROM bench_l GROUP BY order_id) s
          ON s.order_id = o.id;
        """,
    )
    add(
        "order lines",
        """
        INSERT INTO orders_orderline (id, external_id, sku, name, quantity, unit_price,
            discount, total, unit_cost, stock_status, order_id, product_id)
        SELECT l.id, 'l' || l.id, p.sku, p.name, l.qty, l.unit_price, l.discount, l.total,
               l.unit_cost, CASE WHEN o.paid_at IS NULL THEN 'pending' ELSE 'shipped' END,
               l.order_id, l.product_id
        FROM bench_l l JOIN inventory_product p ON p.id = l.product_id
        JOIN bench_o o ON o.id = l.order_id;
        """,
    )
    add(
        "receivables",
        """
        INSERT INTO finance_receivable (id, payment_method, instalment_count, gross, fee, net,
            currency, created_at, order_id)
        SELECT id, payment_method, installments, total, fee, total - fee, 'BRL', paid_at, id
        FROM (SELECT o.id, o.payment_method, o.installments, o.total, o.paid_at,
                     CASE o.payment_method
                          WHEN 'pix' THEN round(o.total * 0.0099, 2)
                          WHEN 'boleto' THEN 3.49
                          WHEN 'credit_card' THEN round(o.total * 0.0399 + 0.39, 2)
                          ELSE round(o.total * 0.0199, 2) END AS fee
              FROM orders_order o WHERE o.paid_at IS NOT NULL) r;
        """,
    )
    add(
        "instalments (staging)",
        f"""
        CREATE UNLOGGED TABLE bench_i AS
        SELECT r.id * 16 + k AS id, k AS number, r.id AS receivable_id,
               (timezone('America/Sao_Paulo', r.created_at))::date
                 + CASE r.payment_method WHEN 'pix' THEN 0 WHEN 'boleto' THEN 2
                        WHEN 'debit_card' THEN 1 ELSE 30 * k END AS due_date,
               CASE WHEN k < r.instalment_count THEN round(r.gross / r.instalment_count, 2)
                    ELSE r.gross - round(r.gross / r.instalment_count, 2)
                         * (r.instalment_count - 1) END AS gross,
               CASE WHEN k < r.instalment_count THEN round(r.fee / r.instalment_count, 2)
                    ELSE r.fee - round(r.fee / r.instalment_count, 2)
                         * (r.instalment_count - 1) END AS fee,
               random() < 0.97 AS settled
        FROM finance_receivable r, generate_series(1, r.instalment_count) k;
        ALTER TABLE bench_i ADD COLUMN paid boolean;
        UPDATE bench_i SET paid = settled AND due_date < date '{TODAY}';
        """,
    )
    add(
        "cash ledger: receipts",
        """
        INSERT INTO finance_cashentry (id, amount, kind, reference, description, transfer_id,
            created_at, account_id, actor_id)
        SELECT id, gross - fee, 'receipt', 'order:' || receivable_id, '', NULL,
               due_date + time '10:00', 2, NULL
        FROM bench_i WHERE paid AND gross - fee <> 0;
        """,
    )
    add(
        "instalments",
        """
        INSERT INTO finance_instalment (id, number, due_date, gross, fee, net, status, paid_at,
            cash_entry_id, receivable_id)
        SELECT id, number, due_date, gross, fee, gross - fee,
               CASE WHEN paid THEN 'paid' ELSE 'open' END,
               CASE WHEN paid THEN due_date + time '10:00' END,
               CASE WHEN paid AND gross - fee <> 0 THEN id END, receivable_id
        FROM bench_i;
        """,
    )
    n_payables = max(200, n // 500)
    add(
        "payables and payments",
        f"""
        CREATE UNLOGGED TABLE bench_p AS
        SELECT i AS id, round((500 + random() * 19500)::numeric, 2) AS amount,
               date '2026-08-01' + floor(random() * 184)::int AS due_date,
               random() < 0.9 AS settled
        FROM generate_series(1, {n_payables}) i;
        INSERT INTO finance_cashentry (id, amount, kind, reference, description, transfer_id,
            created_at, account_id, actor_id)
        SELECT 1000000000 + id, -amount, 'payment', 'payable:' || id, '', NULL,
               due_date + time '12:00', 1, NULL
        FROM bench_p WHERE settled AND due_date < date '{TODAY}';
        INSERT INTO finance_payable (id, description, document_number, amount, currency,
            due_date, status, paid_at, created_at, cash_entry_id, purchase_order_id,
            supplier_id)
        SELECT id, 'Compra ' || id, 'NF' || id, amount, 'BRL', due_date,
               CASE WHEN settled AND due_date < date '{TODAY}' THEN 'paid' ELSE 'open' END,
               CASE WHEN settled AND due_date < date '{TODAY}' THEN due_date + time '12:00' END,
               due_date - 30, CASE WHEN settled AND due_date < date '{TODAY}'
                                   THEN 1000000000 + id END,
               NULL, 1 + id % 50
        FROM bench_p;
        """,
    )
    add(
        "opening balances and transfers",
        """
        INSERT INTO finance_cashentry (id, amount, kind, reference, description, transfer_id,
            created_at, account_id, actor_id)
        SELECT 3000000000 + a, 250000, 'opening', '', '', NULL, '2026-07-01', a, NULL
        FROM generate_series(1, 3) a;
        INSERT INTO finance_cashentry (id, amount, kind, reference, description, transfer_id,
            created_at, account_id, actor_id)
        SELECT 3000000100 + w * 2 + side, CASE side WHEN 0 THEN -50000 ELSE 50000 END,
               CASE side WHEN 0 THEN 'transfer_out' ELSE 'transfer_in' END, '', '',
               md5('t' || w)::uuid, timestamptz '2026-08-03 09:00' + w * interval '7 days',
               CASE side WHEN 0 THEN 2 ELSE 1 END, NULL
        FROM generate_series(0, 12) w, generate_series(0, 1) side;
        """,
    )
    add(
        "return requests and refunds",
        """
        INSERT INTO logistics_returnrequest (id, status, code, is_exchange, note, refund_amount,
            currency, requested_at, approved_at, received_at, refunded_at, closed_at, order_id)
        SELECT id, CASE WHEN exch THEN 'closed' ELSE 'refunded' END, 'RMA-' || id, exch, '',
               CASE WHEN exch THEN 0 ELSE amount END, 'BRL', paid_at + interval '5 days',
               paid_at + interval '6 days', paid_at + interval '9 days',
               CASE WHEN exch THEN NULL ELSE paid_at + interval '10 days' END,
               paid_at + interval '10 days', id
        FROM (SELECT id, paid_at, payment_status = 'paid' AS exch,
                     CASE payment_status WHEN 'partially_refunded' THEN round(total * 0.3, 2)
                          ELSE total END AS amount
              FROM orders_order
              WHERE payment_status IN ('partially_refunded', 'refunded')
                 OR (payment_status = 'paid' AND id % 100 = 7)) r;
        INSERT INTO finance_refund (id, return_id, amount, reason, created_at, order_id)
        SELECT id, CASE WHEN payment_status = 'chargeback' THEN NULL ELSE id END,
               CASE payment_status WHEN 'partially_refunded' THEN round(total * 0.3, 2)
                    ELSE total END,
               payment_status, paid_at + interval '10 days', id
        FROM orders_order
        WHERE payment_status IN ('partially_refunded', 'refunded', 'chargeback');
        INSERT INTO finance_cashentry (id, amount, kind, reference, description, transfer_id,
            created_at, account_id, actor_id)
        SELECT 2000000000 + id, -amount, 'refund', 'order:' || order_id, '', NULL, created_at,
               2, NULL
        FROM finance_refund;
        """,
    )
    add(
        "shipments",
        """
        INSERT INTO logistics_shipment (id, status, wave, promised_date, freight_cost,
            is_replacement, packed_at, shipped_at, delivered_at, last_tracking_at, created_at,
            updated_at, order_id, return_request_id, warehouse_id, method_id)
        SELECT id, CASE WHEN delivered THEN 'delivered' ELSE 'shipped' END, '',
               (timezone('America/Sao_Paulo', paid_at) + interval '6 days')::date,
               8.90 + id % 25, false, paid_at + interval '20 hours', paid_at + interval '1 day',
               CASE WHEN delivered THEN paid_at + interval '1 day'
                                        + random() * interval '7 days' END,
               paid_at + interval '2 days', paid_at, paid_at, id, NULL, 1 + id % 3, NULL
        FROM (SELECT id, paid_at, random() < 0.92 AS delivered FROM orders_order
              WHERE paid_at IS NOT NULL AND id % 50 <> 3) o;
        """,
    )
    add(
        "survey answers (NPS) and their notifications",
        """
        INSERT INTO crm_notification (id, kind, channel, to_email, language, order_id,
            dedupe_key, context, status, attempts, last_error, subject, send_after,
            enqueued_at, sent_at, created_at, updated_at, customer_id)
        SELECT s.id, 'survey', 'email', 'c' || s.order_id || '@example.com', 'pt-br',
               s.order_id, 'survey:' || s.order_id, '{}', 'sent', 1, '', 'Pesquisa', NULL,
               s.delivered_at, s.delivered_at, s.delivered_at, s.delivered_at, NULL
        FROM logistics_shipment s WHERE s.delivered_at IS NOT NULL AND s.id % 8 = 1;
        INSERT INTO crm_surveyresponse (id, order_id, score, comment, answered_at,
            customer_id, notification_id)
        SELECT n.id, n.order_id,
               CASE WHEN u < 0.55 THEN 9 + floor(random() * 2)::int
                    WHEN u < 0.8 THEN 7 + floor(random() * 2)::int
                    ELSE floor(random() * 7)::int END,
               '', n.sent_at + interval '2 days', NULL, n.id
        FROM (SELECT *, random() AS u FROM crm_notification WHERE kind = 'survey') n;
        """,
    )
    add(
        "stock ledger and levels",
        """
        INSERT INTO inventory_stockmovement (on_hand_delta, reserved_delta, reason, actor_id,
            order_id, order_line_id, reference, note, created_at, product_id, warehouse_id)
        SELECT -l.quantity, 0, 'ship', NULL, l.order_id, l.id, '', '', s.shipped_at,
               l.product_id, s.warehouse_id
        FROM orders_orderline l JOIN logistics_shipment s ON s.order_id = l.order_id;
        CREATE UNLOGGED TABLE bench_s AS
        SELECT p.id AS product_id, w.id AS warehouse_id,
               coalesce(m.shipped, 0) AS shipped,
               CASE WHEN random() < 0.05 THEN 0 ELSE 5 + floor(random() * 100)::int END AS rem1,
               CASE WHEN random() < 0.6 THEN 10 + floor(random() * 80)::int ELSE 0 END AS rem2
        FROM inventory_product p CROSS JOIN inventory_warehouse w
        LEFT JOIN (SELECT product_id, warehouse_id, -sum(on_hand_delta) AS shipped
                   FROM inventory_stockmovement GROUP BY product_id, warehouse_id) m
          ON m.product_id = p.id AND m.warehouse_id = w.id;
        INSERT INTO inventory_stockmovement (on_hand_delta, reserved_delta, reason, actor_id,
            order_id, order_line_id, reference, note, created_at, product_id, warehouse_id)
        SELECT shipped + rem1, 0, 'receipt', NULL::int, NULL::bigint, NULL::bigint, 'PO', '',
               timestamptz '2026-04-01' + random() * interval '60 days', product_id,
               warehouse_id
        FROM bench_s WHERE shipped + rem1 > 0
        UNION ALL
        SELECT rem2, 0, 'receipt', NULL, NULL, NULL, 'PO', '',
               timestamptz '2026-09-01' + random() * interval '55 days', product_id,
               warehouse_id
        FROM bench_s WHERE rem2 > 0;
        INSERT INTO inventory_stocklevel (on_hand, reserved, updated_at, product_id,
            warehouse_id)
        SELECT rem1 + rem2, 0, '2026-10-31', product_id, warehouse_id FROM bench_s;
        """,
    )
    add(
        "campaign costs, goal, store metrics",
        f"""
        INSERT INTO finance_campaigncost (campaign, date, amount, description)
        SELECT 'camp-' || c, d::date, 20 + c % 10 * 15, ''
        FROM generate_series(1, {n_campaigns}) c,
             generate_series(date '2026-10-01', date '2026-10-31', interval '1 day') d;
        INSERT INTO finance_campaigncost (campaign, date, amount, description)
        SELECT 'camp-nosale-' || c, date '2026-10-15', 500, ''
        FROM generate_series(1, 5) c;
        INSERT INTO finance_monthlygoal (month, revenue_goal)
        SELECT date '2026-10-01', round(sum(total) * 1.05, -3) FROM orders_order
        WHERE id <= {n} AND paid_at IS NOT NULL;
        INSERT INTO finance_storemetrics (month, sessions, carts, orders)
        VALUES (date '2026-10-01', {n * 45}, {n * 4}, {n});
        """,
    )
    add(
        "drop staging, reset identity sequences",
        """
        DROP TABLE bench_o, bench_l, bench_i, bench_p, bench_s;
        DO $$
        DECLARE t text;
        BEGIN
          FOREACH t IN ARRAY ARRAY['orders_channel', 'inventory_supplier',
              'inventory_warehouse', 'inventory_product', 'finance_cashaccount',
              'orders_order', 'orders_orderline', 'finance_receivable', 'finance_instalment',
              'finance_cashentry', 'finance_payable', 'logistics_returnrequest',
              'finance_refund', 'logistics_shipment', 'crm_notification',
              'crm_surveyresponse']
          LOOP
            EXECUTE format('SELECT setval(pg_get_serial_sequence(%L, ''id''), '
                           '(SELECT max(id) FROM %I))', t, t);
          END LOOP;
        END $$;
        """,
    )
    return steps


BIG_TABLES = (
    "orders_order",
    "orders_orderline",
    "finance_receivable",
    "finance_instalment",
    "finance_cashentry",
    "finance_refund",
    "logistics_returnrequest",
    "logistics_shipment",
    "crm_notification",
    "crm_surveyresponse",
    "inventory_stockmovement",
)


def build(args: argparse.Namespace) -> None:
    import psycopg

    t0 = time.perf_counter()
    url = recreate_database(args.db)
    print(f"migrated {args.db} in {time.perf_counter() - t0:.1f}s", flush=True)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET timezone = 'America/Sao_Paulo'")
        conn.execute("SET synchronous_commit = off")
        # The rows are built from each other with joins, so every foreign key holds; skip
        # the per-row FK triggers while loading (CHECK and UNIQUE constraints still apply).
        conn.execute("SET session_replication_role = replica")
        conn.execute("SET work_mem = '256MB'")
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("SELECT setseed(0.42)")
        # Loading into tables without their secondary indexes and building these
        # afterwards is several times faster than maintaining them row by row; the
        # indexes behind constraints (primary keys, UNIQUE) stay.
        indexes = conn.execute(
            """
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.schemaname = 'public' AND i.tablename = ANY(%s)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
            """,
            [list(BIG_TABLES)],
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')  # type: ignore[arg-type]
        for label, sql in _build_sql(args.orders):
            t = time.perf_counter()
            conn.execute(sql)  # type: ignore[arg-type]
            print(f"  {label}: {time.perf_counter() - t:.1f}s", flush=True)
        t = time.perf_counter()
        for _, definition in indexes:
            conn.execute(definition)  # type: ignore[arg-type]
        print(f"  {len(indexes)} secondary indexes rebuilt: {time.perf_counter() - t:.1f}s")
        t = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        print(f"  vacuum analyze: {time.perf_counter() - t:.1f}s", flush=True)
        counts = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
            for table in (
                "orders_order",
                "orders_orderline",
                "finance_receivable",
                "finance_instalment",
                "finance_cashentry",
                "finance_payable",
                "finance_refund",
                "logistics_shipment",
                "logistics_returnrequest",
                "crm_surveyresponse",
                "inventory_stocklevel",
                "inventory_stockmovement",
                "finance_campaigncost",
            )
        }
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        counts["database size"] = size.fetchone()[0]  # type: ignore[index]
    print(f"built {args.db} in {time.perf_counter() - t0:.0f}s")
    for k, v in counts.items():
        print(f"  {k}: {v}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"report-build-{args.db}.json").write_text(
        json.dumps({"orders": args.orders, "seconds": time.perf_counter() - t0, **counts})
    )
    # The bulk load bypassed the rollup's triggers (session_replication_role = replica):
    # fill it the way an existing install does, in a process of its own.
    subprocess.run([sys.executable, __file__, "fill", "--db", args.db], check=True, cwd=ROOT)


# --- fill the daily sales rollup (the nightly job's work) -----------------------------------


FILL_FROM = date(2026, 8, 1)


def fill(args: argparse.Namespace) -> None:
    """``daily_rollup_fill`` for every day from August to the last due date of an
    instalment, today excepted (what a new install backfills; the nightly task then
    fills a day or two a night), timed per day."""
    django_setup(pg_url(args.db))
    from django.db import connection
    from django.db.models import Max
    from django.utils import timezone

    from finance.models import (
        CashRollup,
        DeliveryRollup,
        Instalment,
        InstalmentRollup,
        SalesRollup,
        SkuSalesRollup,
    )
    from finance.selectors import days_between
    from finance.services import daily_rollup_fill

    statements = [0]

    def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        statements[0] += 1
        return execute(sql, params, many, context)

    last_due = Instalment.objects.aggregate(d=Max("due_date"))["d"]
    days = [d for d in days_between(FILL_FROM, last_due) if d != timezone.localdate()]
    per_day: dict[str, float] = {}
    t0 = time.perf_counter()
    with connection.execute_wrapper(count):
        for day in days:
            t = time.perf_counter()
            daily_rollup_fill(day=day)
            per_day[f"{day}"] = time.perf_counter() - t
    total = time.perf_counter() - t0
    months: dict[str, list[float]] = {}
    for label, seconds in per_day.items():
        months.setdefault(label[:7], []).append(seconds)
    rows = {
        "sales_rollup": SalesRollup.objects.count(),
        "sku_sales_rollup": SkuSalesRollup.objects.count(),
        "october_sales_rollup": SalesRollup.objects.filter(day__gte=MONTH).count(),
        "october_sku_sales_rollup": SkuSalesRollup.objects.filter(day__gte=MONTH).count(),
        "cash_rollup": CashRollup.objects.count(),
        "instalment_rollup": InstalmentRollup.objects.count(),
        "delivery_rollup": DeliveryRollup.objects.count(),
    }
    summary = {
        "db": args.db,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "days": len(days),
        "seconds": total,
        "statements": statements[0],
        "rss_peak_mb": _maxrss_mb(),
        "per_month": {
            m: {
                "days": len(v),
                "seconds": sum(v),
                "median_day_s": statistics.median(v),
                "max_day_s": max(v),
            }
            for m, v in months.items()
        },
        "rows": rows,
        "per_day": per_day,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"report-fill-{args.db}.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps({k: v for k, v in summary.items() if k != "per_day"}, indent=2))


# --- measure (one fresh process per run) ----------------------------------------------------


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _pages(pdf: bytes) -> int | None:
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".pdf") as fh:
        fh.write(pdf)
        fh.flush()
        try:
            info = subprocess.run(["pdfinfo", fh.name], capture_output=True, text=True).stdout
        except OSError:
            return None
    for line in info.splitlines():
        if line.startswith("Pages:"):
            return int(line.split()[1])
    return None


def measure(args: argparse.Namespace) -> None:
    django_setup(pg_url(args.db))
    import tracemalloc

    from django.conf import settings

    if args.pg_settings:
        settings.FINANCE_REPORT_PG_SETTINGS = json.loads(args.pg_settings)
    if args.no_rollup:
        settings.FINANCE_DAILY_ROLLUP = False

    import weasyprint  # noqa: F401 - imported before timing: a worker imports it once
    from django.db import connection

    from finance.reports import render_pdf, report_data, report_html
    from finance.selectors import month_end

    queries: list[tuple[float, str]] = []

    def spy(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append((time.perf_counter() - t, sql))

    connection.ensure_connection()
    if args.stale:
        # The last N days of the month made stale (as a late change would) for this run
        # only: they are summed live. Committed here and filled again after the run.
        from finance.models import RollupDay

        RollupDay.objects.filter(
            day__gt=month_end(MONTH) - timedelta(days=args.stale), day__lte=month_end(MONTH)
        ).update(stale=True)
    rss_base = _maxrss_mb()
    trace = args.tracemalloc
    if trace:
        tracemalloc.start()
    with connection.execute_wrapper(spy):
        t0 = time.perf_counter()
        data = report_data(MONTH, today=TODAY)
        t1 = time.perf_counter()
    heap_gather = tracemalloc.get_traced_memory()[1] if trace else None
    if trace:
        tracemalloc.reset_peak()
    rss_gather = _maxrss_mb()
    t2 = time.perf_counter()
    html = report_html(data)
    t3 = time.perf_counter()
    pdf = render_pdf(html)
    t4 = time.perf_counter()
    heap_render = tracemalloc.get_traced_memory()[1] if trace else None
    slowest = sorted(queries, key=lambda q: -q[0])[:10]
    print(
        json.dumps(
            {
                "orders": data["sales"]["orders"],
                "revenue": str(data["sales"]["revenue"]),
                "margin": str(data["margin"]["margin"]),
                "gather_s": t1 - t0,
                "html_s": t3 - t2,
                "pdf_s": t4 - t3,
                "render_s": t4 - t2,
                "total_s": t4 - t0,
                "queries": len(queries),
                "rss_base_mb": rss_base,
                "rss_after_gather_mb": rss_gather,
                "rss_peak_mb": _maxrss_mb(),
                "heap_gather_mb": heap_gather / 2**20 if heap_gather is not None else None,
                "heap_render_mb": heap_render / 2**20 if heap_render is not None else None,
                "html_kb": len(html) / 1024,
                "pdf_kb": len(pdf) / 1024,
                "pdf_pages": _pages(pdf),
                "slowest_queries": [[round(s, 3), q[:200]] for s, q in slowest],
            }
        )
    )
    if args.out:
        Path(args.out).write_bytes(pdf)
    if args.stale:
        from finance.services import daily_rollup_refresh

        daily_rollup_refresh(start=MONTH, end=month_end(MONTH))


def run(args: argparse.Namespace) -> None:
    def one(*extra: str) -> dict:  # type: ignore[type-arg]
        cmd = [sys.executable, __file__, "measure", "--db", args.db, *extra]
        if args.pg_settings:
            cmd += ["--pg-settings", args.pg_settings]
        if args.no_rollup:
            cmd += ["--no-rollup"]
        if args.stale:
            cmd += ["--stale", str(args.stale)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
        line = [x for x in out.stdout.splitlines() if x.startswith("{")][-1]
        return json.loads(line)

    RESULTS.mkdir(parents=True, exist_ok=True)
    runs = []
    for i in range(args.runs):
        extra = ["--out", str(RESULTS / f"report-{args.db}.pdf")] if i == 0 else []
        r = one(*extra)
        runs.append(r)
        print(
            f"run {i + 1}: gather {r['gather_s']:.2f}s render {r['render_s']:.2f}s "
            f"total {r['total_s']:.2f}s rss {r['rss_peak_mb']:.0f} MB "
            f"queries {r['queries']}",
            flush=True,
        )
    traced = one("--tracemalloc") if not args.skip_trace else {}
    med = {
        k: statistics.median(r[k] for r in runs)
        for k in (
            "gather_s",
            "html_s",
            "pdf_s",
            "render_s",
            "total_s",
            "rss_peak_mb",
            "rss_base_mb",
            "rss_after_gather_mb",
        )
    }
    summary = {
        "db": args.db,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "runs": args.runs,
        "rollup": not args.no_rollup,
        "stale_days": args.stale,
        "load_avg_1m": os.getloadavg()[0],
        "orders": runs[0]["orders"],
        "queries": runs[0]["queries"],
        "median": med,
        "heap_gather_mb": traced.get("heap_gather_mb"),
        "heap_render_mb": traced.get("heap_render_mb"),
        "html_kb": runs[0]["html_kb"],
        "pdf_kb": runs[0]["pdf_kb"],
        "pdf_pages": runs[0]["pdf_pages"],
        "slowest_queries": runs[-1]["slowest_queries"],
        "all": runs,
    }
    label = args.label or "current"
    (RESULTS / f"report-{args.db}-{label}.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps({k: v for k, v in summary.items() if k != "all"}, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("--orders", type=int, required=True)
    b.add_argument("--db", required=True)
    r = sub.add_parser("run")
    r.add_argument("--db", required=True)
    r.add_argument("--runs", type=int, default=5)
    r.add_argument("--label", default="")
    r.add_argument("--skip-trace", action="store_true", help="no extra tracemalloc run")
    m = sub.add_parser("measure")
    m.add_argument("--db", required=True)
    m.add_argument("--tracemalloc", action="store_true")
    m.add_argument("--out", default="")
    f = sub.add_parser("fill")
    f.add_argument("--db", required=True)
    for p in (r, m):
        p.add_argument(
            "--stale",
            type=int,
            default=0,
            help="mark the month's last N days stale first (summed live), fill them after",
        )
        p.add_argument(
            "--no-rollup",
            action="store_true",
            help="sum every day live from the orders (FINANCE_DAILY_ROLLUP = False)",
        )
        p.add_argument(
            "--pg-settings",
            default="",
            help='JSON for FINANCE_REPORT_PG_SETTINGS, e.g. \'{"jit": "off", "work_mem": "16MB"}\'',
        )
    args = parser.parse_args()
    if args.cmd == "build":
        if not args.db.startswith("rg_bench"):
            parser.error("--db must start with rg_bench (it is dropped and recreated)")
        build(args)
    elif args.cmd == "run":
        run(args)
    elif args.cmd == "fill":
        fill(args)
    else:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
        measure(args)


if __name__ == "__main__":
    main()
