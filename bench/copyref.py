"""The COPY references: the same rows loaded by a plain PostgreSQL COPY, timed in the same run."""

import time
from pathlib import Path

from django.db import connection

from pilots.models import Case

LIKE_CASES = "bench_case_scratch"


def case_columns() -> list[str]:
    return [f.column for f in Case._meta.concrete_fields if not f.primary_key]


def create_like_cases() -> None:
    """A scratch table shaped like pilots_case: its columns, types, defaults and indexes (no foreign keys)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {LIKE_CASES}")
        cursor.execute(f"CREATE TABLE {LIKE_CASES} (LIKE {Case._meta.db_table} INCLUDING ALL)")


def drop(table: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")


def dump_cases(where: str, params: tuple, path: Path) -> None:
    """Write the stored cases matching `where` to `path` in COPY's text format (untimed)."""
    columns = ", ".join(case_columns())
    query = f"COPY (SELECT {columns} FROM {Case._meta.db_table} WHERE {where}) TO STDOUT"
    with connection.cursor() as cursor, open(path, "wb") as out, cursor.copy(query, params) as copy:
        for data in copy:
            out.write(data)


def copy_file(table: str, path: Path, *, columns: list[str] | None = None, csv_header: bool = False) -> float:
    """Seconds to COPY the file into `table` (emptied first, untimed)."""
    target = f"{table} ({', '.join(columns)})" if columns else table
    options = " WITH (FORMAT csv, HEADER true)" if csv_header else ""
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table}")
        started = time.perf_counter()
        with open(path, "rb") as source, cursor.copy(f"COPY {target} FROM STDIN{options}") as copy:
            while data := source.read(1 << 20):
                copy.write(data)
        return time.perf_counter() - started
