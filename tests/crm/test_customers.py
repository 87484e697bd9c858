"""customer_upsert: who a store's customer is, on every database and under concurrency."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from simple_history.models import HistoricalRecords

from crm.models import Customer
from crm.services import customer_upsert
from tests.concurrency import run_threads

CPF_A = "529.982.247-25"
CPF_B = "111.444.777-35"


@pytest.mark.django_db
def test_a_new_person_is_created_with_the_cleaned_document_and_a_history_row():
    customer = customer_upsert(name=" Ana Lima ", email="ANA@Example.com ", document=CPF_A)

    customer.refresh_from_db()
    assert (customer.name, customer.email, customer.document) == (
        "Ana Lima",
        "ana@example.com",
        "52998224725",
    )
    assert customer.document_kind == Customer.DocumentKind.CPF and customer.document_valid
    assert customer.history.count() == 1


def _history_values(customer):
    row = customer.history.get()
    skip = {"history_id", "history_date", "id", "created_at", "updated_at", "email", "name"}
    return {
        f.attname: getattr(row, f.attname)
        for f in type(row)._meta.concrete_fields
        if f.attname not in skip
    }


@pytest.mark.django_db
def test_the_hand_written_history_row_is_the_one_simple_history_writes():
    # given the same person created by the ORM (simple-history's own post_save record)
    by_orm = Customer.objects.create(
        name="Orm", email="orm@example.com", document="52998224725",
        document_kind=Customer.DocumentKind.CPF, document_valid=True, language="es",
    )  # fmt: skip
    by_orm.document = ""  # free the unique document for the upsert below
    by_orm.save()
    by_orm.history.filter(history_type="~").delete()

    # when the order path creates it
    created = customer_upsert(name="Hot", email="hot@example.com", document=CPF_A, language="es")

    # then both history rows hold the same values, dates included
    row = created.history.get()
    assert (row.history_type, row.history_user_id, row.history_change_reason) == ("+", None, None)
    assert (row.id, row.created_at, row.updated_at) == (
        created.pk,
        created.created_at,
        created.updated_at,
    )
    assert row.history_date >= created.created_at
    assert _history_values(created) == _history_values(by_orm)


@pytest.mark.django_db
def test_the_history_row_names_the_signed_in_user_as_simple_history_does(admin_user, rf):
    request = rf.post("/admin/")
    request.user = admin_user
    HistoricalRecords.context.request = request
    try:
        created = customer_upsert(name="Staff-made", email="staff@example.com")
    finally:
        del HistoricalRecords.context.request

    assert created.history.get().history_user == admin_user


@pytest.mark.django_db
def test_the_document_finds_the_person_before_the_email():
    by_email = customer_upsert(name="Old", email="shared@example.com")
    by_document = customer_upsert(name="Bia", email="bia@example.com", document=CPF_A)

    found = customer_upsert(name="Bia Souza", email="shared@example.com", document=CPF_A)

    assert found.pk == by_document.pk != by_email.pk
    found.refresh_from_db()
    assert (found.name, found.email) == ("Bia Souza", "shared@example.com")
    assert Customer.objects.count() == 2


@pytest.mark.django_db
def test_without_a_valid_document_the_oldest_customer_with_that_email_is_used():
    first = customer_upsert(name="First", email="same@example.com", document=CPF_A)
    Customer.objects.create(name="Second", email="same@example.com")

    found = customer_upsert(name="Again", email="same@example.com", document="123")

    assert found.pk == first.pk
    # An invalid document is never a key and never overwrites the valid one.
    found.refresh_from_db()
    assert found.document == "52998224725"


@pytest.mark.django_db
def test_an_invalid_document_is_kept_for_staff_but_not_as_a_key():
    one = customer_upsert(name="One", email="one@example.com", document="123.456")
    two = customer_upsert(name="Two", email="two@example.com", document="123.456")

    assert one.pk != two.pk
    one.refresh_from_db()
    assert (one.document, one.document_valid) == ("", False)
    assert one.document_kind == Customer.DocumentKind.OTHER


@pytest.mark.django_db
def test_nothing_to_match_on_creates_a_new_customer_each_time():
    one = customer_upsert(name="Walk-in")
    two = customer_upsert(name="Walk-in")

    assert one.pk != two.pk


@pytest.mark.django_db
def test_an_unchanged_customer_is_not_written_and_an_erased_one_is_not_refilled():
    customer = customer_upsert(name="Caio", email="caio@example.com", document=CPF_B)
    with CaptureQueriesContext(connection) as queries:
        customer_upsert(name="Caio", email="caio@example.com", document=CPF_B)
    assert not [q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]

    Customer.objects.filter(pk=customer.pk).update(
        name="(erased)", email="", document="", erased_at="2026-01-01T00:00:00Z"
    )
    again = customer_upsert(name="Caio", email="caio@example.com", document=CPF_B)
    # The erased row no longer matches; a new order makes a new customer.
    assert again.pk != customer.pk
    assert Customer.objects.get(pk=customer.pk).name == "(erased)"


@pytest.mark.postgres
@pytest.mark.django_db
def test_on_postgresql_a_new_customer_costs_no_savepoint():
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        customer_upsert(name="Duda", email="duda@example.com", document=CPF_A)

    sql = [q["sql"] for q in queries.captured_queries]
    assert not [s for s in sql if "SAVEPOINT" in s]
    assert sql[0].startswith("SELECT pg_advisory_xact_lock(")
    assert sql[1].startswith("SELECT ") and 'FROM "crm_customer" WHERE' in sql[1]
    assert sql[2].startswith('INSERT INTO "crm_customer"')
    assert sql[3].startswith('INSERT INTO "crm_historicalcustomer"')
    assert len(sql) == 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("same", ["document", "email"])
def test_concurrent_upserts_of_one_person_make_one_customer(same):
    def upsert(i):
        with transaction.atomic():
            if same == "document":
                return customer_upsert(name=f"P{i}", email=f"p{i}@example.com", document=CPF_A)
            return customer_upsert(name=f"P{i}", email="race@example.com")

    customers, errors = run_threads(8, upsert)

    assert errors == []
    assert len({c.pk for c in customers}) == 1
    assert Customer.objects.count() == 1
