from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from crm.models import Customer
from inventory.models import Product, StockLevel, Warehouse
from orders.models import Channel, Order, PriceListItem

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # the demo stores last month's report PDF


def _load(**kw) -> str:
    out = StringIO()
    call_command("demo_data", stdout=out, **kw)
    return out.getvalue()


def test_demo_data_loads_a_shop_through_the_services():
    _load(orders=40)

    assert Warehouse.objects.count() == 2
    assert Product.objects.count() == 40
    assert Product.objects.exclude(consumption_days=None).count() >= 10
    assert set(Channel.objects.values_list("platform", flat=True)) == {
        "shopify",
        "woocommerce",
        "nuvemshop",
    }
    assert PriceListItem.objects.count() == 120
    assert Order.objects.count() == 40
    assert Customer.objects.filter(document_valid=True).exists()
    statuses = set(Order.objects.values_list("payment_status", flat=True))
    assert "paid" in statuses
    assert all(lvl.reserved <= lvl.on_hand for lvl in StockLevel.objects.all())
    assert Order.objects.filter(lines__isnull=True).count() == 0


@pytest.mark.django_db(transaction=True)
def test_demo_data_is_deterministic_and_if_empty_skips():
    _load(orders=15)
    first = list(Order.objects.order_by("id").values_list("external_id", "total", "status"))

    assert "not loaded" in _load(orders=15, if_empty=True)
    assert Order.objects.count() == 15

    # Shipments, returns and invoices protect the orders: start again from an empty
    # database, as `make run` on a new machine would (committed: flush needs it).
    call_command("flush", interactive=False, verbosity=0)
    _load(orders=15)
    again = list(Order.objects.order_by("id").values_list("external_id", "total", "status"))
    assert [x[:2] for x in again] == [x[:2] for x in first]
