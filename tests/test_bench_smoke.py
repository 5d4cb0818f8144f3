"""`bench/run.py --quick` runs its in-process parts and reports each figure absolute and as a ratio."""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def test_quick_bench_prints_figures_and_ratios_and_skips_the_database_parts():
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "bench/run.py", "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "records/s" in out and "target ≥ 200,000/s" in out  # the absolute figure
    assert "× jsonschema" in out and "target ≥ 15×" in out  # the ratio to the reference
    assert "agree on 100.0% of records" in out  # every error reported at the same field path
    assert out.count("skipped: set DATABASE_URL") == 2  # b (intake) and c (generate_load)
    # e: the whole routing step through a 10-rule table, absolute and as a ratio to validation in the same run
    assert "e. Routing: 10-rule table" in out and "route_drafts (whole step)" in out
    ratio = next(line for line in out.splitlines() if "× validation" in line)
    assert "target ≥ 1×: ok" in ratio  # routing never costs more than validating the same records
    # f: the integration API end to end, on SQLite here (its COPY reference needs PostgreSQL); every
    # case created on the first pass, every case unchanged on the replay (the bench checks both)
    assert "f. API ingest: 2,000 cases" in out and "SQLite" in out
    assert "API, first pass" in out and "cases/s" in out
    assert "COPY reference" in out and "PostgreSQL only" in out
    replay = next(line for line in out.splitlines() if "× first pass" in line)
    assert "target ≥ 1×: ok" in replay  # a replay that changes nothing is never slower than the first pass


def test_the_api_part_measures_against_copy_on_postgresql(postgres):
    """f on PostgreSQL, small: the API passes beside a COPY of the rows they stored, in a throwaway
    database of its own (created and dropped by the bench)."""
    # The bench connects to the server's own `postgres` database to create its throwaway one (the
    # database the tests' DATABASE_URL names may not exist: pytest works in test_<name>).
    server = urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path="/postgres"))
    result = subprocess.run(
        [sys.executable, "bench/run.py", "--quick", "--only", "f", "--api-cases", "3000",
         "--repetitions", "1", "--database", f"prodready_bench_smoke_{os.getpid()}"],
        cwd=ROOT,
        env=dict(os.environ, DATABASE_URL=server),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "f. API ingest: 3,000 cases" in out and "PostgreSQL" in out
    assert "× COPY" in out and "target ≥ 0.2×" in out  # the ratio to COPY, whatever it is on this machine
    assert "COPY of the same rows" in out and "rows/s" in out
    assert "× first pass" in out


def test_the_dashboard_part_measures_against_a_one_row_view_on_postgresql(postgres):
    """h on PostgreSQL, small: the dashboard beside a view that reads one row, its queries counted."""
    server = urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path="/postgres"))
    result = subprocess.run(
        [sys.executable, "bench/run.py", "--quick", "--only", "h", "--repetitions", "1",
         "--database", f"prodready_bench_smoke_h_{os.getpid()}"],
        cwd=ROOT,
        env=dict(os.environ, DATABASE_URL=server),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "h. portfolio dashboard: 100 pilots" in out
    dashboard = next(line for line in out.splitlines() if line.strip().startswith("dashboard "))
    assert "14 queries" in dashboard
    assert "× one-row view" in out and "target ≤ 80×" in out
