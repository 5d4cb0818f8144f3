"""The snapshot's JSON (sections, checks, failing checks, figures: some 4 KB a pilot) moves out of line on
PostgreSQL: toast_tuple_target 128 leaves the heap with the narrow columns the portfolio scans (about 250
bytes a row instead of 1,500), and the JSON is read from TOAST for the rows that show it. Rows move as they
are next written (every recompute writes them)."""

from django.db import migrations


def _alter(apps, schema_editor, change: str) -> None:
    if schema_editor.connection.vendor == "postgresql":
        table = schema_editor.quote_name(apps.get_model("pilots", "ReadinessSnapshot")._meta.db_table)
        schema_editor.execute(f"ALTER TABLE {table} {change}")


def out_of_line(apps, schema_editor):
    _alter(apps, schema_editor, "SET (toast_tuple_target = 128)")


def inline(apps, schema_editor):
    _alter(apps, schema_editor, "RESET (toast_tuple_target)")


class Migration(migrations.Migration):
    dependencies = [("pilots", "0008_portfolio")]

    operations = [migrations.RunPython(out_of_line, inline, elidable=False)]
