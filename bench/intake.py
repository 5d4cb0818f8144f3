"""Part b: a CSV of cases into PostgreSQL end to end through process_upload, beside plain COPYs of the same
rows, in alternating runs: the rows as intake stored them into a table shaped like pilots_case (the
reference the target names: "a plain COPY of the same rows", which the issues put at ~180,000 rows/s
here), and, for scale, the raw CSV file into a table of text columns."""

import statistics
import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import connection

from bench import copyref
from bench.measure import PeakMemory, mb, row, say, verdict
from bench.records import SPEC, write_csv
from pilots.models import Case, CaseUpload, Membership, Pilot, Workspace
from pilots.services.standards import publish_standard
from pilots.services.uploads import process_upload

TARGET_RATE = 20_000
TARGET_RATIO = 0.11
TARGET_MEMORY = 300 * 1024 * 1024
TEXT_TABLE = "bench_csv_scratch"


def _setup():
    user = get_user_model().objects.create_user(username="bench-intake", password=None, first_name="Bench")
    workspace = Workspace.objects.create(name="Bench", slug="bench-intake", timezone="Europe/Berlin")
    membership = Membership(workspace=workspace, user=user)
    membership.set_roles({"admin", "program_manager", "workflow_owner"})
    membership.save()
    return user, workspace


def _fresh_upload(user, workspace, path: Path, number: int) -> int:
    """An empty pilot with the bench standard, and a queued upload of the file."""
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {Case._meta.db_table} CASCADE")
    pilot = Pilot.objects.create(
        workspace=workspace,
        name=f"Bench pilot {number}",
        problem="Bench",
        workflow="Bench",
        program_manager=user,
        workflow_owner=user,
    )
    publish_standard(pilot=pilot, actor=user, spec=SPEC)
    upload = CaseUpload.objects.create(
        pilot=pilot, uploaded_by=user, file_name=path.name, path=str(path), size=path.stat().st_size
    )
    return upload.pk


def run(*, quick: bool, repetitions: int, workdir: Path) -> dict:
    n = 20_000 if quick else 100_000
    path, stored_rows = workdir / "cases.csv", workdir / "stored.copy"
    write_csv(path, n)
    with open(path, encoding="utf-8") as handle:
        header = handle.readline().strip().split(",")
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TEXT_TABLE}")
        columns = ", ".join(f'"{name}" text' for name in header)
        cursor.execute(f"CREATE TABLE {TEXT_TABLE} ({columns})")
    copyref.create_like_cases()
    user, workspace = _setup()
    intake_times, csv_times, stored_times, growths, peaks = [], [], [], [], []
    for number in range(repetitions):  # side by side: intake, then the two COPYs, in every round
        upload_id = _fresh_upload(user, workspace, path, number)
        with PeakMemory() as memory:
            started = time.perf_counter()
            outcome = process_upload(upload_id=upload_id)
            intake_times.append(time.perf_counter() - started)
        growths.append(memory.growth)
        peaks.append(memory.peak)
        upload = CaseUpload.objects.get(pk=upload_id)
        if outcome != "done" or upload.counts.get("created") != n:
            raise SystemExit(
                f"the upload did not store every row: {outcome}, {upload.counts}, {upload.error}"
            )
        csv_times.append(copyref.copy_file(TEXT_TABLE, path, csv_header=True))
        copyref.dump_cases("pilot_id = %s", (upload.pilot_id,), stored_rows)
        stored_times.append(
            copyref.copy_file(copyref.LIKE_CASES, stored_rows, columns=copyref.case_columns())
        )
    with_problems = upload.counts.get("with_problems", 0) / n
    rate = n / statistics.median(intake_times)
    csv_rate, stored_rate = n / statistics.median(csv_times), n / statistics.median(stored_times)
    ratio = rate / stored_rate
    peak = max(growths)
    say(
        f"b. CSV intake: {n:,} rows ({mb(path.stat().st_size)}, {with_problems:.1%} with problems) into "
        f"PostgreSQL through process_upload, median of {repetitions} runs"
    )
    row(
        "process_upload", f"{rate:,.0f} rows/s", f"target ≥ {TARGET_RATE:,}/s: {verdict(rate >= TARGET_RATE)}"
    )
    row("COPY of the same rows", f"{stored_rate:,.0f} rows/s", "reference: the cases intake stored, into a "
        "table like pilots_case (same indexes)")  # fmt: skip
    row("ratio", f"{ratio:.3f}× COPY", f"target ≥ {TARGET_RATIO}×: {verdict(ratio >= TARGET_RATIO)}")
    row("COPY of the CSV", f"{csv_rate:,.0f} rows/s", "for scale: the raw file into a table of text columns")
    row("ratio", f"{rate / csv_rate:.3f}× that COPY")
    row("peak memory", mb(peak), f"RSS growth during an upload, worst run; target < 300 MB: "
        f"{verdict(peak < TARGET_MEMORY)}")  # fmt: skip
    row("", f"{mb(max(peaks))} in all", "the process's resident size at its peak")
    row("stored", f"{n:,} cases", ", ".join(f"{k} {v:,}" for k, v in sorted(upload.counts.items())))
    copyref.drop(TEXT_TABLE)
    copyref.drop(copyref.LIKE_CASES)
    return {
        "rate": rate,
        "reference": stored_rate,
        "ratio": ratio,
        "csv_reference": csv_rate,
        "peak": peak,
    }
