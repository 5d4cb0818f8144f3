"""Insert (`insert`: the escalations of an arriving batch) or insert-or-overwrite (`upsert`: the readiness
snapshots and their history) many model rows at once.

`bulk_create(update_conflicts=True)` on PostgreSQL sends each column as one array parameter, and quoting
large JSON values inside an array literal costs more in the client than the whole write in the server.
Here, on PostgreSQL, the rows go through COPY into a session-local staging table and one
INSERT … ON CONFLICT … DO UPDATE moves them into place. Elsewhere (SQLite) the ORM does the same job.
"""

import operator
from datetime import datetime

from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

BATCH_SIZE = 500  # the ORM path's statement size
COPY_FROM = 50  # fewer rows (one pilot's recompute) are cheaper as one INSERT than staging and COPY


def _columns(model) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if not (f.primary_key and isinstance(f, models.AutoField))]


# Field kinds whose database value is the Python value itself when that is a plain int, str, bool or an
# aware datetime (what the ORM's get_db_prep_save would return unchanged, at a tenth of the cost); COPY
# gets an aware datetime as its ISO 8601 text, which the server parses as it would psycopg's.
PLAIN_KINDS = {
    "AutoField", "BigAutoField", "BigIntegerField", "BooleanField", "CharField", "DateTimeField",
    "ForeignKey", "IntegerField", "OneToOneField", "PositiveBigIntegerField", "PositiveIntegerField",
    "PositiveSmallIntegerField", "SmallIntegerField", "TextField",
}  # fmt: skip
PLAIN_TYPES = (int, str, bool, type(None))


def _to_database(field: models.Field):
    """value → what COPY sends for `field`: the value itself when it is plain, else the ORM's preparation."""
    prepare = field.get_db_prep_save
    if type(field).__name__ not in PLAIN_KINDS and field.get_internal_type() not in PLAIN_KINDS:
        return lambda value: prepare(value, connection)

    def plain_or_prepared(value):
        if type(value) in PLAIN_TYPES:
            return value
        if type(value) is datetime and value.tzinfo is not None:
            return value.isoformat()  # as text: psycopg chooses its dumper again for every datetime
        return prepare(value, connection)

    return plain_or_prepared


def _set_on_save(field: models.Field) -> bool:
    return getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)


def _object_values(fields: list[models.Field], objects: list[models.Model]):
    """Each object's values, as `save()` would store them (auto_now and auto_now_add applied)."""
    getters = [
        (lambda obj, f=f: f.pre_save(obj, True)) if _set_on_save(f) else operator.attrgetter(f.attname)
        for f in fields
    ]
    converters = [_to_database(f) for f in fields]
    pairs = list(zip(getters, converters, strict=True))
    for obj in objects:
        yield [convert(get(obj)) for get, convert in pairs]


def _row_values(fields: list[models.Field], rows: list[dict]):
    """Each row's values (a dict by attname); a field the row leaves out takes its default, and
    auto_now / auto_now_add fields the time of the call, as `bulk_create()` would store them."""
    now = timezone.now()
    missing = [now if _set_on_save(f) else f.get_default() for f in fields]
    converters = [_to_database(f) for f in fields]
    columns = [
        (f.attname, convert(default), convert)  # a default converted once, not once a row
        for f, default, convert in zip(fields, missing, converters, strict=True)
    ]
    for row in rows:
        yield [convert(row[name]) if name in row else default for name, default, convert in columns]


def _copy_rows(cursor, table: str, fields: list[models.Field], values) -> None:
    """COPY `values` (one list a row, in the order of `fields`) into `table` (the model's own table or a
    stage shaped like it)."""
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in values:
            copy.write_row(row)


def copy_unless_clash(table: str, names: str, values) -> bool:
    """COPY `values` straight into `table` (`names`: its quoted column list) in a savepoint. False, with
    nothing written, if a row clashes with a unique constraint: the caller then goes through a stage.
    COPY raises psycopg's errors, not Django's (Django's cursor wraps execute only), hence
    wrap_database_errors."""
    try:
        sql = f"COPY {table} ({names}) FROM STDIN"
        with (
            transaction.atomic(),
            connection.wrap_database_errors,
            connection.cursor() as cursor,
            cursor.copy(sql) as copy,
        ):
            for row in values:
                copy.write_row(row)
        return True
    except IntegrityError:
        return False


def insert(model: type[models.Model], rows: list[dict]) -> None:
    """Insert new rows of `model`, each a dict of field attname → value (no model instances: building them
    cost more than the write); a row that clashes with a unique constraint (one stored a moment ago, e.g.
    by a redelivered task) is skipped, as `bulk_create(ignore_conflicts=True)` does. Runs in the caller's
    transaction."""
    if not rows:
        return
    if connection.vendor != "postgresql" or len(rows) < COPY_FROM:
        objects = [model(**row) for row in rows]
        model.objects.bulk_create(objects, batch_size=BATCH_SIZE, ignore_conflicts=True)
        return
    meta, quote = model._meta, connection.ops.quote_name
    fields = _columns(model)
    table, names = quote(meta.db_table), ", ".join(quote(f.column) for f in fields)
    if copy_unless_clash(table, names, _row_values(fields, rows)):
        return
    stage = quote(f"{meta.db_table}_new")  # a clash: the stage keeps the rows already stored
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} AS SELECT {names} FROM {meta.db_table} WITH NO DATA"
        )
        _copy_rows(cursor, stage, fields, _row_values(fields, rows))
        cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage} ON CONFLICT DO NOTHING")
        cursor.execute(f"TRUNCATE {stage}")


def upsert(objects: list[models.Model], *, unique_fields: list[str], update_fields: list[str]) -> None:
    """Store `objects` (all of one model): new rows are inserted, rows that clash on `unique_fields` get
    `update_fields` overwritten. Runs in the caller's transaction."""
    if not objects:
        return
    model = type(objects[0])
    if connection.vendor != "postgresql" or len(objects) < COPY_FROM:
        model.objects.bulk_create(
            objects,
            batch_size=BATCH_SIZE,
            update_conflicts=True,
            unique_fields=unique_fields,
            update_fields=update_fields,
        )
        return
    meta, quote = model._meta, connection.ops.quote_name
    fields = _columns(model)
    names = ", ".join(quote(f.column) for f in fields)
    conflict = ", ".join(quote(meta.get_field(name).column) for name in unique_fields)
    assignments = ", ".join(
        f"{column} = EXCLUDED.{column}" for column in (quote(meta.get_field(n).column) for n in update_fields)
    )
    table, stage = quote(meta.db_table), quote(f"{meta.db_table}_stage")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} AS SELECT {names} FROM {meta.db_table} WITH NO DATA"
        )
        _copy_rows(cursor, stage, fields, _object_values(fields, objects))
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage} "
            f"ON CONFLICT ({conflict}) DO UPDATE SET {assignments}"
        )
        cursor.execute(f"TRUNCATE {stage}")
