"""Step 3's part of `seed_demo`: rules on the pilots from exception_paths on, every case routed, a queue of
real waiting cases, months of reviewer decisions made through the services, and advice worth taking."""

import io

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from exceptions.models import Decision, Escalation, RoutingRule, RuleTable, Suggestion
from exceptions.services.refinement import AUTOMATE_AT, ESCALATE_AT
from pilots.models import AuditEvent, Case, Pilot, Stage

FROM_EXCEPTION_PATHS = (Stage.EXCEPTION_PATHS, Stage.FEEDBACK_LOOPS, Stage.PRODUCTION)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """One seed for the module (it takes seconds), rolled back after its last test; each test runs in a
    savepoint inside it, as TestCase.setUpTestData does."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def seeded(demo, db):
    return demo


def test_pilots_from_exception_paths_on_have_rules_routed_cases_a_queue_and_months_of_decisions(seeded):
    now = timezone.now()
    pilots = list(Pilot.objects.filter(stage__in=FROM_EXCEPTION_PATHS))
    assert len(pilots) >= 3
    assert not RuleTable.objects.exclude(pilot__in=pilots).exists()  # earlier pilots have no rules yet
    for pilot in pilots:
        rules = RoutingRule.objects.filter(table__pilot=pilot)
        assert {"automate", "escalate"} <= set(rules.values_list("action", flat=True)), pilot
        assert rules.filter(action="automate").exclude(sample_percent=0).exists()  # audit sampling on
        cases = Case.objects.filter(pilot=pilot)
        assert not cases.filter(route="").exists() and not cases.filter(rule_clause="").exists()
        assert {"automated", "escalated", "sampled"} <= set(cases.values_list("route", flat=True))
        assert not cases.exclude(route="escalated").filter(decided_at=None).exists()  # routing decides
        waiting = Escalation.objects.filter(pilot=pilot, decided_at=None)
        assert waiting.exists(), pilot
        assert not waiting.filter(received_at__gt=now).exists()
        decided = sorted(Decision.objects.filter(pilot=pilot).values_list("decided_at", flat=True))
        assert (decided[-1] - decided[0]).days >= 60 and decided[-1] <= now, pilot
    # Waiting: escalated cases and audit samples, within their service level and past it.
    waiting = Escalation.objects.filter(decided_at=None)
    assert {"escalated", "sampled"} == set(waiting.values_list("reason", flat=True))
    assert waiting.filter(due_at__gt=now).exists() and waiting.filter(due_at__lt=now).exists()


def test_decisions_went_through_the_services(seeded):
    decisions = Decision.objects.all()
    assert decisions.count() == Escalation.objects.exclude(decided_at=None).count()
    assert AuditEvent.objects.filter(action="case.reviewed").count() == decisions.count()
    assert set(decisions.values_list("outcome", flat=True)) == {"approve", "override", "reject"}
    assert not decisions.filter(decided_at__lt=F("escalation__received_at")).exists()
    assert not decisions.filter(escalation__decided_at__isnull=True).exists()
    # An escalated case is decided when its reviewer decides; every reviewed case counts a touchpoint.
    escalated = decisions.filter(escalation__reason="escalated")
    assert not escalated.exclude(case__decided_at=F("decided_at")).exists()
    assert not decisions.filter(case__touchpoints=0).exists()
    overrides = decisions.filter(outcome="override")
    assert not overrides.filter(corrected_outputs={}).exists()
    assert not overrides.filter(case__corrected=False).exists()
    # The pilot's reviewers and its workflow owner decide; a rule naming a reviewer gets that reviewer.
    assert decisions.values("reviewer").distinct().count() >= 3
    assert (
        not decisions.exclude(escalation__reviewer=None).exclude(reviewer=F("escalation__reviewer")).exists()
    )


def test_refinement_has_useful_advice_with_a_lower_bound_that_clears_the_threshold(seeded):
    suggestions = Suggestion.objects.filter(state=Suggestion.State.OPEN).select_related("rule")
    assert set(suggestions.values_list("pilot__stage", flat=True)) <= set(FROM_EXCEPTION_PATHS)
    automate = [s for s in suggestions if s.kind == Suggestion.Kind.AUTOMATE]
    assert automate and all(s.rule.action == "escalate" and s.lower_bound >= AUTOMATE_AT for s in automate)
    assert max(s.reviewed for s in automate) >= 100  # ~98% approved unchanged over 100+ decisions
    escalate = [s for s in suggestions if s.kind == Suggestion.Kind.ESCALATE]
    assert all(s.rule.action == "automate" and s.lower_bound >= ESCALATE_AT for s in escalate)
    # Every pilot from exception_paths on has advice waiting for its program manager.
    advised = set(suggestions.values_list("pilot", flat=True))
    assert advised == set(Pilot.objects.filter(stage__in=FROM_EXCEPTION_PATHS).values_list("pk", flat=True))


def test_seeding_twice_changes_nothing(seeded):
    def counts():
        return (
            RuleTable.objects.count(),
            Case.objects.exclude(route="").count(),
            Escalation.objects.filter(decided_at=None).count(),
            Decision.objects.count(),
            Suggestion.objects.count(),
            AuditEvent.objects.count(),
            list(Case.objects.order_by("pk").values_list("pk", "decided_at", "touchpoints")),
        )

    before = counts()
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert counts() == before
    assert "routing rules already" in out.getvalue()
