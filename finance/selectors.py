"""Read API of finance: balances, cash flow, receivables, default rate, margins.

Everything is aggregated in SQL (``values().annotate()``, ``Trunc*``, subqueries): the
number of queries of each selector does not depend on how many orders or entries exist.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import models
from django.db.models import (
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Trunc
from django.utils import timezone

from finance.models import (
    CampaignCost,
    CashAccount,
    CashEntry,
    Instalment,
    MonthlyGoal,
    Payable,
    Refund,
)
from orders.models import Order, OrderLine
from orders.status import Payment

MONEY: DecimalField[Decimal, Decimal] = DecimalField(max_digits=14, decimal_places=2)
ZERO = Value(Decimal("0.00"), output_field=MONEY)
PERIODS = ("day", "week", "month")
SALE_STATUSES = [
    Payment.PAID,
    Payment.PARTIALLY_REFUNDED,
    Payment.REFUNDED,
    Payment.CHARGEBACK,
]
TRANSFER_KINDS = [CashEntry.Kind.TRANSFER_IN, CashEntry.Kind.TRANSFER_OUT]


# --- time helpers ---------------------------------------------------------------------------


def month_start(value: date) -> date:
    return value.replace(day=1)


def month_end(value: date) -> date:
    """Last day of ``value``'s month."""
    return value.replace(day=calendar.monthrange(value.year, value.month)[1])


def next_month(value: date) -> date:
    return month_end(value) + timedelta(days=1)


def parse_month(text: str) -> date:
    """``"2026-10"`` -> ``date(2026, 10, 1)``."""
    year, _, month = text.strip().partition("-")
    return date(int(year), int(month), 1)


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """Aware datetimes [start 00:00, end+1 00:00) in the current time zone."""
    tz = timezone.get_current_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=tz),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
    )


def _money(value: Any) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


# --- optional sources from apps built separately ------------------------------------------


def optional_model(app_label: str, model_name: str) -> type[models.Model] | None:
    """A model of another app if that app defines it (logistics and parts of crm are
    being built alongside finance); None otherwise."""
    try:
        return apps.get_model(app_label, model_name)
    except LookupError:
        return None


def first_field(model: type[models.Model] | None, *names: str) -> str | None:
    """The first of ``names`` that ``model`` has as a concrete field."""
    if model is None:
        return None
    fields = {f.name for f in model._meta.concrete_fields}
    return next((n for n in names if n in fields), None)


def shipment_cost_field() -> str | None:
    return first_field(
        optional_model("logistics", "Shipment"),
        "cost",
        "freight_cost",
        "shipping_cost",
        "carrier_cost",
        "price",
    )


# --- cash -------------------------------------------------------------------------------------


def cash_balances() -> QuerySet[CashAccount]:
    """Accounts with ``balance`` = SUM of their ledger (one query)."""
    return CashAccount.objects.annotate(
        balance=Coalesce(Sum("entries__amount"), ZERO, output_field=MONEY)
    ).order_by("name")


def cash_account_balance(*, account_id: int) -> Decimal:
    total = CashEntry.objects.filter(account_id=account_id).aggregate(s=Sum("amount"))["s"]
    return _money(total)


def _trunc(field: str, period: str, output: models.Field) -> Trunc:
    if period not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS}")
    return Trunc(field, period, output_field=output)


def cashflow_actual(*, start: date, end: date, period: str = "day") -> list[dict[str, Any]]:
    """Money in and out of all accounts per period, from the ledger (transfers between
    our own accounts are not cash flow and are left out). One query."""
    lo, hi = day_bounds(start, end)
    rows = (
        CashEntry.objects.filter(created_at__gte=lo, created_at__lt=hi)
        .exclude(kind__in=TRANSFER_KINDS)
        .annotate(period=_trunc("created_at", period, models.DateField()))
        .values("period")
        .annotate(
            inflow=Coalesce(
                Sum(Case(When(amount__gt=0, then=F("amount")), default=ZERO)),
                ZERO,
                output_field=MONEY,
            ),
            outflow=Coalesce(
                Sum(Case(When(amount__lt=0, then=-F("amount")), default=ZERO)),
                ZERO,
                output_field=MONEY,
            ),
            net=Coalesce(Sum("amount"), ZERO, output_field=MONEY),
        )
        .order_by("period")
    )
    return [
        {
            "period": r["period"],
            "inflow": _money(r["inflow"]),
            "outflow": _money(r["outflow"]),
            "net": _money(r["net"]),
        }
        for r in rows
    ]


