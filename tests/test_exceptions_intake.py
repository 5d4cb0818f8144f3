"""Routing at intake (exceptions.intake, called by the hub's pilots.services.intake.ingest) and the backfill
of stored cases: route, rule version, clause and decided_at per DESIGN.md "Contracts: Case"."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from exceptions.models import Escalation
from exceptions.services import queue, routing, rules
from pilots.models import AuditEvent, Case
from pilots.services import intake, standards
from pilots.services.intake import Arrival

SPEC = {
    "inputs": [
        {"name": "amount", "type": "number", "required": True},
        {"name": "channel", "type": "enum", "allowed": ["web", "phone"], "required": True},
    ],
    "outputs": [{"name": "category", "type": "enum", "allowed": ["glass", "theft"]}],
}
TABLE = [
    {"name": "Broken", "clauses": [{"field": "problems.missing", "op": "is_true"}], "action": "reject"},
    {
        "name": "Large",
        "clauses": [{"field": "inputs.amount", "op": "gt", "value": "10000"}],
        "action": "escalate",
        "service_level_hours": "24",
    },
    {
        "name": "Tiny",
        "clauses": [{"field": "inputs.amount", "op": "lt", "value": "10"}],
        "action": "automate",
        "sample_percent": "100",
        "service_level_hours": "8",
    },
    {"clauses": [], "action": "automate"},
]
RECEIVED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OWN_DECISION = datetime(2026, 3, 1, 17, 30, tzinfo=UTC)


@pytest.fixture
def standard(team):
    return standards.publish_standard(pilot=team.pilot, actor=team.pm, spec=SPEC)


@pytest.fixture
def ready(team, standard):
    return rules.publish_rules(pilot=team.pilot, rules=TABLE, actor=team.pm).table


def arrival(external_id: str, amount="100", channel="web", category="glass", **outcome) -> Arrival:
    inputs = {"amount": amount, "channel": channel}
    return Arrival(
        external_id=external_id,
        inputs={k: v for k, v in inputs.items() if v is not None},
        outputs={"category": category},
        received_at=RECEIVED.isoformat(),
        outcome=outcome,
    )


MIXED = [
    ("broken", {"channel": None}),
    ("big", {"amount": "20000"}),
    ("tiny", {"amount": "5"}),
    ("plain", {}),
]


def mixed() -> list[Arrival]:
    return [arrival(x, **changes) for x, changes in MIXED]


def ingest(team, arrivals):
    return intake.ingest(pilot=team.pilot, arrivals=arrivals, source="upload", actor=team.pm)


def cases() -> dict[str, Case]:
    return {case.external_id: case for case in Case.objects.all()}


def test_intake_routes_each_case_and_records_version_clause_and_decided_at(team, ready):
    result = ingest(team, mixed())
    assert result.counts["created"] == 4
    found = {x: (c.route, c.rule_version, c.rule_clause, c.decided_at) for x, c in cases().items()}
    assert found == {
        # Reject and automate decide the case when it is received; an escalation waits for its reviewer.
        "broken": ("rejected", 1, "#1 Broken: problems.missing is true", RECEIVED),
        "big": ("escalated", 1, "#2 Large: inputs.amount > 10000", None),
        "tiny": ("sampled", 1, "#3 Tiny: inputs.amount < 10", RECEIVED),
        "plain": ("automated", 1, "#4 every other case (default)", RECEIVED),
    }
    escalations = {e.case.external_id: e for e in Escalation.objects.select_related("case", "rule")}
    assert set(escalations) == {"big", "tiny"}
    big, tiny = escalations["big"], escalations["tiny"]
    assert (big.reason, big.rule.position, big.received_at, big.due_at) == (
        "escalated",
        2,
        RECEIVED,
        RECEIVED + timedelta(hours=24),
    )
    # An audit sample waits under its rule's service level.
    assert (tiny.reason, tiny.rule.position, tiny.due_at) == ("sampled", 3, RECEIVED + timedelta(hours=8))
    assert big.decided_at is None and big.claimed_by is None and big.reviewer is None


def test_a_sample_without_a_service_level_waits_seventy_two_hours(team, standard):
    rules.publish_rules(
        pilot=team.pilot,
        rules=[{"clauses": [], "action": "automate", "sample_percent": "100"}],
        actor=team.pm,
    )
    ingest(team, [arrival("c1")])
    assert Escalation.objects.get().due_at == RECEIVED + timedelta(hours=72)


def test_an_escalation_to_a_named_reviewer_waits_for_them(team, standard):
    named = {**TABLE[1], "reviewer": team.reviewer.pk}
    rules.publish_rules(pilot=team.pilot, rules=[named, TABLE[-1]], actor=team.pm)
    ingest(team, [arrival("big", amount="20000")])
    assert Escalation.objects.get().reviewer == team.reviewer


def test_a_decided_at_from_the_pilots_own_system_is_kept(team, ready):
    own = OWN_DECISION.isoformat()
    ingest(
        team,
        [
            arrival("plain", decided_at=own),
            arrival("broken", channel=None, decided_at=own),
            arrival("big", amount="20000", decided_at=own),
            arrival("tiny", amount="5", decided_at=own),
        ],
    )
    found = {x: (c.route, c.decided_at) for x, c in cases().items()}
    assert found == {
        "plain": ("automated", OWN_DECISION),
        "broken": ("rejected", OWN_DECISION),
        "big": ("escalated", OWN_DECISION),
        "tiny": ("sampled", OWN_DECISION),
    }
    # The pilot's system decided the escalated case already: it does not wait for a reviewer.
    # The audit sample is still reviewed.
    assert [e.case.external_id for e in Escalation.objects.select_related("case")] == ["tiny"]


def test_resending_an_identical_batch_is_unchanged_never_a_conflict(team, ready):
    ingest(team, mixed())
    before = {x: (c.route, c.decided_at, c.updated_at) for x, c in cases().items()}
    escalations = set(Escalation.objects.values_list("id", flat=True))
    again = ingest(team, mixed())
    assert again.counts["unchanged"] == 4 and not again.conflicts
    assert set(again.outcomes.values()) == {"unchanged"}
    assert {x: (c.route, c.decided_at, c.updated_at) for x, c in cases().items()} == before
    assert set(Escalation.objects.values_list("id", flat=True)) == escalations


def test_resending_is_unchanged_after_a_review_and_after_the_rules_changed(team, ready):
    ingest(team, mixed())
    big = Escalation.objects.get(case__external_id="big")
    queue.decide(escalation_id=big.pk, reviewer=team.reviewer, outcome="approve", rationale="ok")
    rules.publish_rules(pilot=team.pilot, rules=[TABLE[0], TABLE[-1]], actor=team.pm)
    again = ingest(team, mixed())
    assert again.counts["unchanged"] == 4 and not again.conflicts
    assert {c.rule_version for c in cases().values()} == {1}  # routed once, by the version of the time


def test_a_changed_undecided_escalated_case_is_rerouted(team, ready):
    ingest(team, [arrival("c1", amount="20000")])
    first = Escalation.objects.get()
    # Still large: still escalated, with a fresh escalation (its rule might have changed too).
    rules.publish_rules(
        pilot=team.pilot, rules=[TABLE[0], {**TABLE[1], "name": "Big"}, TABLE[-1]], actor=team.pm
    )
    result = ingest(team, [arrival("c1", amount="30000")])
    assert result.outcomes == {"c1": "updated"}
    case = Case.objects.get()
    assert (case.route, case.rule_version, case.rule_clause, case.decided_at) == (
        "escalated",
        2,
        "#2 Big: inputs.amount > 10000",
        None,
    )
    second = Escalation.objects.get()
    assert second.pk != first.pk and second.rule.table.version == 2
    # Now small: automated and decided; it no longer waits.
    result = ingest(team, [arrival("c1", amount="50")])
    assert result.outcomes == {"c1": "updated"}
    case = Case.objects.get()
    assert (case.route, case.decided_at, case.rule_clause) == (
        "automated",
        RECEIVED,
        "#3 every other case (default)",
    )
    assert not Escalation.objects.exists()


def test_a_changed_decided_case_is_a_conflict_and_keeps_its_route(team, ready):
    ingest(team, mixed())
    big = Escalation.objects.get(case__external_id="big")
    queue.decide(escalation_id=big.pk, reviewer=team.reviewer, outcome="approve", rationale="ok")
    before = {x: (c.route, c.decided_at, c.inputs) for x, c in cases().items()}
    result = ingest(team, [arrival(x, **(changes | {"category": "theft"})) for x, changes in MIXED])
    assert result.counts["conflict"] == 4 and sorted(result.conflicts) == ["big", "broken", "plain", "tiny"]
    assert {x: (c.route, c.decided_at, c.inputs) for x, c in cases().items()} == before
    assert Escalation.objects.count() == 2


def test_a_batchs_query_count_does_not_grow_with_its_size(team, ready):
    def ingest_counted(prefix: str, n: int) -> tuple[int, int]:
        arrivals = [arrival(f"{prefix}{i}", **MIXED[i % len(MIXED)][1]) for i in range(n)]
        with CaptureQueriesContext(connection) as ctx:
            ingest(team, arrivals)
        # SQLite (development only) stores through the ORM, whose inserts split past 999 parameters;
        # PostgreSQL copies any batch in one statement.
        chunks = sum(
            q["sql"].startswith(f'INSERT INTO "{Case._meta.db_table}"') for q in ctx.captured_queries
        )
        return len(ctx), chunks

    ingest_counted("warm", 1)  # the first batch compiles the table (once per version and process)
    small, small_chunks = ingest_counted("a", 5)
    large, large_chunks = ingest_counted("b", 50)
    assert Escalation.objects.filter(case__external_id__regex=r"^[ab]\d").count() == 2 + 25
    if connection.vendor == "postgresql":
        assert large == small
    else:
        assert large - large_chunks == small - small_chunks


def test_cases_a_concurrent_upload_stored_meanwhile_stand_and_keep_their_escalations(
    team, ready, postgres, monkeypatch
):
    """Another upload stored some of these external ids after this batch looked them up: the fast COPY
    clashes, the staging path keeps the other upload's rows, stores the rest, and opens escalations for
    this batch's own rows only."""
    ingest(team, [arrival(f"big{i}", amount="20000") for i in range(60)])
    before = dict(Escalation.objects.values_list("case__external_id", "id"))
    monkeypatch.setattr(intake.case_store, "existing", lambda pilot_id, external_ids: {})
    result = ingest(
        team,
        [arrival(f"big{i}", amount="30000") for i in range(60)]
        + [arrival(f"new{i}", amount="20000") for i in range(60)],
    )
    assert result.counts["created"] == 120  # what this batch saw when it looked
    assert Case.objects.filter(external_id__startswith="big", inputs__amount=20000).count() == 60
    assert Case.objects.filter(external_id__startswith="new").count() == 60
    after = dict(Escalation.objects.values_list("case__external_id", "id"))
    assert {x: after[x] for x in before} == before and len(after) == 120


