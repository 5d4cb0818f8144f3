"""Part c: generate_load's rate, beside a plain COPY of the same case rows into a table like pilots_case."""

import io
import statistics
import time
from pathlib import Path

from django.core.management import call_command

from bench import copyref
from bench.measure import row, say


def run(*, quick: bool, repetitions: int, workdir: Path, pilots: int | None, cases: int | None) -> dict:
    pilots = pilots or (100 if quick else 1_000)
    cases = cases if cases is not None else (10_000 if quick else 100_000)
    copyref.create_like_cases()
    load_times, copy_times = [], []
    dump = workdir / "generated.copy"
    for number in range(repetitions):
        workspace = f"bench-load-{number}"
        started = time.perf_counter()
        call_command("generate_load", pilots=pilots, cases=cases, workspace=workspace, seed=number,
                     stdout=io.StringIO())  # fmt: skip
        load_times.append(time.perf_counter() - started)
        where = (
            "pilot_id IN (SELECT p.id FROM pilots_pilot p JOIN pilots_workspace w ON w.id = p.workspace_id "
        )
        copyref.dump_cases(where + "WHERE w.slug = %s)", (workspace,), dump)
        copy_times.append(copyref.copy_file(copyref.LIKE_CASES, dump, columns=copyref.case_columns()))
    seconds = statistics.median(load_times)
    rate = cases / seconds
    reference = cases / statistics.median(copy_times)
    say(
        f"c. generate_load: {pilots:,} pilots and {cases:,} cases per run (each pilot with a standard and AI "
        f"versions), median of {repetitions} runs"
    )
    row("generate_load", f"{rate:,.0f} cases/s", f"{seconds:.1f} s a run, pilots and standards included")
    row("COPY of the same rows", f"{reference:,.0f} rows/s", "reference: into a table like pilots_case")
    row("ratio", f"{rate / reference:.2f}× COPY")
    row("2,000,000 cases", f"≈ {2_000_000 / rate:,.0f} s", "at most, at this rate: fixed costs weigh less in "
        "bigger runs (the issue asks for minutes)")  # fmt: skip
    copyref.drop(copyref.LIKE_CASES)
    return {"rate": rate, "reference": reference}
