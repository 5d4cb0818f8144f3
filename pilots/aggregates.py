"""A median both databases compute: PostgreSQL's percentile_cont, and on SQLite an aggregate function
registered on every new connection (Python's statistics.median)."""

import statistics

from django.db.models import Aggregate, FloatField


class Median(Aggregate):
    function = "PERCENTILE_CONT"
    name = "Median"
    output_field = FloatField()
    allow_distinct = False
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"

    def as_sqlite(self, compiler, connection, **extra_context):
        plain = self.copy()
        plain.function, plain.template = "PRODREADY_MEDIAN", "%(function)s(%(expressions)s)"
        return super(Median, plain).as_sql(compiler, connection, **extra_context)


class _SqliteMedian:
    def __init__(self) -> None:
        self.values: list[float] = []

    def step(self, value) -> None:
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        return statistics.median(self.values) if self.values else None


def register_sqlite_median(sender, connection, **kwargs) -> None:
    """connection_created receiver: teach each SQLite connection PRODREADY_MEDIAN."""
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate("PRODREADY_MEDIAN", 1, _SqliteMedian)