def cashflow_projected(*, start: date, end: date, period: str = "day") -> list[dict[str, Any]]:
    """Expected money in (open instalments, net of fees) and out (open payables) per
    period by due date. Two queries."""
    trunc = _trunc("due_date", period, models.DateField())
    inflows = (
        Instalment.objects.filter(
            status=Instalment.Status.OPEN, due_date__gte=start, due_date__lte=end
        )
        .annotate(period=trunc)
        .values("period")
        .annotate(total=Sum("net"))
    )
    outflows = (
        Payable.objects.filter(status=Payable.Status.OPEN, due_date__gte=start, due_date__lte=end)
        .annotate(period=_trunc("due_date", period, models.DateField()))
        .values("period")
        .annotate(total=Sum("amount"))
    )
    table: dict[date, dict[str, Any]] = {}
    for r in inflows:
        table.setdefault(r["period"], {"inflow": Decimal("0.00"), "outflow": Decimal("0.00")})
        table[r["period"]]["inflow"] += _money(r["total"])
    for r in outflows:
        table.setdefault(r["period"], {"inflow": Decimal("0.00"), "outflow": Decimal("0.00")})
        table[r["period"]]["outflow"] += _money(r["total"])
    return [
        {
            "period": p,
            "inflow": v["inflow"],
            "outflow": v["outflow"],
            "net": v["inflow"] - v["outflow"],
        }
        for p, v in sorted(table.items())
    ]


# --- receivables and payables -----------------------------------------------------------


def receivables_overdue(*, as_of: date | None = None) -> QuerySet[Instalment]:
    as_of = as_of or timezone.localdate()
    return (
        Instalment.objects.filter(status=Instalment.Status.OPEN, due_date__lt=as_of)
        .select_related("receivable__order")
        .order_by("due_date", "pk")
    )


def payables_overdue(*, as_of: date | None = None) -> QuerySet[Payable]:
    as_of = as_of or timezone.localdate()
    return (
        Payable.objects.filter(status=Payable.Status.OPEN, due_date__lt=as_of)
        .select_related("supplier")
        .order_by("due_date", "pk")
    )


def receivables_summary(*, start: date, end: date, as_of: date | None = None) -> dict[str, Any]:
    """Receivables due in [start, end], how much of it is overdue at ``as_of`` and the
    default rate (inadimplência = overdue amount / amount due in the period), plus
    everything still open. One query."""
    as_of = as_of or timezone.localdate()
    in_period = Q(due_date__gte=start, due_date__lte=end) & ~Q(status=Instalment.Status.CANCELLED)
    overdue = in_period & Q(status=Instalment.Status.OPEN, due_date__lt=as_of)
    row = Instalment.objects.aggregate(
        due=Coalesce(Sum("net", filter=in_period), ZERO, output_field=MONEY),
        overdue=Coalesce(Sum("net", filter=overdue), ZERO, output_field=MONEY),
        received=Coalesce(
            Sum("net", filter=in_period & Q(status=Instalment.Status.PAID)),
            ZERO,
            output_field=MONEY,
        ),
        open_total=Coalesce(
            Sum("net", filter=Q(status=Instalment.Status.OPEN)), ZERO, output_field=MONEY
        ),
        overdue_all=Coalesce(
            Sum("net", filter=Q(status=Instalment.Status.OPEN, due_date__lt=as_of)),
            ZERO,
            output_field=MONEY,
        ),
    )
    due, late = _money(row["due"]), _money(row["overdue"])
    return {
        "due": due,
        "overdue": late,
        "received": _money(row["received"]),
        "open_total": _money(row["open_total"]),
        "overdue_all": _money(row["overdue_all"]),
        "default_rate": (late / due) if due else None,
    }


def payables_summary(*, as_of: date | None = None) -> dict[str, Decimal]:
    as_of = as_of or timezone.localdate()
    open_q = Q(status=Payable.Status.OPEN)
    row = Payable.objects.aggregate(
        open_total=Coalesce(Sum("amount", filter=open_q), ZERO, output_field=MONEY),
        overdue=Coalesce(
            Sum("amount", filter=open_q & Q(due_date__lt=as_of)), ZERO, output_field=MONEY
        ),
    )
    return {k: _money(v) for k, v in row.items()}