def test_a_table_published_while_a_batch_is_stored_leaves_no_escalated_case_without_its_escalation(
    team, ready, monkeypatch
):
    """The escalations follow the rules that routed the batch, even when a new table is published between
    the routing and the store (here: by an injected call, as a concurrent request would)."""
    store = intake.case_store.store

    def publish_then_store(creates, updates):
        rules.publish_rules(pilot=team.pilot, rules=[{"clauses": [], "action": "automate"}], actor=team.pm)
        return store(creates, updates)

    monkeypatch.setattr(intake.case_store, "store", publish_then_store)
    ingest(team, [arrival("big", amount="20000"), arrival("tiny", amount="5")])
    escalations = {e.case.external_id: (e.reason, e.rule.table.version) for e in Escalation.objects.all()}
    assert cases()["big"].route == "escalated" and cases()["big"].rule_version == 1
    assert escalations == {"big": ("escalated", 1), "tiny": ("sampled", 1)}


def test_opening_the_same_escalations_again_keeps_the_first(team, ready):
    """A redelivered batch (or the demo's replay) opens nothing twice, on the COPY path (≥ 50 rows) too."""
    ingest(team, [arrival(f"big{i}", amount="20000") for i in range(60)])
    first = dict(Escalation.objects.values_list("case_id", "id"))
    rule_by_id = {rule.id: rule for rule in routing.current_compiled(team.pilot).rules}
    rule_of = {
        case_id: rule_by_id[rule_id]
        for case_id, rule_id in Escalation.objects.values_list("case_id", "rule_id")
    }
    drafts = [
        intake.Draft(
            arrival=None,
            values={
                "external_id": c.external_id,
                "received_at": c.received_at,
                "route": c.route,
                "rule": rule_of[c.pk],
            },
            problems=[],
            case_id=c.pk,
        )
        for c in Case.objects.order_by("id")
    ]
    routing.open_escalations(team.pilot, drafts, {d.external_id: "created" for d in drafts})
    assert dict(Escalation.objects.values_list("case_id", "id")) == first


