"""Part d: computing every computed metric in one run (metrics.compute.recompute, what the Celery job
calls), beside one plain GROUP BY over the same decided cases, in alternating runs.

The data: generate_load's pilots and cases, each started pilot with two computed metrics (cycle time and
error rate); the other parts' pilots are cleared first, so both sides read exactly these cases. Each side
runs once untimed first, so every timed recompute replaces a full set of figures, as the nightly job does.
"""

import io
import statistics
import time

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.measure import row, say
from metrics import compute
from metrics.models import Measurement, Method, Metric
from pilots.models import Case, Pilot, Workspace

TARGET_RATIO = 3.0
WORKSPACE = "bench-metrics"


def plain_group_by(zone: str) -> list[tuple]:
    """The reference: one GROUP BY over the decided cases, by pilot and ISO week in the workspace's zone."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT pilot_id, date_trunc('week', decided_at AT TIME ZONE %s) AS week, count(*) "
            f"FROM {Case._meta.db_table} WHERE decided_at IS NOT NULL GROUP BY 1, 2",
            [zone],
        )
        return cursor.fetchall()


def run(*, quick: bool, repetitions: int, pilots: int | None, cases: int | None) -> dict:
    pilots = pilots or (100 if quick else 10_000)  # the size: fixed costs dominate a small run
    cases = cases if cases is not None else (10_000 if quick else 2_000_000)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {Pilot._meta.db_table} CASCADE")  # parts b and c leave their pilots
    started = time.perf_counter()
    call_command("generate_load", pilots=pilots, cases=cases, workspace=WORKSPACE, stdout=io.StringIO())
    loaded = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # what autovacuum would have done by the time the nightly job runs
    zone = Workspace.objects.get(slug=WORKSPACE).timezone
    decided = Case.objects.filter(decided_at__isnull=False).count()
    computed = Metric.objects.filter(method=Method.FROM_CASES).count()

    with CaptureQueriesContext(connection) as queries:  # the first run writes every figure
        started = time.perf_counter()
        figures = compute.recompute()
        first_run = time.perf_counter() - started
    groups = len(plain_group_by(zone))
    compute_times, plain_times = [], []
    for _ in range(repetitions):
        started = time.perf_counter()
        compute.recompute()
        compute_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        plain_group_by(zone)
        plain_times.append(time.perf_counter() - started)
    seconds, reference = statistics.median(compute_times), statistics.median(plain_times)
    ratio = seconds / reference
    stored = Measurement.objects.filter(source=Measurement.Source.COMPUTED).count()
    if stored != figures:
        raise SystemExit(f"recompute reported {figures:,} figures but {stored:,} are stored")

    say(
        f"d. computed metrics: {pilots:,} pilots, {cases:,} cases ({decided:,} decided), "
        f"{computed:,} computed metrics, median of {repetitions} runs"
    )
    row("recompute()", f"{seconds:.2f} s", f"{figures:,} weekly figures kept up to date (the periodic run)")
    first = f"writes every figure, in {len(queries)} queries: {first_run / reference:.2f}× the GROUP BY"
    row("first recompute", f"{first_run:.2f} s", first)
    row(
        "plain GROUP BY",
        f"{reference:.2f} s",
        f"reference: {groups:,} (pilot, week) counts of the same cases",
    )
    row(
        "ratio",
        f"{ratio:.2f}× GROUP BY",
        f"target ≤ {TARGET_RATIO:g}×: {'ok' if ratio <= TARGET_RATIO else 'OVER TARGET'}",
    )
    row("generate_load", f"{loaded:.1f} s", "untimed setup: pilots, cases and metrics")
    return {"seconds": seconds, "reference": reference, "ratio": ratio, "figures": figures}
