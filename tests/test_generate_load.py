"""manage.py generate_load: counts, a standard for every pilot, and cases with realistic problems."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count

from pilots.models import CONFORMING, AIVersion, AuditEvent, Case, InputStandard, Pilot, Stage
from pilots.validation import Validator

PILOTS, CASES = 30, 3000


def generate(**options) -> str:
    out = StringIO()
    call_command("generate_load", pilots=PILOTS, cases=CASES, workspace="load-test", stdout=out, **options)
    return out.getvalue()


def assert_realistic_load() -> None:
    pilots = Pilot.objects.filter(workspace__slug="load-test")
    assert pilots.count() == PILOTS
    assert {p.stage for p in pilots} == set(Stage.values)
    cases = Case.objects.filter(pilot__in=pilots)
    assert cases.count() == CASES
    # Every pilot has a standard and two or three AI versions.
    assert InputStandard.objects.filter(pilot__in=pilots, version=1).count() == PILOTS
    versions = AIVersion.objects.filter(pilot__in=pilots).values("pilot").annotate(n=Count("id"))
    assert {row["n"] for row in versions} == {2, 3} and len(versions) == PILOTS
    # Roughly 5–15% of cases have problems, of every kind; the flags match the problems.
    share = cases.exclude(CONFORMING).count() / CASES
    assert 0.04 <= share <= 0.16
    for kind, flag in Case.PROBLEM_FLAGS.items():
        assert cases.filter(**{flag: True}).exists(), kind
    assert not cases.filter(CONFORMING).exclude(problems=[]).exists()
    # Stored problems are what the real validator finds in the stored inputs (sampled).
    standards = {s.pilot_id: s for s in InputStandard.objects.filter(pilot__in=pilots)}
    for case in cases.select_related("pilot__workspace")[::97]:
        validator = Validator(standards[case.pilot_id].spec(), zone=case.pilot.workspace.zone)
        checked = validator.check(case.inputs, case.outputs, received_at=case.received_at)
        assert {(f, k) for f, k, _m in checked.problems} == {(p["field"], p["kind"]) for p in case.problems}
    # Outcomes for some pilots' older cases, all three sources, one audit event for the run.
    assert cases.filter(decided_at__isnull=False, ai_version__isnull=False, cost__isnull=False).exists()
    assert set(cases.values_list("source", flat=True).distinct()) == {"upload", "api", "form"}
    assert AuditEvent.objects.filter(action="load.generated", workspace__slug="load-test").count() == 1


def test_it_builds_pilots_standards_and_cases(db):
    if connection.vendor == "postgresql":
        pytest.skip("test_it_copies_into_postgresql covers PostgreSQL")
    output = generate()
    assert_realistic_load()
    assert "rows/s" in output


def test_it_copies_into_postgresql(db, postgres):
    output = generate()
    assert_realistic_load()
    assert "on postgresql" in output and "rows/s" in output


def test_a_second_run_adds_to_the_same_workspace(db):
    generate(seed=1)
    generate(seed=2)
    assert Pilot.objects.filter(workspace__slug="load-test").count() == 2 * PILOTS
    assert Case.objects.filter(pilot__workspace__slug="load-test").count() == 2 * CASES


def test_it_refuses_no_pilots(db):
    with pytest.raises(CommandError, match="--pilots"):
        call_command("generate_load", pilots=0, cases=10, stdout=StringIO())