# --- the backfill of stored cases ---


def test_backfill_routes_stored_cases_once_and_opens_escalations(team, standard):
    ingest(
        team,
        [
            *mixed(),
            arrival("own", amount="20000", decided_at=OWN_DECISION.isoformat()),
            arrival("own-plain", decided_at=OWN_DECISION.isoformat()),
        ],
    )
    assert set(Case.objects.values_list("route", flat=True)) == {""}
    assert routing.unrouted_count(team.pilot) == 6
    rules.publish_rules(pilot=team.pilot, rules=TABLE, actor=team.pm)
    now = RECEIVED + timedelta(days=3)
    assert routing.route_stored_cases(pilot_id=team.pilot.pk, actor=team.pm, now=now) == 6
    found = {x: (c.route, c.rule_version, c.decided_at) for x, c in cases().items()}
    assert found == {
        "broken": ("rejected", 1, now),  # routed by its stored problems
        "big": ("escalated", 1, None),
        "tiny": ("sampled", 1, now),
        "plain": ("automated", 1, now),
        "own": ("escalated", 1, OWN_DECISION),  # decided by the pilot's system: kept, and not queued
        "own-plain": ("automated", 1, OWN_DECISION),
    }
    assert Case.objects.get(external_id="big").rule_clause == "#2 Large: inputs.amount > 10000"
    waiting = {e.case.external_id: (e.reason, e.received_at, e.due_at) for e in Escalation.objects.all()}
    assert waiting == {
        "big": ("escalated", now, now + timedelta(hours=24)),
        "tiny": ("sampled", now, now + timedelta(hours=8)),
    }
    event = AuditEvent.objects.get(action="cases.routed")
    assert event.actor == team.pm and event.after == {"cases": 6, "rule_version": 1}
    # Idempotent: a second run routes nothing and records nothing.
    assert routing.route_stored_cases(pilot_id=team.pilot.pk, actor=team.pm, now=now) == 0
    assert routing.unrouted_count(team.pilot) == 0
    assert Escalation.objects.count() == 2
    assert AuditEvent.objects.filter(action="cases.routed").count() == 1


