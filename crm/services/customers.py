from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, connection, connections, router, transaction
from django.utils import timezone
from simple_history.signals import post_create_historical_record, pre_create_historical_record
from validate_docbr import CNPJ, CPF

from backoffice import sql
from crm.models import CUSTOMER_HISTORY, Customer

_NON_DIGITS = re.compile(r"\D")


@dataclass(frozen=True)
class CleanDocument:
    digits: str
    kind: str  # Customer.DocumentKind value
    valid: bool


def document_clean(raw: str, *, country: str = "BR") -> CleanDocument:
    """Classify and validate a CPF/CNPJ as sent by a store (masked or not)."""
    raw = (raw or "").strip()
    if not raw:
        return CleanDocument("", Customer.DocumentKind.NONE, False)
    if country and country.upper() != "BR":
        return CleanDocument(raw[:20], Customer.DocumentKind.OTHER, True)
    digits = _NON_DIGITS.sub("", raw)
    if len(digits) == 11:
        return CleanDocument(digits, Customer.DocumentKind.CPF, CPF().validate(digits))
    if len(digits) == 14:
        return CleanDocument(digits, Customer.DocumentKind.CNPJ, CNPJ().validate(digits))
    return CleanDocument(digits[:20], Customer.DocumentKind.OTHER, False)


def customer_upsert(
    *,
    name: str,
    email: str = "",
    phone: str = "",
    document: str = "",
    country: str = "BR",
    language: str = "",
    accepts_marketing: bool | None = None,
    address: dict[str, str] | None = None,
) -> Customer:
    """Find the customer by valid document, else by e-mail, and bring it up to date;
    create it when neither matches. Safe under concurrent calls for the same person: on
    PostgreSQL an advisory lock per person serialises them (``_find_locked``, no
    savepoint on the order's hot path); elsewhere the unique document constraint decides
    and the loser re-reads."""
    doc = document_clean(document, country=country)
    email = (email or "").strip().lower()
    fields: dict[str, object] = {"name": name.strip()[:200] or email or doc.digits}
    if email:
        fields["email"] = email
    if phone:
        fields["phone"] = phone[:40]
    if language:
        fields["language"] = language
    if accepts_marketing is not None:
        fields["marketing_opt_in"] = accepts_marketing
    for key, value in (address or {}).items():
        if value:
            fields[key] = value
    if doc.digits and doc.valid:
        fields.update(document=doc.digits, document_kind=doc.kind, document_valid=True)

    if connection.vendor == "postgresql":
        if connection.in_atomic_block:
            return _upsert_locked(doc, email, fields)
        with transaction.atomic():
            return _upsert_locked(doc, email, fields)
    customer = _find(doc, email)
    if customer is None:
        try:
            with transaction.atomic():
                return _create(doc, fields)
        except IntegrityError:
            customer = _find(doc, email)
            if customer is None:
                raise
    return _update(customer, fields)


def _upsert_locked(doc: CleanDocument, email: str, fields: dict[str, object]) -> Customer:
    customer = _find_locked(doc, email)
    if customer is None:
        return _create(doc, fields)
    return _update(customer, fields)


def _update(customer: Customer, fields: dict[str, object]) -> Customer:
    changed = [k for k, v in fields.items() if getattr(customer, k) != v]
    if changed and customer.erased_at is None:
        for key in changed:
            setattr(customer, key, fields[key])
        customer.save(update_fields=[*changed, "updated_at"])
    return customer


def _create(doc: CleanDocument, fields: dict[str, object]) -> Customer:
    if not (doc.digits and doc.valid):
        # Keep what was sent so staff can see and fix it, but never as a unique key.
        fields.setdefault("document_kind", doc.kind)
    customer = Customer(**fields)
    if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True) or _history_signals_heard():
        sql.insert(customer)  # simple-history's post_save records it, as with save()
        return customer
    customer.skip_history_when_saving = True  # type: ignore[attr-defined]
    sql.insert(customer)
    del customer.skip_history_when_saving  # type: ignore[attr-defined]
    _history_created(customer)
    return customer


def _history_model() -> type[Any]:
    # Not ``Customer.history.model``: simple-history's descriptor builds a manager (with
    # an ``inspect.getmembers``) on every access, ~0.3 ms on the order path.
    return apps.get_model("crm", "HistoricalCustomer")


def _history_signals_heard() -> bool:
    model = _history_model()
    return pre_create_historical_record.has_listeners(
        model
    ) or post_create_historical_record.has_listeners(model)


