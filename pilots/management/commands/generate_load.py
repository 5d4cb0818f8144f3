"""`manage.py generate_load --pilots N --cases M`: a large, realistic data set, fast, for benches.

Each installed app's `demo` module may define `generate_load(ctx)`; they run in INSTALLED_APPS order (the hub
first) inside one transaction, so an interrupted run leaves nothing half-written. Rows are streamed: on
PostgreSQL through COPY, in chunks, so memory stays flat whatever the size; elsewhere (SQLite) through
bulk_create in batches.
"""

import json
import time
from collections.abc import Iterable
from itertools import islice

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction

from pilots.demo import LoadContext
from pilots.discovery import app_modules
from pilots.services import readiness

COPY_CHUNK = 100_000  # rows per COPY statement, or per series of bulk_create batches; a progress line each
BULK_BATCH = 2_000


class RowWriter:
    """Stores row tuples the fastest way the database allows, printing progress and the rate."""

    def __init__(self, say):
        self.say = say
        self.rows: dict[str, int] = {}
        self.seconds: dict[str, float] = {}

    def write(self, model: type[models.Model], fields: list[str], rows: Iterable[tuple], total=None) -> int:
        label = model._meta.verbose_name_plural
        started = time.perf_counter()
        postgres = connection.vendor == "postgresql"
        rows = iter(rows)
        done = 0
        while True:
            # Rows go straight from the iterator to the database: never more than a batch in memory.
            chunk = islice(rows, COPY_CHUNK)
            written = (
                self._copy(model, fields, chunk) if postgres else self._bulk_create(model, fields, chunk)
            )
            if not written:
                break
            done += written
            elapsed = time.perf_counter() - started
            of = f" of {total:,}" if total else ""
            self.say(f"  {label}: {done:,}{of} · {done / elapsed:,.0f} rows/s")
        self.rows[label] = self.rows.get(label, 0) + done
        self.seconds[label] = self.seconds.get(label, 0) + time.perf_counter() - started
        return done

    @staticmethod
    def _copy(model, fields: list[str], rows: Iterable[tuple]) -> int:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(model._meta.get_field(name).column) for name in fields)
        statement = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
        written = 0
        with connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
                written += 1
        return written

    @staticmethod
    def _bulk_create(model, fields: list[str], rows: Iterable[tuple]) -> int:
        # Rows carry JSON fields as JSON text (what COPY wants); model instances want the values.
        json_at = [
            i for i, name in enumerate(fields) if isinstance(model._meta.get_field(name), models.JSONField)
        ]
        written = 0
        while batch := list(islice(rows, BULK_BATCH)):
            objects = []
            for row in batch:
                values = list(row)
                for i in json_at:
                    values[i] = json.loads(values[i])
                objects.append(model(**dict(zip(fields, values, strict=True))))
            model.objects.bulk_create(objects)
            written += len(objects)
        return written


class Command(BaseCommand):
    help = "Build a large realistic data set fast: N pilots (every one with a standard) and M cases."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--pilots", type=int, required=True, help="How many pilots to add.")
        parser.add_argument("--cases", type=int, required=True, help="How many cases to add among them.")
        parser.add_argument("--workspace", default="load", help="Slug of the workspace (created if missing).")
        parser.add_argument("--seed", type=int, default=0, help="Random seed, for a repeatable data set.")

    def handle(self, *args, pilots: int, cases: int, workspace: str, seed: int, **options) -> None:
        if pilots < 1:
            raise CommandError("--pilots must be at least 1.")
        if cases < 0:
            raise CommandError("--cases cannot be negative.")
        self._started = time.perf_counter()
        writer = RowWriter(self._say)
        ctx = LoadContext(
            pilots=pilots, cases=cases, slug=workspace, write=writer.write, say=self._say, seed=seed
        )
        self._say(f"generate_load: {pilots:,} pilots and {cases:,} cases on {connection.vendor}")
        with transaction.atomic():
            for module in app_modules("demo"):
                if hasattr(module, "generate_load"):
                    module.generate_load(ctx)
            # Rows written straight to the tables leave no audit event: mark the pilots here, and the
            # readiness sweep computes their snapshots (benches recompute them directly).
            readiness.mark_dirty(pilot_ids=ctx.pilot_ids)
        elapsed = time.perf_counter() - self._started
        total = sum(ctx.counts.values())
        for label, count in ctx.counts.items():
            self._say(f"  {label}: {count:,}")
        for label, rows in writer.rows.items():
            rate = rows / writer.seconds[label] if writer.seconds[label] else 0
            self._say(f"  {label} written at {rate:,.0f} rows/s")
        self._say(f"generate_load: {total:,} rows in {elapsed:.1f} s ({total / elapsed:,.0f} rows/s overall)")

    def _say(self, line: str) -> None:
        self.stdout.write(f"[{time.perf_counter() - self._started:6.1f} s] {line}")
        self.stdout.flush()