def test_backfill_leaves_routed_cases_alone(team, ready):
    ingest(team, mixed())
    before = {x: (c.route, c.rule_version, c.decided_at) for x, c in cases().items()}
    rules.publish_rules(pilot=team.pilot, rules=[{"clauses": [], "action": "reject"}], actor=team.pm)
    assert routing.route_stored_cases(pilot_id=team.pilot.pk, actor=team.pm) == 0
    assert {x: (c.route, c.rule_version, c.decided_at) for x, c in cases().items()} == before


def test_backfill_works_in_batches(team, standard, monkeypatch):
    monkeypatch.setattr(routing, "BACKFILL_BATCH", 3)
    ingest(team, [arrival(f"c{i}", amount="20000") for i in range(8)])
    rules.publish_rules(pilot=team.pilot, rules=TABLE, actor=team.pm)
    assert routing.route_stored_cases(pilot_id=team.pilot.pk) == 8
    assert Escalation.objects.count() == 8
    assert AuditEvent.objects.get(action="cases.routed").after["cases"] == 8


# --- no rules ---


def test_without_rules_cases_are_stored_unrouted(team, standard):
    result = ingest(team, mixed())
    assert result.counts["created"] == 4
    assert {(c.route, c.rule_version, c.rule_clause, c.decided_at) for c in cases().values()} == {
        ("", None, "", None)
    }
    assert not Escalation.objects.exists()
    assert routing.route_stored_cases(pilot_id=team.pilot.pk) == 0
    assert not AuditEvent.objects.filter(action="cases.routed").exists()