# --- sales and margin ---------------------------------------------------------------------


def sales_filter(*, start: date, end: date, prefix: str = "") -> Q:
    """The condition of :func:`sales_orders`, on ``prefix`` (``"order__"`` from a model
    that points at the order), so a grouped query joins the order once."""
    lo, hi = day_bounds(start, end)
    return Q(
        **{
            f"{prefix}paid_at__gte": lo,
            f"{prefix}paid_at__lt": hi,
            f"{prefix}payment_status__in": SALE_STATUSES,
        }
    )


def sales_orders(*, start: date, end: date) -> QuerySet[Order]:
    """Orders that count as sales of [start, end]: paid in that window (refunds and
    chargebacks later are subtracted as refunds, not by dropping the sale)."""
    return Order.objects.filter(sales_filter(start=start, end=end))


def with_margin(orders: QuerySet[Order]) -> QuerySet[Order]:
    """Annotate each order with its margin parts, each one correlated subquery or join:

    margin = subtotal + shipping charged - discounts - cost of goods (unit_cost × qty)
             - freight paid (logistics shipments, 0 when unknown) - gateway fee - refunds

    For a few orders (one order's page, an export of a selection). Totals over a period
    use :func:`margin_groups`, which does not run a subquery per order.
    """
    cogs = (
        OrderLine.objects.filter(order=OuterRef("pk"))
        .values("order")
        .annotate(s=Sum(F("unit_cost") * F("quantity"), output_field=MONEY))
        .values("s")
    )
    refunds = (
        Refund.objects.filter(order=OuterRef("pk"))
        .values("order")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    qs = orders.annotate(
        m_cogs=Coalesce(Subquery(cogs, output_field=MONEY), ZERO, output_field=MONEY),
        m_fee=Coalesce(F("receivable__fee"), ZERO, output_field=MONEY),
        m_refunds=Coalesce(Subquery(refunds, output_field=MONEY), ZERO, output_field=MONEY),
    )
    shipment = optional_model("logistics", "Shipment")
    cost_field = shipment_cost_field()
    if shipment is not None and cost_field:
        freight = (
            shipment.objects.filter(order=OuterRef("pk"))  # type: ignore[attr-defined]
            .values("order")
            .annotate(s=Sum(cost_field))
            .values("s")
        )
        qs = qs.annotate(
            m_freight=Coalesce(Subquery(freight, output_field=MONEY), ZERO, output_field=MONEY)
        )
    else:
        qs = qs.annotate(m_freight=ZERO)
    return qs.annotate(
        m_margin=ExpressionWrapper(
            F("subtotal")
            + F("shipping_total")
            - F("discount_total")
            - F("m_cogs")
            - F("m_freight")
            - F("m_fee")
            - F("m_refunds"),
            output_field=MONEY,
        )
    )


MARGIN_PARTS = (
    "revenue",
    "subtotal",
    "shipping",
    "discounts",
    "cogs",
    "freight",
    "fees",
    "refunds",
)
GroupKey = tuple[int, str, str]  # (channel id, channel name, utm_campaign)


def _money_sum(expression: Any) -> Coalesce:
    return Coalesce(Sum(expression, output_field=MONEY), ZERO, output_field=MONEY)


def margin_groups(*, start: date, end: date) -> dict[GroupKey, dict[str, Any]]:
    """Sales and margin parts of the period per (channel, utm_campaign), summed in SQL.

    Every part of the margin is additive, so each is summed by its own grouped join
    (orders with their gateway fee, lines for the cost of goods, shipments for the
    freight, refunds) instead of a correlated subquery per order: four queries, one
    pass over each table's rows of the period, however many orders. The result has one
    entry per channel and campaign that sold (not per order)."""
    on_order = sales_filter(start=start, end=end, prefix="order__")
    groups: dict[GroupKey, dict[str, Any]] = {}
    rows = (
        sales_orders(start=start, end=end)
        .values("channel_id", "channel__name", "utm_campaign")
        .annotate(
            orders=Count("pk"),
            revenue=_money_sum("total"),
            subtotal=_money_sum("subtotal"),
            shipping=_money_sum("shipping_total"),
            discounts=_money_sum("discount_total"),
            fees=_money_sum("receivable__fee"),
        )
        .order_by()
    )
    for r in rows:
        groups[(r["channel_id"], r["channel__name"], r["utm_campaign"])] = {
            "orders": r["orders"],
            **{k: _money(r[k]) for k in ("revenue", "subtotal", "shipping", "discounts", "fees")},
            "cogs": Decimal("0.00"),
            "freight": Decimal("0.00"),
            "refunds": Decimal("0.00"),
        }

    by_id = {(k[0], k[2]): g for k, g in groups.items()}

    def add(part: str, qs: QuerySet[Any], expression: Any) -> None:
        rows = (
            qs.filter(on_order)
            .values("order__channel_id", "order__utm_campaign")
            .annotate(s=_money_sum(expression))
            .order_by()
        )
        for r in rows:
            group = by_id.get((r["order__channel_id"], r["order__utm_campaign"]))
            if group is not None:  # always: the same orders
                group[part] += _money(r["s"])

    add("cogs", OrderLine.objects.all(), F("unit_cost") * F("quantity"))
    add("refunds", Refund.objects.all(), F("amount"))
    shipment = optional_model("logistics", "Shipment")
    cost_field = shipment_cost_field()
    if shipment is not None and cost_field:
        add("freight", shipment._default_manager.all(), F(cost_field))
    return groups


def _finish(row: dict[str, Any]) -> dict[str, Any]:
    row["margin"] = (
        row["subtotal"]
        + row["shipping"]
        - row["discounts"]
        - row["cogs"]
        - row["freight"]
        - row["fees"]
        - row["refunds"]
    )
    row["margin_pct"] = (row["margin"] / row["revenue"] * 100) if row["revenue"] else None
    return row


def _empty() -> dict[str, Any]:
    return {"orders": 0, **{p: Decimal("0.00") for p in MARGIN_PARTS}}


def _rollup(groups: dict[GroupKey, dict[str, Any]], keep: Any) -> dict[Any, dict[str, Any]]:
    """Sum the groups of :func:`margin_groups` by ``keep(key)`` (one row per channel and
    campaign that sold, never per order) and derive margin and margin %."""
    out: dict[Any, dict[str, Any]] = {}
    for key, g in groups.items():
        row = out.setdefault(keep(key), _empty())
        row["orders"] += g["orders"]
        for part in MARGIN_PARTS:
            row[part] += g[part]
    return {k: _finish(row) for k, row in out.items()}


def margin_totals(
    *, start: date, end: date, groups: dict[GroupKey, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Sales and margin of the period in one row. Pass ``groups`` (from
    :func:`margin_groups`) to reuse them instead of querying again."""
    groups = margin_groups(start=start, end=end) if groups is None else groups
    return _rollup(groups, lambda k: None).get(None) or _finish(_empty())


def margin_by_channel(
    *, start: date, end: date, groups: dict[GroupKey, dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    groups = margin_groups(start=start, end=end) if groups is None else groups
    rows = [
        {"channel_id": cid, "channel__name": name, **row}
        for (cid, name), row in _rollup(groups, lambda k: (k[0], k[1])).items()
    ]
    return sorted(rows, key=lambda r: (-r["margin"], r["channel__name"]))


def margin_by_campaign(
    *,
    start: date,
    end: date,
    limit: int | None = None,
    groups: dict[GroupKey, dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Margin per utm_campaign, with the campaign's costs in the period and its ROI
    ((margin - cost) / cost), best margin first, then campaigns that cost money and sold
    nothing. With ``limit``, the first ``limit`` rows and one more row (``others``: how
    many) summing all the rest, so the list does not grow with the number of campaigns."""
    groups = margin_groups(start=start, end=end) if groups is None else groups
    costs = {
        campaign: _money(total)
        for campaign, total in CampaignCost.objects.filter(date__gte=start, date__lte=end)
        .values("campaign")
        .annotate(total=Sum("amount"))
        .values_list("campaign", "total")
    }
    sold = sorted(
        _rollup(groups, lambda k: k[2]).items(), key=lambda item: (-item[1]["margin"], item[0])
    )
    out = []
    for campaign, row in sold:
        cost = costs.pop(campaign, Decimal("0.00")) if campaign else Decimal("0.00")
        out.append({"campaign": campaign, **row, "cost": cost, "roi": _roi(row["margin"], cost)})
    # Campaigns that cost money and sold nothing.
    for campaign, cost in sorted(costs.items()):
        out.append({"campaign": campaign, **_finish(_empty()), "cost": cost, "roi": Decimal("-1")})
    if limit is None or len(out) <= limit + 1:
        return out
    rest = out[limit:]
    others: dict[str, Any] = {**_empty(), "cost": Decimal("0.00")}
    for row in rest:
        others["orders"] += row["orders"]
        for part in (*MARGIN_PARTS, "cost"):
            others[part] += row[part]
    others = _finish(others)
    others.update(campaign=None, others=len(rest), roi=_roi(others["margin"], others["cost"]))
    return [*out[:limit], others]


def _roi(margin: Decimal, cost: Decimal) -> Decimal | None:
    return ((margin - cost) / cost) if cost else None


def margin_by_sku(*, start: date, end: date, limit: int | None = None) -> list[dict[str, Any]]:
    """Per SKU: units, revenue (line totals), cost of goods and gross margin. Order-level
    costs (freight, fees, refunds) are not spread over SKUs; see docs/finance.md."""
    rows = (
        OrderLine.objects.filter(sales_filter(start=start, end=end, prefix="order__"))
        .values("sku")
        .annotate(
            name=models.Max("name"),
            units=Sum("quantity"),
            revenue=Coalesce(Sum("total"), ZERO, output_field=MONEY),
            cogs=Coalesce(
                Sum(F("unit_cost") * F("quantity"), output_field=MONEY), ZERO, output_field=MONEY
            ),
        )
        .annotate(margin=ExpressionWrapper(F("revenue") - F("cogs"), output_field=MONEY))
        .order_by("-revenue", "sku")
    )
    if limit:
        rows = rows[:limit]
    return [
        {
            "sku": r["sku"],
            "name": r["name"],
            "quantity": r["units"],
            "revenue": _money(r["revenue"]),
            "cogs": _money(r["cogs"]),
            "margin": _money(r["margin"]),
        }
        for r in rows
    ]


# --- goals ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoalProgress:
    month: date
    goal: Decimal | None
    actual: Decimal
    days_elapsed: int
    days_in_month: int
    projection: Decimal
    attainment: Decimal | None  # actual / goal
    projected_attainment: Decimal | None


def goal_progress(*, month: date, today: date | None = None) -> GoalProgress:
    """Revenue so far against the month's goal, and a linear projection from the
    month-to-date daily rate. Two queries."""
    month = month_start(month)
    today = today or timezone.localdate()
    last = month_end(month)
    cutoff = min(today, last)
    days_in_month = last.day
    days_elapsed = 0 if cutoff < month else (cutoff - month).days + 1
    actual = _money(sales_orders(start=month, end=last).aggregate(s=Sum("total"))["s"])
    goal_row = (
        MonthlyGoal.objects.filter(month=month).values_list("revenue_goal", flat=True).first()
    )
    goal = _money(goal_row) if goal_row is not None else None
    projection = _money(actual / days_elapsed * days_in_month) if days_elapsed else Decimal("0.00")
    return GoalProgress(
        month=month,
        goal=goal,
        actual=actual,
        days_elapsed=days_elapsed,
        days_in_month=days_in_month,
        projection=projection,
        attainment=(actual / goal) if goal else None,
        projected_attainment=(projection / goal) if goal else None,
    )


def finance_kpis(*, today: date | None = None) -> dict[str, Any]:
    """Figures for the admin dashboard (three queries)."""
    today = today or timezone.localdate()
    progress = goal_progress(month=today, today=today)
    receivables = receivables_summary(start=month_start(today), end=today, as_of=today)
    payables = Payable.objects.filter(
        status=Payable.Status.OPEN, due_date__lte=today + timedelta(days=7)
    ).aggregate(s=Sum("amount"))["s"]
    return {
        "revenue_month": progress.actual,
        "goal_attainment": progress.attainment,
        "receivables_overdue": receivables["overdue_all"],
        "payables_next_7_days": _money(payables),
    }
