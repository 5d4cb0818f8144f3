"""Part g: the readiness engine (issue 8).

1. A full recompute of every pilot (what the nightly job runs: every check and every app's figures,
   set-based, in batches; every snapshot and today's history row written) over generate_load's 10,000
   pilots and 2,000,000 cases — beside one plain GROUP BY over the same cases, in alternating runs.
   Targets: at most 10 s, and at most 15× the GROUP BY.
2. One pilot's recompute (what a write's debounced task runs): median under 50 ms.
3. With REDIS_URL set: the time from a committed write to its new snapshot through a real Celery worker
   on Redis (the write's mark, the debounced task, the recompute): median under 2 s.

Part d's pilots and cases are reused when that part ran in the same process; otherwise they are loaded.
"""

import io
import os
import statistics
import time

from django.core.management import call_command
from django.db import connection

from bench.measure import row, say
from pilots.models import Case, Pilot, ReadinessSnapshot, Workspace
from pilots.services import readiness

TARGET_SECONDS = 10.0
TARGET_RATIO = 15.0
TARGET_ONE_MS = 50.0
TARGET_LATENCY = 2.0
WORKSPACE = "bench-metrics"  # part d's


def plain_group_by() -> list[tuple]:
    """The reference: one GROUP BY over every case, by pilot."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT pilot_id, count(*), count(decided_at), sum(touchpoints) "
            f"FROM {Case._meta.db_table} GROUP BY pilot_id"
        )
        return cursor.fetchall()


def _load(pilots: int, cases: int) -> float:
    workspace = Workspace.objects.filter(slug=WORKSPACE).first()
    if workspace and Pilot.objects.filter(workspace=workspace).count() == pilots:
        return 0.0  # part d's data, as loaded
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {Pilot._meta.db_table} CASCADE")
    started = time.perf_counter()
    call_command("generate_load", pilots=pilots, cases=cases, workspace=WORKSPACE, stdout=io.StringIO())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


def _latency(repetitions: int) -> list[float] | None:
    """Committed write → new snapshot, through a real worker (a thread consuming from Redis)."""
    if not os.environ.get("REDIS_URL"):
        return None
    from celery.contrib.testing.worker import start_worker

    from config.celery import app
    from pilots.services import pilots as pilot_services

    pilot = Pilot.objects.filter(workspace__slug=WORKSPACE).order_by("id").first()
    owner = pilot.workflow_owner
    readiness.recompute(pilot_ids=[pilot.pk])
    app.control.purge()
    times = []
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        for n in range(repetitions):
            before = ReadinessSnapshot.objects.get(pilot=pilot).computed_at
            started = time.perf_counter()
            if n % 2:
                pilot_services.accept_accountability(pilot=pilot, actor=owner)
            else:
                Pilot.objects.filter(pk=pilot.pk).update(accountability_accepted_by=None)
                readiness.mark_dirty(pilot_ids=[pilot.pk])  # autocommit: committed at once
            deadline = started + 30
            while ReadinessSnapshot.objects.get(pilot=pilot).computed_at == before:
                if time.perf_counter() > deadline:
                    raise SystemExit("g: the worker did not recompute the pilot within 30 s")
                time.sleep(0.01)
            times.append(time.perf_counter() - started)
    return times


def run(*, quick: bool, repetitions: int, pilots: int | None, cases: int | None) -> dict:
    pilots = pilots or (100 if quick else 10_000)
    cases = cases if cases is not None else (10_000 if quick else 2_000_000)
    loaded = _load(pilots, cases)
    ids = list(Pilot.objects.order_by("id").values_list("id", flat=True))
    readiness.recompute_all()  # untimed: every snapshot exists, as after the first night
    plain_group_by()
    full_times, plain_times = [], []
    for _ in range(repetitions):
        started = time.perf_counter()
        readiness.recompute_all()
        full_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        plain_group_by()
        plain_times.append(time.perf_counter() - started)
    full, reference = statistics.median(full_times), statistics.median(plain_times)
    ratio = full / reference
    if ReadinessSnapshot.objects.count() != len(ids):
        raise SystemExit("g: not every pilot has a snapshot")

    singles = []
    step = max(1, len(ids) // 25)
    for pilot_id in ids[::step][:25]:
        started = time.perf_counter()
        readiness.recompute(pilot_ids=[pilot_id])
        singles.append(time.perf_counter() - started)
    one_ms = statistics.median(singles) * 1000
    latency = _latency(5 if quick else 11)

    say(f"g. readiness: {len(ids):,} pilots, {Case.objects.count():,} cases, median of {repetitions} runs")
    row("recompute_all()", f"{full:.2f} s", f"target ≤ {TARGET_SECONDS:g} s: {_ok(full <= TARGET_SECONDS)}")
    row("plain GROUP BY", f"{reference:.2f} s", "reference: one GROUP BY pilot over the same cases")
    row("ratio", f"{ratio:.1f}× GROUP BY", f"target ≤ {TARGET_RATIO:g}×: {_ok(ratio <= TARGET_RATIO)}")
    row(
        "one pilot",
        f"{one_ms:.1f} ms",
        f"median of {len(singles)} single recomputes; "
        f"target < {TARGET_ONE_MS:g} ms: {_ok(one_ms < TARGET_ONE_MS)}",
    )
    if latency is None:
        row("write → snapshot", "skipped", "set REDIS_URL for a real worker on Redis")
        median_latency = None
    else:
        median_latency = statistics.median(latency)
        row(
            "write → snapshot",
            f"{median_latency:.2f} s",
            f"median of {len(latency)}, real worker on Redis, debounce {readiness_debounce():g} s; "
            f"target < {TARGET_LATENCY:g} s: {_ok(median_latency < TARGET_LATENCY)}",
        )
    if loaded:
        row("generate_load", f"{loaded:.1f} s", "untimed setup")
    return {
        "seconds": full,
        "reference": reference,
        "ratio": ratio,
        "one_ms": one_ms,
        "latency": median_latency,
    }


def readiness_debounce() -> float:
    from django.conf import settings

    return settings.READINESS_DEBOUNCE_SECONDS


def _ok(good: bool) -> str:
    return "ok" if good else "OVER TARGET"
