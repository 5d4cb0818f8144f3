"""Part f: cases through the whole integration API (issue 7) — JSON batches of 1,000 POSTed to
/api/v1/pilots/{id}/cases/batch with a read-write key and a fresh Idempotency-Key each, through Django's
full request handling (middleware, key authentication and rate limit, the idempotency record, body
parsing and schema validation, validation against the pilot's input standard, routing by a 10-rule table,
escalations opened, the idempotent upsert, per-item results) — beside a plain PostgreSQL COPY of the same
rows, in alternating runs. Then the same bodies again with new Idempotency-Keys: every case "unchanged",
which must be at least as fast as the first pass.

The requests go through django.test.Client (Django's own handler, in-process: no socket, no web server),
so what is measured is ProdReady's work, not a server's. The records are part a's (bench/records.py, 10%
with problems); the standard is part a's, the rule table part e's, published through the services.
Without PostgreSQL the API passes still run (on SQLite), without the COPY reference.
"""

import io
import json
import statistics
import time
import uuid
from collections import Counter
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test import Client

from bench import copyref
from bench.measure import row, say, verdict
from bench.records import SPEC, records
from bench.routing import TABLE
from exceptions.services.rules import publish_rules
from pilots.models import ApiKey, Case, Membership, Pilot, Workspace
from pilots.services.api_keys import create_key
from pilots.services.standards import publish_standard

TARGET_RATIO = 0.20  # of a plain COPY of the same rows
TARGET_REPLAY = 1.0  # of the first pass
BATCH = 1_000
RECEIVED = datetime(2026, 6, 1, 9, 0, tzinfo=UTC).isoformat()


def _setup() -> tuple[object, Workspace, str]:
    user = get_user_model().objects.create_user(username="bench-api", password=None, first_name="Bench")
    workspace = Workspace.objects.create(name="Bench API", slug="bench-api", timezone="Europe/Berlin")
    membership = Membership(workspace=workspace, user=user)
    membership.set_roles({"admin", "program_manager", "workflow_owner", "reviewer"})
    membership.save()
    key = create_key(workspace=workspace, name="Bench feed", access=ApiKey.Access.READ_WRITE, actor=user)
    return user, workspace, key.secret


def _host() -> str:
    """A host name ALLOWED_HOSTS accepts (the bench runs with production settings)."""
    first = (settings.ALLOWED_HOSTS or ["localhost"])[0]
    return "localhost" if first == "*" else f"bench{first}" if first.startswith(".") else first


def _fresh_pilot(user, workspace: Workspace, number: int) -> Pilot:
    """A new pilot with the bench's standard and rule table. On PostgreSQL the case table is emptied first
    (untimed), so every run starts from the same table and index sizes."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {Case._meta.db_table} CASCADE")
    pilot = Pilot.objects.create(
        workspace=workspace,
        name=f"Bench API pilot {number}",
        problem="Bench",
        workflow="Bench",
        program_manager=user,
        workflow_owner=user,
    )
    publish_standard(pilot=pilot, actor=user, spec=SPEC)
    publish_rules(pilot=pilot, rules=TABLE, actor=user, note="bench")
    return pilot


def bodies(n: int) -> list[bytes]:
    """The request bodies, serialised once (untimed): what the pilot's system would send."""
    cases = records(n)
    for case in cases:
        case["received_at"] = RECEIVED
    return [json.dumps({"cases": cases[i : i + BATCH]}).encode() for i in range(0, n, BATCH)]


def send(client: Client, secret: str, pilot_id: int, batches: list[bytes]) -> tuple[float, Counter]:
    """Seconds to POST every batch (each with a new Idempotency-Key), and the summed per-outcome counts.
    The responses are read after the clock stops: reading them is the client's work, not ProdReady's."""
    path = f"/api/v1/pilots/{pilot_id}/cases/batch"
    responses = []
    started = time.perf_counter()
    for body in batches:
        response = client.post(
            path,
            body,
            content_type="application/json",
            headers={"Authorization": f"Bearer {secret}", "Idempotency-Key": uuid.uuid4().hex},
            secure=True,
        )
        if response.status_code != 200:
            raise SystemExit(f"the API refused a batch: {response.status_code} {response.content[:500]!r}")
        responses.append(response.content)
    seconds = time.perf_counter() - started
    counts: Counter = Counter()
    for content in responses:
        counts.update(json.loads(content)["counts"])
    return seconds, counts


