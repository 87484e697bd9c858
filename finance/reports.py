"""The monthly management report: its data (a fixed number of SQL queries, whatever the
number of orders), its HTML (Django template, autoescaped) and its PDF (WeasyPrint,
imported lazily, with a URL fetcher that refuses the network).

Sources that other apps are still building (logistics shipments and returns, crm survey
answers) are used when their tables exist; otherwise the section shows "n/a".
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from finance import charts
from finance.conf import report_pg_settings
from finance.models import MonthlyGoal, StoreMetrics
from finance.selectors import (
    MONEY,
    ZERO,
    _money,
    account_balances,
    cashflow_actual,
    cashflow_projected,
    day_bounds,
    delivery_on_time,
    first_field,
    margin_by_campaign,
    margin_by_channel,
    margin_by_sku,
    margin_groups,
    margin_totals,
    month_end,
    month_start,
    next_month,
    optional_model,
    payables_summary,
    products_sold,
    receivables_summary,
    rollup_snapshot,
    sales_daily,
)
from inventory.models import Product, StockLevel, StockMovement

AGED_STOCK_DAYS = 90
TOP_N = 10


def _ratio(part: Any, whole: Any) -> Decimal | None:
    part, whole = Decimal(part or 0), Decimal(whole or 0)
    return (part / whole) if whole else None


def _stock(as_of: date) -> dict[str, Any]:
    """Stock value at cost and the part of it older than 90 days (no inbound movement
    since; a level never received counts from the product's creation). One query."""
    cutoff = day_bounds(as_of - timedelta(days=AGED_STOCK_DAYS), as_of)[0]
    last_in = (
        StockMovement.objects.filter(
            product_id=OuterRef("product_id"),
            warehouse_id=OuterRef("warehouse_id"),
            on_hand_delta__gt=0,
        )
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    value = F("on_hand") * F("product__cost")
    row = (
        StockLevel.objects.filter(on_hand__gt=0)
        .annotate(last_in=Coalesce(Subquery(last_in), F("product__created_at")))
        .aggregate(
            value=Coalesce(Sum(value, output_field=MONEY), ZERO, output_field=MONEY),
            units=Coalesce(Sum("on_hand"), 0),
            aged_value=Coalesce(
                Sum(value, filter=Q(last_in__lt=cutoff), output_field=MONEY),
                ZERO,
                output_field=MONEY,
            ),
            aged_units=Coalesce(Sum("on_hand", filter=Q(last_in__lt=cutoff)), 0),
        )
    )
    return {
        "value": _money(row["value"]),
        "units": row["units"],
        "aged_value": _money(row["aged_value"]),
        "aged_units": row["aged_units"],
        "aged_share": _ratio(row["aged_value"], row["value"]),
    }


def _dead_products(start: date, end: date) -> list[dict[str, Any]]:
    """Active products holding stock that sold nothing in the period, by stock value.
    One query (sold: from the daily rollup where it holds, live otherwise)."""
    rows = (
        Product.objects.filter(is_active=True)
        .annotate(
            on_hand=Coalesce(Sum("stock_levels__on_hand"), 0),
            stock_value=Coalesce(
                Sum(F("stock_levels__on_hand") * F("cost"), output_field=MONEY),
                ZERO,
                output_field=MONEY,
            ),
        )
        .filter(on_hand__gt=0)
    )
    for sold in products_sold(start=start, end=end):
        rows = rows.filter(~sold)
    found = rows.order_by("-stock_value", "sku").values("sku", "name", "on_hand", "stock_value")
    return [{**r, "stock_value": _money(r["stock_value"])} for r in found[:TOP_N]]


def _returns(start: date, end: date, orders: int, tables: set[str]) -> dict[str, Any]:
    model = optional_model("logistics", "ReturnRequest")
    field = first_field(model, "created_at", "requested_at", "opened_at")
    if model is None or field is None or model._meta.db_table not in tables:
        return {"available": False}
    lo, hi = day_bounds(start, end)
    count = model._default_manager.filter(**{f"{field}__gte": lo, f"{field}__lt": hi}).count()
    return {"available": True, "count": count, "rate": _ratio(count, orders)}


def _on_time(start: date, end: date, tables: set[str]) -> dict[str, Any]:
    model = optional_model("logistics", "Shipment")
    delivered = first_field(model, "delivered_at")
    promised = first_field(
        model,
        "promised_date",
        "promised_at",
        "estimated_delivery",
        "estimated_delivery_date",
        "expected_delivery_date",
        "delivery_deadline",
        "deadline",
    )
    if model is None or not delivered or not promised or model._meta.db_table not in tables:
        return {"available": False}
    if (delivered, promised) == ("delivered_at", "promised_date"):
        row = delivery_on_time(start=start, end=end)
        return {
            "available": True,
            "delivered": row["delivered"],
            "on_time": row["on_time"],
            "rate": _ratio(row["on_time"], row["delivered"]),
        }
    lo, hi = day_bounds(start, end)
    promised_field = model._meta.get_field(promised)
    if isinstance(promised_field, models.DateTimeField):
        on_time = Q(**{f"{delivered}__lte": F(promised)})
    else:
        on_time = Q(**{f"{delivered}__date__lte": F(promised)})
    row = model._default_manager.filter(
        **{f"{delivered}__gte": lo, f"{delivered}__lt": hi, f"{promised}__isnull": False}
    ).aggregate(total=Count("pk"), on_time=Count("pk", filter=on_time))
    return {
        "available": True,
        "delivered": row["total"],
        "on_time": row["on_time"],
        "rate": _ratio(row["on_time"], row["total"]),
    }


def _nps(start: date, end: date, tables: set[str]) -> dict[str, Any]:
    model = optional_model("crm", "SurveyResponse")
    when = first_field(model, "answered_at", "created_at")
    if model is None or when is None or model._meta.db_table not in tables:
        return {"available": False}
    lo, hi = day_bounds(start, end)
    row = model._default_manager.filter(**{f"{when}__gte": lo, f"{when}__lt": hi}).aggregate(
        answers=Count("pk"),
        promoters=Count("pk", filter=Q(score__gte=9)),
        detractors=Count("pk", filter=Q(score__lte=6)),
    )
    answers = row["answers"]
    nps = Decimal(row["promoters"] - row["detractors"]) * 100 / answers if answers else None
    return {"available": True, **row, "nps": nps}


@contextmanager
def report_session() -> Iterator[None]:
    """A read transaction for the report's queries with the PostgreSQL settings of
    ``FINANCE_REPORT_PG_SETTINGS`` (``SET LOCAL``: they end with the transaction, the
    connection goes back to the pool as it was). Other databases: just the transaction.

    On PostgreSQL, when it starts the transaction, it is REPEATABLE READ: every query of
    the report sees one snapshot, so the days read from the daily rollup and the days
    summed live (finance.selectors.rollup_days) are split on the same state of the
    data, and the figures of different sections agree with each other."""
    fresh = not connection.in_atomic_block
    with transaction.atomic():
        statements: list[tuple[str, list[str]]] = []
        if connection.vendor == "postgresql":
            if fresh:
                statements.append(("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", []))
            pg_settings = report_pg_settings()
            if pg_settings:
                calls = ", ".join(["set_config(%s, %s, true)"] * len(pg_settings))
                params = [str(part) for item in pg_settings.items() for part in item]
                statements.append((f"SELECT {calls}", params))  # only %s placeholders
        if statements:
            with connection.cursor() as cursor:
                for sql, params in statements:
                    cursor.execute(sql, params)
        yield


def report_data(month: date, *, today: date | None = None) -> dict[str, Any]:
    """Every figure of the monthly management report for ``month``, computed with a
    fixed number of queries (aggregations in SQL), however many orders there are."""
    with report_session(), rollup_snapshot():
        return _report_data(month, today=today)


def _report_data(month: date, *, today: date | None = None) -> dict[str, Any]:
    start = month_start(month)
    end = month_end(start)
    today = today or timezone.localdate()
    # as_of: what is overdue is judged on this day; cutoff: first day not yet sold.
    as_of = min(today, end + timedelta(days=1))
    cutoff = min(today + timedelta(days=1), end + timedelta(days=1))
    tables = set(connection.introspection.table_names())

    groups = margin_groups(start=start, end=end)
    totals = margin_totals(start=start, end=end, groups=groups)
    orders = totals["orders"]
    daily = sales_daily(start=start, end=end)
    goal_value = (
        MonthlyGoal.objects.filter(month=start).values_list("revenue_goal", flat=True).first()
    )
    goal = _money(goal_value) if goal_value is not None else None
    days_in_month = end.day
    days_elapsed = max(0, min((cutoff - start).days, days_in_month))
    projection = _money(totals["revenue"] / days_elapsed * days_in_month) if days_elapsed else None
    metrics = StoreMetrics.objects.filter(month=start).first()
    horizon_end = month_end(next_month(next_month(next_month(start))))
    return {
        "month": start,
        "start": start,
        "end": end,
        "as_of": as_of,
        "cutoff": cutoff,
        "generated_at": timezone.now(),
        "sales": {
            "orders": orders,
            "revenue": totals["revenue"],
            "average_ticket": _money(totals["revenue"] / orders) if orders else None,
            "goal": goal,
            "attainment": _ratio(totals["revenue"], goal) if goal else None,
            "projection": projection,
            "projected_attainment": _ratio(projection, goal) if goal and projection else None,
            "days_elapsed": days_elapsed,
            "days_in_month": days_in_month,
            "daily": [
                (start + timedelta(days=i), _money(daily.get(start + timedelta(days=i))))
                for i in range(days_in_month)
            ],
        },
        "margin": totals,
        "margin_by_channel": margin_by_channel(start=start, end=end, groups=groups),
        "margin_by_campaign": margin_by_campaign(start=start, end=end, limit=TOP_N, groups=groups),
        "top_products": margin_by_sku(start=start, end=end, limit=TOP_N),
        "dead_products": _dead_products(start, end),
        "cash": {
            "balances": account_balances(),
            "actual": cashflow_actual(start=start, end=end, period="week"),
            "projected": cashflow_projected(
                start=as_of,
                end=horizon_end,
                period="month",
            ),
        },
        "receivables": receivables_summary(start=start, end=end, as_of=as_of),
        "payables": payables_summary(as_of=as_of),
        "stock": _stock(as_of),
        "returns": _returns(start, end, orders, tables),
        "delivery": _on_time(start, end, tables),
        "satisfaction": _nps(start, end, tables),
        "store": (
            {
                "available": True,
                "sessions": metrics.sessions,
                "carts": metrics.carts,
                "orders": metrics.orders,
                "conversion": _ratio(metrics.orders, metrics.sessions),
                "cart_abandonment": (
                    1 - _ratio(metrics.orders, metrics.carts)  # type: ignore[operator]
                    if metrics.carts
                    else None
                ),
            }
            if metrics
            else {"available": False}
        ),
    }


# --- rendering ----------------------------------------------------------------------------


def report_charts(data: dict[str, Any]) -> dict[str, Any]:
    daily = data["sales"]["daily"]
    labels = [f"{d:%d}" for d, _ in daily]
    cumulative: list[Decimal | None] = []
    running = Decimal("0")
    for d, v in daily:
        running += v
        cumulative.append(running if d < data["cutoff"] else None)
    series: list[tuple[str, list[Decimal | None]]] = [(_("Revenue (cumulative)"), cumulative)]
    goal = data["sales"]["goal"]
    if goal:
        n = len(daily)
        series.append((_("Goal pace"), [goal * (i + 1) / n for i in range(n)]))
    actual = data["cash"]["actual"]
    return {
        "revenue": charts.line_chart(labels, series),
        "cashflow": charts.bar_chart(
            [f"{r['period']:%d/%m}" for r in actual],
            [
                (_("In"), [r["inflow"] for r in actual]),
                (_("Out"), [r["outflow"] for r in actual]),
            ],
        ),
    }


def report_html(data: dict[str, Any]) -> str:
    from django.conf import settings

    return render_to_string(
        "finance/management_report.html",
        {"data": data, "charts": report_charts(data), "store_name": settings.STORE_NAME},
    )


def no_network_fetcher() -> Any:
    """A WeasyPrint URL fetcher that fetches nothing but inline ``data:`` URLs: the report
    never reaches the network or the file system, whatever text ends up in it."""
    from weasyprint.urls import URLFetcher

    class NoNetworkFetcher(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            if not url.startswith("data:"):
                raise ValueError(f"refused to fetch {url[:80]!r}: the report is self-contained")
            return super().fetch(url, headers)

    return NoNetworkFetcher(timeout=1, allowed_protocols=["data"], allow_redirects=False)


def render_pdf(html: str, *, url_fetcher: Any = None) -> bytes:
    """HTML -> PDF bytes with WeasyPrint (imported here: it is heavy and only needed for
    reports)."""
    import logging

    from weasyprint import HTML

    # WeasyPrint logs every layout step at INFO; keep the worker's log readable.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    fetcher = url_fetcher if url_fetcher is not None else no_network_fetcher()
    return HTML(string=html, base_url=None, url_fetcher=fetcher).write_pdf()


def report_pdf(month: date, *, url_fetcher: Any = None) -> bytes:
    return render_pdf(report_html(report_data(month)), url_fetcher=url_fetcher)
