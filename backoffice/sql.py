"""Hand-written SQL built from a model's own metadata, for the order hot path.

Every signed order webhook runs a dozen statements; bench/ingest.py measured ~0.5 ms of
Python per ORM statement (query building and compilation) against well under 0.1 ms for
PostgreSQL to run it. These helpers keep what matters of the ORM and drop the building:

- the SQL text is made once per model (and row count / conflict target) and cached;
- values are prepared exactly as ``Model.save()`` prepares them, by each field's
  ``pre_save`` and ``get_db_prep_save`` (auto_now, JSON, decimals, binary; a plain str,
  int or bool skips the calls that would hand it back unchanged), after the same check
  of related objects (a parent saved after its child was built lends its pk);
- rows come back through the fields' database converters and ``Model.from_db``, so the
  instances behave like ones the ORM loaded;
- ``insert`` sends ``pre_save``/``post_save`` when the model has receivers (simple-history
  keeps its audit rows), and nothing when it has none;
- the statements run on one driver cursor per connection (``statement_cursor``), still
  wrapped by Django, instead of a new cursor per statement.

Plain SQL that PostgreSQL and SQLite (>= 3.35: RETURNING, ON CONFLICT) both run, so the
embedded default and production take the same path. Use them only where a benchmark
shows the ORM's cost; everywhere else the ORM is clearer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, TypeVar

from django.db import connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model, signals

M = TypeVar("M", bound=Model)
_MAX_PARAMS = 30_000  # below PostgreSQL's 65,535 and SQLite's 32,766 per statement


@lru_cache(maxsize=256)
def _insert_fields(model: type[Model]) -> tuple[Any, ...]:
    return tuple(f for f in model._meta.concrete_fields if not f.primary_key and not f.generated)


@lru_cache(maxsize=256)
def _insert_sql(model: type[Model], alias: str, rows: int, conflict: tuple[str, ...]) -> str:
    meta = model._meta
    quote = connections[alias].ops.quote_name
    fields = _insert_fields(model)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    on_conflict = ""
    if conflict:
        columns = ", ".join(quote(_column(model, name)) for name in conflict)
        on_conflict = f" ON CONFLICT ({columns}) DO NOTHING"
    return (
        f"INSERT INTO {quote(meta.db_table)} "  # noqa: S608 - names from the model; values are parameters
        f"({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES {', '.join([row] * rows)}{on_conflict} RETURNING {quote(meta.pk.column)}"
    )


def _concrete(model: type[Model], name: str) -> Any:
    field = model._meta.get_field(name)
    if not getattr(field, "concrete", False):
        raise ValueError(f"{model.__name__}.{name} is not a column")
    return field


def _column(model: type[Model], name: str) -> str:
    return str(_concrete(model, name).column)


# Field classes whose save preparation (pre_save, then get_db_prep_save) of a value of
# these exact types comes down to at most one call of the backend's operations: a str
# for a text field and a bool for a boolean are sent as they are; an int goes through
# ``adapt_integerfield_value`` (PostgreSQL wraps it in psycopg's Int2/4/8), or
# ``validate_autopk_value`` for an auto primary key (what a foreign key points at). None
# is None for all of them. Only the exact classes: a subclass may prepare differently.
_AS_IS, _INTEGER, _AUTO_PK = "as is", "integer", "auto pk"
_PASS_THROUGH: dict[type, tuple[tuple[type, ...], str]] = {
    models.CharField: ((str,), _AS_IS),
    models.TextField: ((str,), _AS_IS),
    models.EmailField: ((str,), _AS_IS),
    models.SlugField: ((str,), _AS_IS),
    models.URLField: ((str,), _AS_IS),
    models.BooleanField: ((bool,), _AS_IS),
    models.SmallIntegerField: ((int,), _INTEGER),
    models.IntegerField: ((int,), _INTEGER),
    models.BigIntegerField: ((int,), _INTEGER),
    models.PositiveSmallIntegerField: ((int,), _INTEGER),
    models.PositiveIntegerField: ((int,), _INTEGER),
    models.PositiveBigIntegerField: ((int,), _INTEGER),
    models.SmallAutoField: ((int,), _AUTO_PK),
    models.AutoField: ((int,), _AUTO_PK),
    models.BigAutoField: ((int,), _AUTO_PK),
}
_PREPARE: tuple[tuple[type, ...], str] = ((), "")


@lru_cache(maxsize=256)
def _save_plan(model: type[Model]) -> tuple[tuple[Any, str, tuple[type, ...], str, str], ...]:
    """Per insert field: (field, attname, the value types it can skip the preparation
    for -- empty: always prepare --, how such a value is finished, the internal type). A
    foreign key stores its target's value: an int for the usual auto primary keys."""
    plan = []
    for field in _insert_fields(model):
        stored = field.target_field if type(field) is models.ForeignKey else field
        types, finish = _PASS_THROUGH.get(type(stored), _PREPARE)
        plan.append((field, field.attname, types, finish, stored.get_internal_type()))
    return tuple(plan)


