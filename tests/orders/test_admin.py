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


# --- the list at scale: capped count, indexed search, indexed sorting ---------------------


@pytest.mark.parametrize(
    "query",
    [
        "?channel__id__exact=1",
        "?q=Maria",
        "?q=529.982.247-25",
        "?o=2",
        "?o=-5",  # status, newest first within a status
        "?p=2",
    ],
)
def test_changelist_variants_keep_their_query_count(admin_client, channel, stock, query):
    stock("CAFE-1", 500)
    _orders(channel, 5)
    few = _count_queries(admin_client, CHANGELIST + query)

    _orders(channel, 95, start=5)
    many = _count_queries(admin_client, CHANGELIST + query)

    assert few == many


def test_changelist_count_is_capped_and_says_so(admin_client, channel, stock, monkeypatch):
    from orders.admin.orders import OrderAdmin
    from orders.admin.pagination import CappedCountPaginator

    monkeypatch.setattr(CappedCountPaginator, "cap", 3)
    monkeypatch.setattr(OrderAdmin, "list_per_page", 2)
    stock("CAFE-1", 10)
    _orders(channel, 5)  # A0 and A3 on hold (unknown SKU), the rest new

    response = admin_client.get(CHANGELIST)

    cl = response.context["cl"]
    assert cl.paginator.is_capped and cl.result_count == 3
    body = response.content.decode()
    assert "mais de 3 pedidos" in body  # pt-BR, the default language
    assert "Selecionar todos os pedidos (mais de 3)" in body  # not "all 3"
    assert len(cl.result_list) == 2
    # Few enough rows: an exact count, no "more than".
    held = admin_client.get(CHANGELIST + "?status__exact=on_hold")
    assert not held.context["cl"].paginator.is_capped
    assert held.context["cl"].result_count == 2
    assert "mais de" not in held.content.decode()


def test_capped_changelist_pages_past_the_count_stay_reachable(
    admin_client, channel, stock, monkeypatch
):
    from orders.admin.orders import OrderAdmin
    from orders.admin.pagination import CappedCountPaginator

    monkeypatch.setattr(CappedCountPaginator, "cap", 2)
    monkeypatch.setattr(OrderAdmin, "list_per_page", 2)
    stock("CAFE-1", 10)
    _orders(channel, 7)

    pages = [admin_client.get(CHANGELIST + f"?p={p}") for p in (1, 2, 3, 4, 5)]

    assert all(p.status_code == 200 for p in pages)
    seen = [o.number for p in pages for o in p.context["cl"].result_list]
    assert sorted(seen) == sorted(f"A{i}" for i in range(7))  # every order, once
    assert list(pages[4].context["cl"].result_list) == []


def test_changelist_sorts_by_date_and_only_offers_indexed_columns(admin_client, channel, stock):
    from datetime import timedelta

    from django.utils import timezone

    stock("CAFE-1", 10)
    now = timezone.now()
    for i, days in enumerate([3, 1, 2]):
        order_ingest(
            channel=channel,
            order_in=order_in(f"S{i}", skus=["CAFE-1"], placed_at=now - timedelta(days=days)),
        )

    newest_first = admin_client.get(CHANGELIST)
    oldest_first = admin_client.get(CHANGELIST + "?o=2")

    assert [o.number for o in newest_first.context["cl"].result_list] == ["S1", "S2", "S0"]
    assert [o.number for o in oldest_first.context["cl"].result_list] == ["S0", "S2", "S1"]
    cl = newest_first.context["cl"]
    headers = _result_headers(cl)
    sortable = {name: h["sortable"] for name, h in zip(cl.list_display, headers, strict=True)}
    assert sortable["placed_at"] and sortable["number_display"] and sortable["status_display"]
    assert not sortable["customer"] and not sortable["channel"] and not sortable["total"]


def test_a_hand_typed_sort_by_an_unoffered_column_is_ignored(admin_client, channel, stock):
    from datetime import timedelta

    from django.utils import timezone

    stock("CAFE-1", 10)
    now = timezone.now()
    for i, (days, quantity) in enumerate([(3, 1), (1, 3), (2, 2)]):
        order_ingest(
            channel=channel,
            order_in=order_in(
                f"T{i}",
                lines=[line_in("CAFE-1", quantity)],
                placed_at=now - timedelta(days=days),
            ),
        )
    cl = admin_client.get(CHANGELIST).context["cl"]
    total = cl.list_display.index("total")
    offered = cl.list_display.index("placed_at")

    by_total = admin_client.get(CHANGELIST + f"?o={total}").context["cl"]
    by_date = admin_client.get(CHANGELIST + f"?o={offered}").context["cl"]

    # ignored like a column without an ordering field: Django's fallback, newest id
    # first (index-served), not the totals' order T0 < T2 < T1
    assert "total" not in str(by_total.queryset.query.order_by)
    assert [o.number for o in by_total.result_list] == ["T2", "T1", "T0"]
    assert [o.number for o in by_date.result_list] == ["T0", "T2", "T1"]


