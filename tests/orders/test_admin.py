from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.models import Order
from orders.services import order_ingest
from tests.factories.orders import (
    line_in,
    make_channel,
    make_staff,
    order_in,
)

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:orders_order_changelist")


def _orders(channel, n: int, start: int = 0) -> list[Order]:
    out = []
    for i in range(start, start + n):
        # every third order holds (unknown SKU) so the hold column has something to load
        sku = "CAFE-1" if i % 3 else "SEM-CADASTRO"
        out.append(order_ingest(channel=channel, order_in=order_in(f"A{i}", lines=[line_in(sku)])))
    return out


def _count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx)


@pytest.mark.parametrize(
    "query", ["", "?status__exact=on_hold", "?hold_reason=unknown_sku", "?q=maria@example.com"]
)
def test_changelist_query_count_does_not_grow_with_orders(admin_client, channel, stock, query):
    stock("CAFE-1", 500)
    make_channel(slug="outra")
    _orders(channel, 5)
    few = _count_queries(admin_client, CHANGELIST + query)

    _orders(channel, 45, start=5)
    many = _count_queries(admin_client, CHANGELIST + query)

    assert few == many


def test_changelist_shows_orders_and_their_open_hold_reasons(admin_client, channel, stock):
    stock("CAFE-1", 10)
    _orders(channel, 3)

    response = admin_client.get(CHANGELIST)

    body = response.content.decode()
    assert "#A1" in body and "#A0" in body
    assert "Unknown SKU" in body or "SKU desconhecido" in body


def test_hold_reason_filter(admin_client, channel, stock):
    stock("CAFE-1", 10)
    _orders(channel, 3)

    response = admin_client.get(CHANGELIST + "?hold_reason=unknown_sku")

    assert [o.number for o in response.context["cl"].result_list] == ["A0"]


def test_order_page_shows_lines_holds_timeline_and_reservations(admin_client, channel, stock):
    stock("CAFE-1", 10)
    order = order_ingest(
        channel=channel,
        order_in=order_in("B1", lines=[line_in("CAFE-1", 2), line_in("SEM-CADASTRO")]),
    )

    response = admin_client.get(reverse("admin:orders_order_change", args=[order.pk]))

    assert response.status_code == 200
    body = response.content.decode()
    assert "SEM-CADASTRO" in body
    assert 'class="reservations' in body
    assert "CD São Paulo" in body
    assert "holds-0-clear" in body


def test_clearing_a_hold_from_the_order_page(admin_client, channel, stock):
    stock("CAFE-1", 10)
    order = order_ingest(channel=channel, order_in=order_in("B2", skus=["SEM-CADASTRO"]))
    hold = order.holds.get()
    url = reverse("admin:orders_order_change", args=[order.pk])
    page = admin_client.get(url)
    data = _form_data(page)
    data.update({"holds-0-clear": "on", "holds-0-note": "SKU novo, cadastrado", "_continue": "1"})

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context and response.context["errors"]
    hold.refresh_from_db()
    assert hold.cleared_at is not None
    order.refresh_from_db()
    assert order.status == "new"
    assert order.events.filter(kind="hold_cleared", message="SKU novo, cadastrado").exists()


def _form_data(page) -> dict[str, str]:
    """The management-form and hidden fields the change form posts back."""
    data: dict[str, str] = {}
    for formset in page.context["inline_admin_formsets"]:
        fs = formset.formset
        mgmt = fs.management_form
        for name in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"):
            data[f"{fs.prefix}-{name}"] = str(mgmt[name].value() or 0)
        for form in fs.forms:
            if form.instance.pk:
                data[f"{form.prefix}-id"] = str(form.instance.pk)
                data[f"{form.prefix}-order"] = str(form.instance.order_id)
    return data


def test_bulk_actions_report_successes_and_per_order_errors(admin_client, channel, stock):
    stock("CAFE-1", 10)
    ok = _orders(channel, 1, start=1)[0]
    held = order_ingest(channel=channel, order_in=order_in("C9", skus=["SEM-CADASTRO"]))

    response = admin_client.post(
        CHANGELIST,
        {"action": "confirm_selected", "_selected_action": [ok.pk, held.pk]},
        follow=True,
    )

    messages = [str(m) for m in response.context["messages"]]
    assert "1 pedido(s) confirmado(s)." in messages  # pt-BR, the default language
    assert any(m.startswith("#C9:") for m in messages)
    ok.refresh_from_db()
    held.refresh_from_db()
    assert ok.status == "confirmed" and held.status == "on_hold"

    response = admin_client.post(
        CHANGELIST,
        {"action": "clear_holds_selected", "_selected_action": [held.pk]},
        follow=True,
    )
    held.refresh_from_db()
    assert held.status == "new"

    admin_client.post(
        CHANGELIST, {"action": "cancel_selected", "_selected_action": [held.pk, ok.pk]}, follow=True
    )
    assert Order.objects.filter(status="cancelled").count() == 2


def test_channel_page_shows_the_webhook_url(admin_client, channel):
    response = admin_client.get(reverse("admin:orders_channel_change", args=[channel.pk]))

    assert "/api/webhooks/loja-teste/" in response.content.decode()


def test_orders_export_and_price_list_import(admin_client, channel, stock):
    import tablib

    from orders.models import PriceListItem
    from orders.resources import OrderResource, PriceListItemResource
    from tests.factories.orders import PriceListFactory

    stock("CAFE-1", 10)
    _orders(channel, 2, start=1)
    exported = OrderResource().export()
    assert exported.dict[0]["channel"] == "Loja Teste" and len(exported) == 2

    PriceListFactory(name="Tabela Shopify")
    data = tablib.Dataset(headers=["price_list", "sku", "price"])
    data.append(["Tabela Shopify", "CAFE-1", "54.90"])
    result = PriceListItemResource().import_data(data, dry_run=False)
    assert not result.has_errors()
    assert str(PriceListItem.objects.get().price) == "54.90"
    assert admin_client.get(reverse("admin:orders_order_export")).status_code == 200


def test_staff_without_clear_permission_sees_holds_read_only(client, channel, stock):
    from django.contrib.auth.models import Permission

    user = make_staff()
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_order", "change_order"])
    )
    client.force_login(user)
    order = order_ingest(channel=channel, order_in=order_in("D1", skus=["SEM-CADASTRO"]))

    response = client.get(reverse("admin:orders_order_change", args=[order.pk]))

    assert response.status_code == 200
    assert "holds-0-clear" not in response.content.decode()
    assert "SEM-CADASTRO" in response.content.decode()


def test_status_labels_cover_every_value():
    from orders.admin.orders import FULFILLMENT_COLORS, LIFECYCLE_COLORS, PAYMENT_COLORS
    from orders.status import Fulfillment, Lifecycle, Payment

    # unfold falls back to the raw value (untranslated) for a value missing from the map
    assert set(LIFECYCLE_COLORS) == set(Lifecycle.values)
    assert set(PAYMENT_COLORS) == set(Payment.values)
    assert set(FULFILLMENT_COLORS) == set(Fulfillment.values)
