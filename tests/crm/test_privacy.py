from __future__ import annotations

from decimal import Decimal

import pytest

from backoffice.errors import ConflictError
from crm.models import AuditEntry, Customer, Notification, SurveyResponse
from crm.services import ticket_note_add, ticket_open
from crm.services.privacy import customer_erase, customer_export
from tests.factories.core import OrderFactory, OrderLineFactory, StaffUserFactory
from tests.factories.crm import order_context, queued

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(customer):
    order = OrderFactory.create(
        customer=customer, total=Decimal("149.70"), note="Deixar na portaria"
    )
    OrderLineFactory.create(
        order=order, sku="CAFE-500", quantity=3, unit_price=Decimal("49.90"), discount=Decimal("0")
    )
    survey = queued(
        kind="survey",
        to_email=customer.email,
        language="pt-br",
        dedupe_key=f"order:{order.pk}:survey",
        context=order_context(order_id=order.pk),
        customer_id=customer.pk,
        order_id=order.pk,
    )
    SurveyResponse.objects.create(
        notification=survey, customer=customer, order_id=order.pk, score=4, comment="Demorou"
    )
    ticket = ticket_open(
        customer_id=customer.pk,
        subject="Maria: entrega atrasada",
        body="Meu telefone é 11 99999-0000",
        order_id=order.pk,
    )
    ticket_note_add(ticket_id=ticket.pk, body="Cliente Maria ligou")
    return order


def test_export_contains_everything_held(customer, history):
    staff = StaffUserFactory.create()
    data = customer_export(customer_id=customer.pk, actor=staff)

    assert data["customer"]["email"] == "maria@example.com"
    assert data["customer"]["name"] == "Maria Silva"
    (order,) = data["orders"]
    assert order["total"] == "149.70"
    assert order["lines"][0]["sku"] == "CAFE-500"
    assert data["notifications"][0]["to_email"] == "maria@example.com"
    assert data["tickets"][0]["body"] == "Meu telefone é 11 99999-0000"
    assert data["ticket_notes"][0]["body"] == "Cliente Maria ligou"
    assert data["survey_responses"][0]["comment"] == "Demorou"
    assert AuditEntry.objects.filter(action="customer_export", actor=staff).exists()


def test_erase_removes_personal_data_and_keeps_the_order_totals(customer, history):
    staff = StaffUserFactory.create()
    customer_erase(customer_id=customer.pk, actor=staff)

    customer = Customer.objects.get(pk=customer.pk)
    assert customer.erased_at is not None
    assert "Maria" not in customer.name
    assert (customer.email, customer.phone, customer.document, customer.street) == ("", "", "", "")
    assert not customer.history.filter(name="Maria Silva").exists()
    assert not customer.history.filter(email="maria@example.com").exists()

    data = customer_export(customer_id=customer.pk)
    orders = data.pop("orders")
    text = str(data)
    for personal in (
        "Maria Silva",
        "maria@example.com",
        "99999-0000",
        "Demorou",
        "Deixar na portaria",
        "Cliente Maria",
    ):
        assert personal not in text

    # the order: contact e-mail and note go; the NF-e recipient and address stay (fiscal)
    assert orders[0]["email"] == ""
    assert orders[0]["note"] == ""
    assert orders[0]["ship_name"] == "Maria Silva"
    history.refresh_from_db()
    assert history.total == Decimal("149.70")
    assert history.lines.get().quantity == 3
    assert Notification.objects.get().to_email == ""
    assert AuditEntry.objects.filter(action="customer_erase", actor=staff).exists()

    with pytest.raises(ConflictError):
        customer_erase(customer_id=customer.pk, actor=staff)


def test_no_mail_goes_to_an_erased_customer(customer, mailoutbox):
    n = queued(
        kind="shipped",
        to_email=customer.email,
        language="pt-br",
        dedupe_key="k",
        context=order_context(),
        customer_id=customer.pk,
    )
    customer_erase(customer_id=customer.pk)
    from crm.services import notification_send

    assert notification_send(notification_id=n.pk) == "already"
    assert mailoutbox == []
