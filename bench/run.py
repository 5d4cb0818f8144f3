"""`make bench`: issue 3's speed and memory figures, each printed as an absolute figure and as a ratio to
a reference measured side by side in the same run (medians over several runs; on a noisy machine the
ratio decides).

  a. validation: records/s of ProdReady's compiled validator vs jsonschema (in-process, always runs)
  b. CSV intake into PostgreSQL through process_upload vs a plain COPY, and peak memory
  c. generate_load's rate vs a plain COPY of the same rows
  d. computing every computed metric (issue 4) vs one plain GROUP BY over the same cases
  e. routing (issue 5): records/s through a 10-rule table vs Step 2's validation of the same records
     (in-process, always runs)
  f. the integration API (issue 7): cases/s through POST /api/v1/pilots/{id}/cases/batch in batches of
     1,000 vs a plain COPY of the same rows, and a replay of the same cases (all unchanged) vs the first
     pass (without PostgreSQL: a short run on SQLite that shows the pipeline works, without the COPY)
  g. the readiness engine (issue 8): a full recompute of every pilot vs one plain GROUP BY over the same
     cases, one pilot's recompute, and (with REDIS_URL) a write's latency to its new snapshot through a
     real worker on Redis
  h. the portfolio dashboard (issue 9): its server time over 10,000 pilots and 2,000,000 cases vs a trivial
     view that reads one row, through the same request handling

b, c, d, g, h (and f's COPY reference) need PostgreSQL: DATABASE_URL names a server where the bench may create
its own database (`prodready_bench`, dropped afterwards); the database DATABASE_URL names is never
touched. Without it they print that they were skipped.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres make bench
    .venv/bin/python bench/run.py --quick --only ae
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.run --only f
"""

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if sys.path[0] != str(ROOT):  # ahead of bench/ itself, whose metrics.py would shadow the metrics app
    sys.path.insert(0, str(ROOT))

BENCH_DATABASE = "prodready_bench"
POSTGRES_SCHEMES = ("postgres", "postgresql", "pgsql")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller data and fewer runs (about 20 s)")
    parser.add_argument("--repetitions", type=int, help="runs per figure (default 5, quick 3)")
    parser.add_argument("--only", default="abcdefgh", help="which parts to run, e.g. --only ae")
    parser.add_argument("--database", default=BENCH_DATABASE, help="name of the throwaway bench database")
    parser.add_argument("--api-cases", type=int, help="f: cases per run (default 100,000; quick 20,000)")
    parser.add_argument("--profile", action="store_true", help="f: also print a cProfile of the API passes")
    parser.add_argument("--keep-database", action="store_true", help="leave the bench database for a look")
    parser.add_argument("--load-pilots", type=int, help="pilots per generate_load run (default 1,000)")
    parser.add_argument("--load-cases", type=int, help="cases per generate_load run (default 100,000)")
    parser.add_argument("--metrics-pilots", type=int, help="d, g: pilots (default 10,000)")
    parser.add_argument("--metrics-cases", type=int, help="d, g: cases (default 2,000,000)")
    return parser.parse_args(argv)


def _server_url(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(("postgresql", parts.netloc, f"/{database}", parts.query, ""))


def _recreate(url: str, database: str, *, drop_only: bool = False) -> None:
    """Create the bench database afresh (or only drop it), connected to the server's own database."""
    import psycopg
    from psycopg import sql

    if urlsplit(url).path.lstrip("/") == database:
        raise SystemExit(f"DATABASE_URL names {database} itself; the bench needs a database it may drop.")
    with psycopg.connect(_server_url(url, urlsplit(url).path.lstrip("/")), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
        if not drop_only:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    repetitions = args.repetitions or (3 if args.quick else 5)
    workdir = Path(tempfile.mkdtemp(prefix="prodready-bench-"))
    url = os.environ.get("DATABASE_URL", "")
    postgres = urlsplit(url).scheme in POSTGRES_SCHEMES and bool(
        {"b", "c", "d", "f", "g", "h"} & set(args.only)
    )
    # Production settings (DEBUG off keeps Django from logging every query), in a folder of our own: the
    # developer's database and files are never touched.
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
    os.environ.setdefault("ALLOWED_HOSTS", "localhost")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["PRODREADY_VAR_DIR"] = str(workdir / "var")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if postgres:
        _recreate(url, args.database)
        os.environ["DATABASE_URL"] = _server_url(url, args.database)
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections

    from bench import api, intake, load, metrics, portfolio, readiness, routing, validation
    from bench.measure import say

    started = time.perf_counter()
    try:
        say(
            f"ProdReady bench — {'quick' if args.quick else 'full'} run, Python {platform.python_version()}, "
            f"{os.cpu_count()} CPUs, medians of {repetitions} runs"
        )
        if postgres:
            call_command("migrate", verbosity=0)
            say(
                f"PostgreSQL {connection.cursor().connection.info.server_version // 10000}: "
                f"throwaway database {args.database} (created, migrated, dropped at the end)"
            )
        elif "f" in args.only:
            call_command("migrate", verbosity=0)  # f's API passes run on a throwaway SQLite file instead
        say()
        if "a" in args.only:
            validation.run(quick=args.quick, repetitions=repetitions)
            say()
        for part, title in (("b", "b. CSV intake into PostgreSQL"), ("c", "c. generate_load")):
            if part not in args.only:
                continue
            if not postgres:
                say(
                    f"{title}: skipped: set DATABASE_URL (postgres://… on a server where the bench may "
                    "create a database)"
                )
            elif part == "b":
                intake.run(quick=args.quick, repetitions=repetitions, workdir=workdir)
            else:
                load.run(
                    quick=args.quick,
                    repetitions=min(repetitions, 3),
                    workdir=workdir,
                    pilots=args.load_pilots,
                    cases=args.load_cases,
                )
            say()
        if "d" in args.only:
            if postgres:
                metrics.run(
                    quick=args.quick,
                    repetitions=repetitions,
                    pilots=args.metrics_pilots,
                    cases=args.metrics_cases,
                )
            else:  # worded apart from b and c's line: the smoke test counts those two
                say("d. computed metrics: skipped, PostgreSQL only (DATABASE_URL is not set)")
            say()
        if "e" in args.only:
            routing.run(quick=args.quick, repetitions=repetitions)
            say()
        if "f" in args.only:
            api.run(
                quick=args.quick,
                repetitions=min(repetitions, 3),
                workdir=workdir,
                postgres=postgres,
                cases=args.api_cases,
                profiled=args.profile,
            )
            say()
        if "g" in args.only:
            if postgres:
                readiness.run(
                    quick=args.quick,
                    repetitions=repetitions,
                    pilots=args.metrics_pilots,
                    cases=args.metrics_cases,
                )
            else:
                say("g. readiness: skipped, PostgreSQL only (DATABASE_URL is not set)")
            say()
        if "h" in args.only:
            if postgres:
                portfolio.run(
                    quick=args.quick,
                    repetitions=repetitions,
                    pilots=args.metrics_pilots,
                    cases=args.metrics_cases,
                )
            else:
                say("h. portfolio dashboard: skipped, PostgreSQL only (DATABASE_URL is not set)")
            say()
        say(f"bench finished in {time.perf_counter() - started:.0f} s")
    finally:
        connections.close_all()
        if postgres and not args.keep_database:
            _recreate(url, args.database, drop_only=True)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