def profile(
    client: Client, secret: str, user, workspace: Workspace, batches: list[bytes], top: int = 30
) -> None:
    """cProfile of one more first pass and its replay (not part of the figures): where the time goes."""
    import cProfile
    import pstats

    pilot = _fresh_pilot(user, workspace, 999)
    for title, label in (("first pass", "created"), ("replay", "unchanged")):
        profiler = cProfile.Profile()
        profiler.enable()
        send(client, secret, pilot.pk, batches)
        profiler.disable()
        say(f"   profile of the {title} ({label}), by own time, then by cumulative time:")
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs()
        stats.sort_stats("tottime").print_stats(top)
        stats.sort_stats("cumulative").print_stats(top)
        for line in out.getvalue().splitlines():
            say(f"      {line}" if line.strip() else "")


def run(
    *,
    quick: bool,
    repetitions: int,
    workdir,
    postgres: bool,
    cases: int | None = None,
    profiled: bool = False,
) -> dict:
    if not postgres:  # SQLite: a short run that shows the pipeline works; the figures need PostgreSQL
        n, repetitions = cases or 2_000, 1
    else:
        n = cases or (20_000 if quick else 100_000)
    batches = bodies(n)
    # The per-key limit guards a shared server against a runaway client; the bench is that client on
    # purpose. The limit is still checked on every request (the counter in the cache).
    settings.API_RATE_LIMIT_PER_MINUTE = 10**9
    cache.clear()
    client = Client(SERVER_NAME=_host())
    user, workspace, secret = _setup()
    stored_rows = workdir / "api-stored.copy"
    if postgres:
        copyref.create_like_cases()
    first_times, replay_times, copy_times = [], [], []
    for number in range(repetitions):  # side by side: the API, its replay, then the COPY, in every round
        pilot = _fresh_pilot(user, workspace, number)
        seconds, first = send(client, secret, pilot.pk, batches)
        first_times.append(seconds)
        if first["created"] != n:
            raise SystemExit(f"the API did not create every case: {dict(first)}")
        seconds, again = send(client, secret, pilot.pk, batches)
        replay_times.append(seconds)
        if again["unchanged"] != n:
            raise SystemExit(f"the replay changed cases: {dict(again)}")
        if postgres:
            copyref.dump_cases("pilot_id = %s", (pilot.pk,), stored_rows)
            copy_times.append(
                copyref.copy_file(copyref.LIKE_CASES, stored_rows, columns=copyref.case_columns())
            )
    rate = n / statistics.median(first_times)
    replay = n / statistics.median(replay_times)
    routes = Counter(Case.objects.filter(pilot=pilot).values_list("route", flat=True))
    mix = ", ".join(f"{routes[r] / n:.1%} {r}" for r in ("automated", "sampled", "escalated", "rejected"))
    say(
        f"f. API ingest: {n:,} cases ({first['with_problems'] / n:.1%} with problems; {mix}) in batches of "
        f"{BATCH:,} through POST /api/v1/pilots/{{id}}/cases/batch, "
        f"{'PostgreSQL' if postgres else 'SQLite'}, median of {repetitions} runs"
    )
    result = {"rate": rate, "replay": replay, "replay_ratio": replay / rate}
    row("API, first pass", f"{rate:,.0f} cases/s", "all created: parse, validate, route, upsert, results")
    if postgres:
        reference = n / statistics.median(copy_times)
        ratio = rate / reference
        result.update(reference=reference, ratio=ratio)
        row("COPY of the same rows", f"{reference:,.0f} rows/s", "reference: the cases the API stored, into "
            "a table like pilots_case (same indexes)")  # fmt: skip
        row("ratio", f"{ratio:.3f}× COPY", f"target ≥ {TARGET_RATIO}×: {verdict(ratio >= TARGET_RATIO)}")
    else:
        row("COPY reference", "PostgreSQL only", "DATABASE_URL is not set: no ratio to COPY")
    row("API, replay", f"{replay:,.0f} cases/s", "same bodies, new Idempotency-Keys: all unchanged")
    row(
        "ratio",
        f"{replay / rate:.2f}× first pass",
        f"target ≥ {TARGET_REPLAY:g}×: {verdict(replay / rate >= TARGET_REPLAY)}",
    )
    if postgres:
        row("", f"{replay / reference:.3f}× COPY")
        copyref.drop(copyref.LIKE_CASES)
    if profiled:
        profile(client, secret, user, workspace, batches)
    return result