def _history_created(customer: Customer) -> None:
    """simple-history's ``create_historical_record(customer, "+")`` -- same user, change
    reason, date and fields -- as one ``INSERT ... SELECT`` that copies the customer's
    row just inserted: its ORM save of the history row cost more than the customer's own
    INSERT (bench/ingest.py), and a history instance with the customer's twenty values
    quoted again cost most of what is left. Only used while no one listens to
    simple-history's record signals (those would be skipped)."""
    records = CUSTOMER_HISTORY
    user = records.get_history_user(customer)
    conn = connections[customer._state.db or router.db_for_write(Customer)]
    params = [
        conn.ops.adapt_datetimefield_value(
            getattr(customer, "_history_date", None) or timezone.now()
        ),
        records.get_change_reason_for_object(customer, "+", None),
        getattr(user, "pk", None),
        customer.pk,
    ]
    sql.statement_cursor(conn).execute(_history_copy_sql(conn.alias), params)


@lru_cache(maxsize=8)
def _history_copy_sql(alias: str) -> str:
    quote = connections[alias].ops.quote_name
    columns = [quote(f.column) for f in CUSTOMER_HISTORY.fields_included(Customer)]
    history = _history_model()
    names = ", ".join(columns)
    extra = ", ".join(
        quote(history._meta.get_field(name).column)
        for name in ("history_date", "history_change_reason", "history_user", "history_type")
    )
    return (
        f"INSERT INTO {quote(history._meta.db_table)} ({names}, {extra}) "  # noqa: S608 - names from the models, values are parameters
        f"SELECT {names}, %s, %s, %s, '+' FROM {quote(Customer._meta.db_table)} "
        f"WHERE {quote(Customer._meta.pk.column)} = %s"
    )


def _find(doc: CleanDocument, email: str) -> Customer | None:
    if doc.digits and doc.valid:
        found = Customer.objects.filter(document=doc.digits).first()
        if found:
            return found
    if email:
        return Customer.objects.filter(email=email).order_by("id").first()
    return None


# First key of the transaction-level advisory locks taken per person (the second is a hash
# of the document or e-mail); other apps use other first keys.
_LOCK_CLASS = 0x43524D01  # "CRM" 1

_FIND_WHERE = (
    "(%(doc)s <> '' AND document = %(doc)s) OR (%(email)s <> '' AND email = %(email)s) "
    "ORDER BY (%(doc)s <> '' AND document = %(doc)s) DESC, id LIMIT 1"
)


def _find_locked(doc: CleanDocument, email: str) -> Customer | None:
    """PostgreSQL: serialise upserts of the same person with an advisory lock held to the
    end of the caller's transaction, then look the person up (by document first, then by
    e-mail, oldest first) in one statement. Under the lock a concurrent upsert of the same
    person has either committed (and is found) or waits: the INSERT that follows needs no
    savepoint to survive a duplicate. The lock is on the document when it is valid, else
    on the e-mail: a valid document arriving with and without its e-mail at the same
    moment may still give two customers, as it did before the lock. A writer that takes
    no lock (an import) inserting the same document at the same moment makes the INSERT
    fail and the caller's transaction roll back: the webhook delivery is kept as failed
    and processed again on the platform's retry, which then finds the customer.

    Runs inside a transaction (the lock would end with the statement otherwise)."""
    key = doc.digits if doc.digits and doc.valid else ""
    if not (key or email):
        return None
    sql.statement_cursor(connection).execute(
        "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [_LOCK_CLASS, key or email]
    )
    # A new statement, so a new snapshot: it sees what the lock holder committed.
    return sql.select_one(Customer, _FIND_WHERE, {"doc": key, "email": email})


EDITABLE_FIELDS = frozenset(
    {
        "name",
        "email",
        "phone",
        "language",
        "marketing_opt_in",
        "postal_code",
        "street",
        "street_number",
        "complement",
        "district",
        "city",
        "state",
        "country",
    }
)


@transaction.atomic
def customer_update(*, customer_id: int, fields: dict[str, object], actor=None) -> Customer:
    """Staff correction of a customer's contact data (the admin form), audited."""
    from backoffice.errors import ApplicationError
    from crm.services.audit import audit_record

    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ApplicationError(
            "These fields cannot be changed here.",
            errors=[{"field": name, "message": "read-only"} for name in sorted(unknown)],
        )
    customer = Customer.objects.select_for_update().get(pk=customer_id)
    if customer.erased_at is not None:
        raise ApplicationError("This customer's personal data was erased.")
    changed = {k: v for k, v in fields.items() if getattr(customer, k) != v}
    if not changed:
        return customer
    for key, value in changed.items():
        setattr(customer, key, value)
    customer.save(update_fields=[*changed, "updated_at"])
    audit_record(
        action="customer_update",
        object_type="customer",
        object_id=customer.pk,
        customer_id=customer.pk,
        actor=actor,
        data={"fields": sorted(changed)},
    )
    return customer
