"""Insert (`insert`: the escalations of an arriving batch) or insert-or-overwrite (`upsert`: the readiness
snapshots and their history) many model rows at once.

`bulk_create(update_conflicts=True)` on PostgreSQL sends each column as one array parameter, and quoting
large JSON values inside an array literal costs more in the client than the whole write in the server.
Here, on PostgreSQL, the rows go through COPY into a session-local staging table and one
INSERT … ON CONFLICT … DO UPDATE moves them into place. Elsewhere (SQLite) the ORM does the same job.
"""

from datetime import datetime

from django.db import IntegrityError, connection, models, transaction

BATCH_SIZE = 500  # the ORM path's statement size
COPY_FROM = 50  # fewer rows (one pilot's recompute) are cheaper as one INSERT than staging and COPY


def _columns(model) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if not (f.primary_key and isinstance(f, models.AutoField))]


# Field kinds whose database value is the Python value itself when that is a plain int, str, bool or an
# aware datetime (what the ORM's get_db_prep_save would return unchanged, at a tenth of the cost).
PLAIN_KINDS = {
    "AutoField", "BigAutoField", "BigIntegerField", "BooleanField", "CharField", "DateTimeField",
    "ForeignKey", "IntegerField", "OneToOneField", "PositiveBigIntegerField", "PositiveIntegerField",
    "PositiveSmallIntegerField", "SmallIntegerField", "TextField",
}  # fmt: skip
PLAIN_TYPES = (int, str, bool, type(None))


def _converter(field: models.Field):
    """value of an object's field → what COPY sends, as `save()` would store it (auto_now_add applied)."""
    prepare = field.get_db_prep_save

    def slow(obj):
        return prepare(field.pre_save(obj, True), connection)

    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return slow
    if type(field).__name__ not in PLAIN_KINDS and field.get_internal_type() not in PLAIN_KINDS:
        return slow
    attname = field.attname

    def fast(obj):
        value = obj.__dict__[attname]
        if type(value) in PLAIN_TYPES or (type(value) is datetime and value.tzinfo is not None):
            return value
        return prepare(value, connection)

    return fast


def _copy_rows(cursor, table: str, fields: list[models.Field], objects: list[models.Model]) -> None:
    """COPY `objects` into `table` (the model's own table or a stage shaped like it). Field defaults that
    are set on save (auto_now_add) are applied as `save()` would."""
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    converters = [_converter(f) for f in fields]
    with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for obj in objects:
            copy.write_row([convert(obj) for convert in converters])


def insert(objects: list[models.Model]) -> None:
    """Insert `objects` (all of one model, new rows); a row that clashes with a unique constraint (one
    stored a moment ago, e.g. by a redelivered task) is skipped, as `bulk_create(ignore_conflicts=True)`
    does. Runs in the caller's transaction."""
    if not objects:
        return
    model = type(objects[0])
    if connection.vendor != "postgresql" or len(objects) < COPY_FROM:
        model.objects.bulk_create(objects, batch_size=BATCH_SIZE, ignore_conflicts=True)
        return
    meta, quote = model._meta, connection.ops.quote_name
    fields = _columns(model)
    table = quote(meta.db_table)
    try:  # straight into the table; on a clash the savepoint is rolled back and a stage sorts it out
        # wrap_database_errors: COPY raises psycopg's errors, not Django's (its cursor wraps execute only)
        with transaction.atomic(), connection.wrap_database_errors, connection.cursor() as cursor:
            _copy_rows(cursor, table, fields, objects)
        return
    except IntegrityError:
        pass
    names, stage = ", ".join(quote(f.column) for f in fields), quote(f"{meta.db_table}_new")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} AS SELECT {names} FROM {meta.db_table} WITH NO DATA"
        )
        _copy_rows(cursor, stage, fields, objects)
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
        _copy_rows(cursor, stage, fields, objects)
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage} "
            f"ON CONFLICT ({conflict}) DO UPDATE SET {assignments}"
        )
        cursor.execute(f"TRUNCATE {stage}")
