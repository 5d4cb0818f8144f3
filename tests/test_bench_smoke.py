"""`bench/run.py --quick` runs its in-process parts and reports each figure absolute and as a ratio."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quick_bench_prints_figures_and_ratios_and_skips_the_database_parts():
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "bench/run.py", "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
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