def _result_headers(cl) -> list[dict]:
    from django.contrib.admin.templatetags.admin_list import result_headers

    return list(result_headers(cl))


@pytest.mark.parametrize(
    "term",
    [
        "A1",  # number
        "#A1",  # number as staff type it
        "a1",  # any case
        "ext-a1",  # platform id, any case
        "joana.souza@example.com",  # customer e-mail (also the order e-mail)
        "JOANA.SOUZA@EXAMPLE.COM",
        "Souza",  # part of the customer's name
        "joana sou",
        "souza JOANA",  # every word in the name, in any order
        "11144477735",  # document, digits
        "111.444.777-35",  # document as typed
    ],
)
def test_search_finds_an_order_by_each_field(admin_client, channel, stock, term):
    from orders.adapters.base import CustomerIn

    stock("CAFE-1", 10)
    _orders(channel, 1, start=2)  # A2: Maria da Silva, the default customer
    order_ingest(
        channel=channel,
        order_in=order_in(
            "EXT-A1",
            number="A1",
            skus=["CAFE-1"],
            customer=CustomerIn(
                name="Joana Souza", email="joana.souza@example.com", document="111.444.777-35"
            ),
        ),
    )

    response = admin_client.get(CHANGELIST, {"q": term})

    assert [o.number for o in response.context["cl"].result_list] == ["A1"]


def test_search_by_a_shared_customer_field_finds_all_their_orders(admin_client, channel, stock):
    stock("CAFE-1", 10)
    _orders(channel, 3, start=1)

    response = admin_client.get(CHANGELIST, {"q": "maria@example.com"})

    assert sorted(o.number for o in response.context["cl"].result_list) == ["A1", "A2", "A3"]
    assert admin_client.get(CHANGELIST, {"q": "nobody"}).context["cl"].result_count == 0


def test_filters_still_narrow_the_list(admin_client, channel, stock):
    stock("CAFE-1", 10)
    other = make_channel(slug="outra", name="Outra")
    _orders(channel, 3)  # A0 held (unknown SKU), A1, A2 new
    order_ingest(channel=other, order_in=order_in("O1", skus=["CAFE-1"]))

    def numbers(query: str) -> list[str]:
        return sorted(
            o.number for o in admin_client.get(CHANGELIST + query).context["cl"].result_list
        )

    assert numbers(f"?channel__id__exact={other.pk}") == ["O1"]
    assert numbers("?status__exact=on_hold") == ["A0"]
    assert numbers("?status__exact=new") == ["A1", "A2", "O1"]
    assert numbers("?hold_reason=any") == ["A0"]
    assert numbers("?hold_reason=risk") == []


# --- the order page: customer communications ------------------------------------------


def test_order_page_shows_the_customer_communications(admin_client, channel, stock):
    from crm.models import Notification
    from tests.factories.crm import NotificationFactory

    stock("CAFE-1", 10)
    order = order_ingest(channel=channel, order_in=order_in("N1", skus=["CAFE-1"]))
    other = order_ingest(channel=channel, order_in=order_in("N2", skus=["CAFE-1"]))
    Notification.objects.filter(order_id__in=[order.pk, other.pk]).delete()
    NotificationFactory(
        order_id=order.pk,
        kind=Notification.Kind.SHIPPED,
        to_email="maria@example.com",
        subject="Seu pedido #N1 foi enviado",
        status=Notification.Status.SENT,
        sent_at=order.placed_at,
    )
    NotificationFactory(order_id=other.pk, subject="Assunto de outro pedido")

    with CaptureQueriesContext(connection) as ctx:
        response = admin_client.get(reverse("admin:orders_order_change", args=[order.pk]))

    assert response.status_code == 200
    body = response.content.decode()
    assert 'class="communications' in body
    assert "Seu pedido #N1 foi enviado" in body
    assert "Assunto de outro pedido" not in body
    assert sum("crm_notification" in q["sql"] for q in ctx.captured_queries) == 1

    Notification.objects.filter(order_id=other.pk).delete()
    empty = admin_client.get(reverse("admin:orders_order_change", args=[other.pk]))
    assert "Nenhum e-mail" in empty.content.decode()


def test_communications_on_the_order_page_are_escaped(admin_client, channel, stock):
    from crm.models import Notification
    from tests.factories.crm import NotificationFactory

    stock("CAFE-1", 10)
    order = order_ingest(channel=channel, order_in=order_in("N3", skus=["CAFE-1"]))
    Notification.objects.filter(order_id=order.pk).delete()
    NotificationFactory(order_id=order.pk, subject="<img src=x onerror=alert(1)>")

    body = admin_client.get(reverse("admin:orders_order_change", args=[order.pk])).content
    assert b"<img src=x onerror" not in body
    assert b"&lt;img src=x onerror=alert(1)&gt;" in body
    assert Notification.objects.filter(order_id=order.pk).exists()
