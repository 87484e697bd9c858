"""The admin's front page: today's numbers for the people running the shop."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def dashboard_callback(request: HttpRequest, context: dict[str, Any]) -> dict[str, Any]:
    context["kpis"] = _kpis()
    return context


def _kpis() -> list[dict[str, Any]]:
    # Filled in as domain apps land; each entry: {"title", "value", "url"}.
    kpis: list[dict[str, Any]] = []
    kpis += _order_kpis()
    kpis += _webhook_kpis()
    kpis += _finance_kpis()
    kpis += _logistics_kpis()
    kpis += _inventory_kpis()
    return kpis


def _inventory_kpis() -> list[dict[str, Any]]:
    from django.contrib.humanize.templatetags.humanize import intcomma
    from django.urls import reverse
    from django.utils.translation import gettext as _

    from inventory.selectors import inventory_kpis

    k = inventory_kpis()
    products = reverse("admin:inventory_product_changelist")
    return [
        {
            "title": _("SKUs out of stock online"),
            "value": k["out_of_stock"],
            "url": f"{products}?is_active__exact=1&availability=out",
        },
        {
            "title": _("Stock value (cost)"),
            "value": f"R$ {intcomma(k['stock_value'])}",
            "url": reverse("admin:inventory_stocklevel_changelist"),
        },
    ]


def _finance_kpis() -> list[dict[str, Any]]:
    from django.urls import reverse
    from django.utils.translation import gettext as _

    from finance.selectors import finance_kpis
    from finance.templatetags.finance_format import money, pct

    k = finance_kpis()
    return [
        {
            "title": _("Revenue this month (goal)"),
            "value": f"{money(k['revenue_month'])} ({pct(k['goal_attainment'])})",
            "url": reverse("admin:finance_monthlygoal_changelist"),
        },
        {
            "title": _("Overdue receivables"),
            "value": money(k["receivables_overdue"]),
            "url": reverse("admin:finance_instalment_changelist") + "?due=overdue",
        },
        {
            "title": _("Payables due in 7 days"),
            "value": money(k["payables_next_7_days"]),
            "url": reverse("admin:finance_payable_changelist") + "?status__exact=open",
        },
    ]


def _order_kpis() -> list[dict[str, Any]]:
    from django.contrib.humanize.templatetags.humanize import intcomma
    from django.urls import reverse

    from orders.selectors import KPI_TITLES, order_kpis

    k = order_kpis()
    orders_url = reverse("admin:orders_order_changelist")
    return [
        {"title": KPI_TITLES["orders_today"], "value": k["orders_today"], "url": orders_url},
        {
            "title": KPI_TITLES["revenue_today"],
            "value": f"R$ {intcomma(k['revenue_today'])}",
            "url": orders_url,
        },
        {
            "title": KPI_TITLES["on_hold"],
            "value": k["on_hold"],
            "url": f"{orders_url}?status__exact=on_hold",
        },
        {
            "title": KPI_TITLES["backordered_lines"],
            "value": k["backordered_lines"],
            "url": f"{orders_url}?hold_reason=stock_shortage",
        },
    ]


def _webhook_kpis() -> list[dict[str, Any]]:
    from django.urls import reverse
    from django.utils.translation import gettext as _

    from orders.webhooks import delivery_failed_count

    url = reverse("admin:orders_webhookdelivery_changelist")
    return [
        {
            "title": _("Failed webhooks"),
            "value": delivery_failed_count(),
            "url": f"{url}?status__exact=failed",
        }
    ]


def _logistics_kpis() -> list[dict[str, Any]]:
    from django.urls import reverse
    from django.utils.translation import gettext as _

    from logistics.selectors import logistics_kpis

    k = logistics_kpis()
    shipments = reverse("admin:logistics_shipment_changelist")
    return [
        {"title": _("Shipments to ship"), "value": k["to_ship"], "url": shipments},
        {
            "title": _("In transit"),
            "value": k["in_transit"],
            "url": f"{shipments}?status__exact=shipped",
        },
        {
            "title": _("Delivery delays"),
            "value": k["open_delay_alerts"],
            "url": reverse("admin:logistics_delayalert_changelist") + "?resolved_at__isempty=1",
        },
    ]
