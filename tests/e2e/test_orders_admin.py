"""Staff clear an order's hold in a real browser and see it in the timeline."""

from __future__ import annotations

import pytest

from orders.models import Order
from orders.services import order_ingest
from tests.factories.orders import (
    line_in,
    make_channel,
    order_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def held_order(transactional_db) -> Order:
    channel = make_channel(slug="loja-e2e", name="Loja E2E")
    return order_ingest(
        channel=channel, order_in=order_in("E2E-1", lines=[line_in("SKU-FANTASMA", 1)])
    )


def test_staff_opens_an_on_hold_order_clears_the_hold_and_sees_it_in_the_timeline(
    browser_page, held_order
):
    page = browser_page
    # given the order list filtered to orders on hold
    page.goto(f"{page.base_url}/admin/orders/order/?status__exact=on_hold")
    link = page.locator(f"a[href*='/admin/orders/order/{held_order.pk}/change/']").first
    assert "#E2E-1" in link.inner_text()
    link.click()
    page.wait_for_url(lambda url: f"/admin/orders/order/{held_order.pk}/change/" in url)
    assert "SKU-FANTASMA" in page.content()

    # when they tick "clear" on the hold, leave a note and save
    page.check("input[name='holds-0-clear']")
    page.fill("input[name='holds-0-note']", "Produto cadastrado no catálogo")
    page.click("button[name='_continue'], input[name='_continue']")
    page.wait_for_load_state()

    # then the hold is cleared, the order is new again and the timeline says why
    held_order.refresh_from_db()
    assert held_order.status == "new"
    assert held_order.holds.get().cleared_at is not None
    timeline = page.locator("#events-group, [id^='events']").first
    assert "Produto cadastrado no catálogo" in timeline.inner_text()
