"""Part h: the portfolio dashboard (issue 9) over 10,000 pilots and 2,000,000 cases.

The dashboard reads readiness snapshots only, so its time does not depend on the cases — but they are there,
as the issue asks: part d's (or g's) pilots and cases are reused when those parts ran in the same process,
and loaded otherwise; every pilot's snapshot is computed first (untimed). Then, in alternating runs through
Django's own request handling (django.test.Client, in-process: middleware, session, access, the dashboard's
reads and its template), the dashboard as a signed-in leader sees it, and a trivial view that reads one
row through the same stack. Targets: median server time at most 50 ms, and at most 80× the trivial view.
"""

import statistics
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import include, path

from bench.api import _host
from bench.measure import row, say
from bench.readiness import WORKSPACE, _load
from pilots.models import Case, Membership, Pilot, ReadinessSnapshot, Workspace
from pilots.services import portfolio, readiness

TARGET_MS = 50.0
TARGET_RATIO = 80.0


def one_row(request: HttpRequest) -> HttpResponse:
    """The reference: a view that reads one row, behind the same middleware as the dashboard."""
    return HttpResponse(Workspace.objects.filter(slug=WORKSPACE).values_list("name", flat=True).first())


urlpatterns = [path("bench/one-row/", one_row), path("", include("config.urls"))]


def _leader(workspace: Workspace):
    user, _ = get_user_model().objects.get_or_create(username="bench-leader", defaults={"first_name": "Lea"})
    membership = Membership.objects.filter(workspace=workspace, user=user).first() or Membership(
        workspace=workspace, user=user
    )
    membership.set_roles({"leader"})
    membership.save()
    return user


def _time(client: Client, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"h: {url} answered {response.status_code}")
    return elapsed


def run(*, quick: bool, repetitions: int, pilots: int | None, cases: int | None) -> dict:
    pilots = pilots or (100 if quick else 10_000)
    cases = cases if cases is not None else (10_000 if quick else 2_000_000)
    loaded = _load(pilots, cases)
    workspace = Workspace.objects.get(slug=WORKSPACE)
    if (
        ReadinessSnapshot.objects.filter(workspace=workspace).count()
        != Pilot.objects.filter(workspace=workspace).count()
    ):
        readiness.recompute_all()  # untimed: every pilot has its snapshot, as after the first night
    if connection.vendor == "postgresql":  # what autovacuum does soon after the night's writes (untimed)
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {ReadinessSnapshot._meta.db_table}")
    portfolio.record_week(workspace=workspace)
    client = Client(SERVER_NAME=_host())
    client.force_login(_leader(workspace))
    dashboard = f"/w/{workspace.slug}/portfolio/"
    filtered = f"{dashboard}?business_unit=" + (
        ReadinessSnapshot.objects.filter(workspace=workspace)
        .exclude(business_unit="")
        .values_list("business_unit", flat=True)
        .first()
        or ""
    )
    reference = "/bench/one-row/"
    runs = max(repetitions * 6, 15)
    # The static files' manifest comes with collectstatic in production; the bench has none to read.
    plain_static = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(ROOT_URLCONF=__name__, STORAGES=plain_static):
        for url in (dashboard, filtered, reference):  # warm: templates compiled, connection open
            _time(client, url)
        queries = []  # counted by a wrapper: each request resets connection.queries
        with connection.execute_wrapper(
            lambda execute, sql, *args: queries.append(sql) or execute(sql, *args)
        ):
            _time(client, dashboard)
        page, narrow, trivial = [], [], []
        for _ in range(runs):
            page.append(_time(client, dashboard))
            narrow.append(_time(client, filtered))
            trivial.append(_time(client, reference))
    ms = statistics.median(page) * 1000
    filtered_ms = statistics.median(narrow) * 1000
    reference_ms = statistics.median(trivial) * 1000
    ratio = ms / reference_ms
    say(
        f"h. portfolio dashboard: {Pilot.objects.filter(workspace=workspace).count():,} pilots, "
        f"{Case.objects.count():,} cases, median of {runs} requests each"
    )
    row("dashboard", f"{ms:.1f} ms", f"{len(queries)} queries; target ≤ {TARGET_MS:g} ms: "
        f"{_ok(ms <= TARGET_MS)}")  # fmt: skip
    row("dashboard, one business unit", f"{filtered_ms:.1f} ms", "the htmx filter's full page")
    row("one-row view", f"{reference_ms:.2f} ms", "reference: the same stack, one row read")
    row("ratio", f"{ratio:.1f}× one-row view", f"target ≤ {TARGET_RATIO:g}×: {_ok(ratio <= TARGET_RATIO)}")
    if loaded:
        row("generate_load", f"{loaded:.1f} s", "untimed setup")
    return {"ms": ms, "reference_ms": reference_ms, "ratio": ratio, "queries": len(queries)}


def _ok(good: bool) -> str:
    return "ok" if good else "OVER TARGET"