def _values(obj: Model, connection: Any) -> list[Any]:
    """The parameters of ``obj``'s INSERT, prepared as ``save()`` prepares them.

    A field whose value is of a type its class prepares trivially (``_PASS_THROUGH``)
    skips the chain of calls: on the hot path ~140 values per order, each ~2 µs of Python
    through ``pre_save``/``get_db_prep_save``/``get_db_prep_value``/``get_prep_value``/
    ``to_python`` to get the same object back. Everything else (dates, decimals, JSON,
    bytes, auto_now, enums, lazy text, an expression) takes the ORM's own path;
    tests/backoffice/test_sql.py checks that both give the same values for every model."""
    # As save() and bulk_create() do: an instance built with a parent that was saved
    # afterwards (lines of a new order) takes the parent's pk; an unsaved parent raises.
    obj._prepare_related_fields_for_save(operation_name="insert")  # type: ignore[attr-defined]
    ops = connection.ops
    out: list[Any] = []
    for field, attname, types, finish, internal_type in _save_plan(type(obj)):
        if types:
            value = getattr(obj, attname)
            if value is None:
                out.append(None)
                continue
            if type(value) in types:
                if finish is _INTEGER:
                    value = ops.adapt_integerfield_value(value, internal_type)
                elif finish is _AUTO_PK:
                    value = ops.validate_autopk_value(value)
                out.append(value)
                continue
        out.append(field.get_db_prep_save(field.pre_save(obj, add=True), connection))
    return out


def _inserted(obj: Model, pk: Any, alias: str) -> None:
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = alias


def statement_cursor(connection: Any) -> Any:
    """A cursor for one statement of the hot path, without a new driver cursor each time.

    ``connection.cursor()`` makes and closes a psycopg cursor per statement: ~35 µs of
    CPU each here, a third of what a short statement costs the app in all (a loop of
    ``SELECT %s``: 100-104 µs with a new cursor each time, 63-72 reusing one).
    This keeps one driver cursor per database connection and wraps it as Django does
    (``CursorWrapper``, or the debug one while queries are logged), so execute wrappers,
    query capture and the translation of database errors still apply; the health check
    and reconnection still run first. Read every row of one statement before the next
    one (the cursor is shared), and do not close it or use it as a context manager.

    Not documented Django API: this leans on the database backend's own methods
    (``create_cursor``, ``make_cursor``/``make_debug_cursor``,
    ``close_if_health_check_failed``) and keeps an attribute on the ``DatabaseWrapper``;
    tests/backoffice/test_sql.py pins what it must keep across a Django upgrade."""
    if not isinstance(connection, BaseDatabaseWrapper):
        # django.db.connection is a proxy shared by all threads: keep nothing on it
        connection = connections[connection.alias]
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    raw = getattr(connection, "_hot_path_cursor", None)
    if raw is None or raw.connection is not connection.connection or getattr(raw, "closed", False):
        with connection.wrap_database_errors:
            raw = connection.create_cursor()
        connection._hot_path_cursor = raw
    connection.validate_thread_sharing()
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(raw)


def insert(obj: Model, *, on_conflict_nothing: Sequence[str] = ()) -> bool:
    """``INSERT ... RETURNING pk`` for one new instance; sets its pk and returns True.
    With ``on_conflict_nothing`` (the field names of a unique constraint), a row that
    already exists is left alone and False is returned: one atomic statement, so no
    savepoint is needed to survive the duplicate."""
    model = type(obj)
    alias = router.db_for_write(model, instance=obj)
    connection = connections[alias]
    send = signals.pre_save.has_listeners(model) or signals.post_save.has_listeners(model)
    if send:
        signals.pre_save.send(
            sender=model, instance=obj, raw=False, using=alias, update_fields=None
        )
    sql = _insert_sql(model, alias, 1, tuple(on_conflict_nothing))
    cursor = statement_cursor(connection)
    cursor.execute(sql, _values(obj, connection))
    row = cursor.fetchone()
    if row is None:
        return False
    _inserted(obj, row[0], alias)
    if send:
        signals.post_save.send(
            sender=model, instance=obj, created=True, update_fields=None, raw=False, using=alias
        )
    return True


