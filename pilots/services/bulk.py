"""Insert-or-overwrite many model rows at once (the readiness snapshots and their history).

`bulk_create(update_conflicts=True)` on PostgreSQL sends each column as one array parameter, and quoting
large JSON values inside an array literal costs more in the client than the whole write in the server.
Here, on PostgreSQL, the rows go through COPY into a session-local staging table and one
INSERT … ON CONFLICT … DO UPDATE moves them into place. Elsewhere (SQLite) the ORM does the same job.
"""

from django.db import connection, models, transaction

BATCH_SIZE = 500  # the ORM path's statement size
COPY_FROM = 50  # fewer rows (one pilot's recompute) are cheaper as one INSERT than staging and COPY


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
    fields = [f for f in meta.concrete_fields if not (f.primary_key and isinstance(f, models.AutoField))]
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
        with cursor.copy(f"COPY {stage} ({names}) FROM STDIN") as copy:
            for obj in objects:
                copy.write_row([f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields])
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage} "
            f"ON CONFLICT ({conflict}) DO UPDATE SET {assignments}"
        )
        cursor.execute(f"TRUNCATE {stage}")
