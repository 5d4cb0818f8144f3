"""PostgreSQL learns how many (pilot, AI version) pairs the cases hold. The readiness engine's one pass over
the cases groups by both; without these statistics the planner multiplies the two columns' counts, expects
a group for nearly every row (195,000 where there are 3,000 in a batch of 2,000 pilots) and sorts the whole
batch instead of hashing it. ANALYZE (autovacuum's, or the next one) fills them in."""

from django.db import migrations

NAME = "pilots_case_pilot_version_ndistinct"


def _execute(apps, schema_editor, sql: str) -> None:
    if schema_editor.connection.vendor == "postgresql":
        table = schema_editor.quote_name(apps.get_model("pilots", "Case")._meta.db_table)
        schema_editor.execute(sql.format(name=schema_editor.quote_name(NAME), table=table))


def create(apps, schema_editor):
    _execute(
        apps,
        schema_editor,
        "CREATE STATISTICS IF NOT EXISTS {name} (ndistinct) ON pilot_id, ai_version_id FROM {table}",
    )


def drop(apps, schema_editor):
    _execute(apps, schema_editor, "DROP STATISTICS IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("pilots", "0009_snapshot_json_out_of_line")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