def insert_many(objs: Sequence[Model]) -> None:
    """One multi-row ``INSERT ... RETURNING pk`` for new instances of one model without
    save-signal receivers (``bulk_create``'s contract, without its query building); sets
    their pks in order."""
    if not objs:
        return
    model = type(objs[0])
    if signals.post_save.has_listeners(model):
        raise TypeError(f"{model.__name__} has post_save receivers: save it one by one")
    alias = router.db_for_write(model)
    connection = connections[alias]
    fields = _insert_fields(model)
    # PostgreSQL takes at most 65,535 parameters per statement: big lists go in chunks.
    size = max(1, _MAX_PARAMS // max(len(fields), 1))
    for start in range(0, len(objs), size):
        chunk = objs[start : start + size]
        params: list[Any] = []
        for obj in chunk:
            params += _values(obj, connection)
        cursor = statement_cursor(connection)
        cursor.execute(_insert_sql(model, alias, len(chunk), ()), params)
        # RETURNING gives the rows in VALUES order (bulk_create relies on it too)
        pks = [row[0] for row in cursor.fetchall()]
        for obj, pk in zip(chunk, pks, strict=True):
            _inserted(obj, pk, alias)


@lru_cache(maxsize=64)
def _select_parts(model: type[Model], alias: str) -> tuple[str, list[str], list[tuple]]:
    connection = connections[alias]
    quote = connection.ops.quote_name
    fields: Sequence[Any] = model._meta.concrete_fields
    columns = ", ".join(quote(f.column) for f in fields)
    converters = []
    for i, field in enumerate(fields):
        col = field.get_col(model._meta.db_table)
        found = connection.ops.get_db_converters(col) + field.get_db_converters(connection)
        if found:
            converters.append((i, col, tuple(found)))
    return (
        f"SELECT {columns} FROM {quote(model._meta.db_table)}",  # noqa: S608 - names from the model
        [f.attname for f in fields],
        converters,
    )


def select(
    model: type[M], where: str, params: Sequence[Any] | Mapping[str, Any], *, lock: bool = False
) -> list[M]:
    """The instances of ``model`` matching ``where`` (SQL with %s placeholders, after
    WHERE; may end with ORDER BY / LIMIT), every concrete field loaded. ``lock`` appends
    FOR UPDATE where the database has it (PostgreSQL; SQLite locks the whole file)."""
    alias = router.db_for_read(model)
    connection = connections[alias]
    head, attnames, converters = _select_parts(model, alias)
    sql = f"{head} WHERE {where}"
    if lock and connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    cursor = statement_cursor(connection)
    cursor.execute(sql, params)
    rows = cursor.fetchall()
    found = []
    for row in rows:
        if converters:
            row = list(row)
            for i, col, funcs in converters:
                for convert in funcs:
                    row[i] = convert(row[i], col, connection)
        found.append(model.from_db(alias, attnames, row))
    return found


def select_one(
    model: type[M], where: str, params: Sequence[Any] | Mapping[str, Any], *, lock: bool = False
) -> M | None:
    """The first instance ``select`` finds, or None."""
    found = select(model, where, params, lock=lock)
    return found[0] if found else None


@lru_cache(maxsize=256)
def _update_sql(model: type[Model], alias: str, names: tuple[str, ...]) -> tuple[str, tuple]:
    meta = model._meta
    quote = connections[alias].ops.quote_name
    fields = tuple(_concrete(model, name) for name in names)
    sets = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    sql = f"UPDATE {quote(meta.db_table)} SET {sets} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608
    return sql, fields


def update(model: type[Model], pk: Any, **values: Any) -> int:
    """``UPDATE ... SET <fields> WHERE pk = %s`` with the fields' own preparation (a
    queryset ``.update()`` without its building); returns the row count. Name foreign
    keys by attname (``order_id=``). No signals, as with ``.update()``."""
    alias = router.db_for_write(model)
    connection = connections[alias]
    names = tuple(values)
    sql, fields = _update_sql(model, alias, names)
    params = [f.get_db_prep_save(values[n], connection) for n, f in zip(names, fields, strict=True)]
    cursor = statement_cursor(connection)
    cursor.execute(sql, [*params, pk])
    return cursor.rowcount
