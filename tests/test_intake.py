"""The intake pipeline: validate → intake hooks → one upsert, with the Contracts' rule for decided cases."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pilots.models import AuditEvent, Case
from pilots.services import intake, standards
from pilots.services.intake import Arrival

SPEC = {
    "inputs": [
        {"name": "amount", "type": "number", "required": True, "min": 0},
        {"name": "channel", "type": "enum", "allowed": ["web", "phone"], "required": True},
        {"name": "phone", "type": "string"},
        {"name": "happened_at", "type": "datetime", "required": True},
    ],
    "outputs": [{"name": "category", "type": "enum", "allowed": ["glass", "theft"]}],
    "rules": [{"kind": "requires", "if_field": "channel", "equals": "phone", "then_field": "phone"}],
    "event_time_field": "happened_at",
    "max_lateness_hours": 48,
}
NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def standard(team):
    return standards.publish_standard(pilot=team.pilot, actor=team.pm, spec=SPEC)


def arrival(external_id, **inputs):
    values = {"amount": "120.5", "channel": "web", "happened_at": "2026-11-01T10:00:00+00:00"} | inputs
    return Arrival(
        external_id=external_id, inputs=values, outputs={"category": "glass"}, received_at=NOW.isoformat()
    )


def ingest(team, arrivals, source="upload"):
    return intake.ingest(pilot=team.pilot, arrivals=arrivals, source=source, actor=team.pm)


def test_cases_are_stored_with_their_problems_and_flags(team, standard):
    result = ingest(
        team,
        [
            arrival("ok"),
            arrival("missing", amount=""),
            arrival("phone-without-number", channel="phone"),
            arrival("late", happened_at="2026-10-20T10:00:00+00:00"),
            arrival("extra", colour="red"),
        ],
    )
    assert result.counts["created"] == 5
    assert result.counts["with_problems"] == 4
    cases = {c.external_id: c for c in Case.objects.all()}
    assert cases["ok"].problems == [] and cases["ok"].conforms
    assert cases["ok"].inputs == {
        "amount": 120.5,
        "channel": "web",
        "happened_at": "2026-11-01T10:00:00+00:00",
    }
    assert cases["ok"].event_at == datetime(2026, 11, 1, 10, tzinfo=UTC)
    assert cases["ok"].standard_version == standard.version
    assert cases["missing"].has_missing and cases["missing"].problems[0]["field"] == "inputs.amount"
    assert cases["phone-without-number"].has_contradictory
    assert cases["late"].has_late
    assert cases["extra"].has_outside_boundary and cases["extra"].inputs["colour"] == "red"
    assert result.field_errors["inputs.amount: missing"] == 1
    assert AuditEvent.objects.filter(action="cases.ingested").count() == 1


def test_the_same_batch_twice_stores_each_case_once(team, standard):
    batch = [arrival(f"c{i}") for i in range(20)]
    ingest(team, batch)
    again = ingest(team, batch)
    assert again.counts == {"unchanged": 20}
    assert Case.objects.count() == 20


def test_changed_content_updates_an_undecided_case(team, standard):
    ingest(team, [arrival("c1")])
    result = ingest(team, [arrival("c1", amount="99")])
    assert result.counts == {"updated": 1}
    assert Case.objects.get().inputs["amount"] == 99


def test_a_decided_case_is_never_overwritten(team, standard):
    decided = arrival("c1")
    decided.outcome = {
        "decided_at": "2026-11-02T09:00:00+00:00",
        "corrected": "no",
        "touchpoints": "2",
        "cost": "12.50",
    }
    ingest(team, [decided])
    case = Case.objects.get()
    assert (case.touchpoints, case.cost, case.corrected) == (2, Decimal("12.50"), False)
    result = ingest(team, [arrival("c1", amount="5")])
    assert result.counts == {"conflict": 1}
    assert result.conflicts == ["c1"]
    case.refresh_from_db()
    assert case.inputs["amount"] == 120.5 and case.decided_at is not None


def test_the_outcome_columns_are_checked(team, standard):
    from pilots.services.standards import register_ai_version

    register_ai_version(pilot=team.pilot, actor=team.pm, identifier="v1", released_on=NOW.date())
    row = arrival("c1")
    row.outcome = {"ai_version": "v1", "cost": "-3", "touchpoints": "two", "corrected": "perhaps"}
    ingest(team, [row])
    case = Case.objects.get()
    assert case.ai_version.identifier == "v1"
    assert {p["field"] for p in case.problems} == {"cost", "touchpoints", "corrected"}
    row.outcome = {"ai_version": "v9"}
    ingest(team, [row])
    assert Case.objects.get().problems[0]["message"] == "AI version 'v9' is not registered for this pilot."


def test_a_row_without_external_id_is_reported_not_stored(team, standard):
    result = ingest(team, [arrival(""), arrival("ok")])
    assert result.counts["rejected"] == 1 and result.counts["created"] == 1
    assert Case.objects.count() == 1


def test_without_a_standard_cases_are_kept_unvalidated(team):
    ingest(team, [arrival("c1")])
    case = Case.objects.get()
    assert case.standard_version is None and case.problems == []


def test_later_rows_of_a_batch_win(team, standard):
    ingest(team, [arrival("c1", amount="1"), arrival("c1", amount="2")])
    assert Case.objects.get().inputs["amount"] == 2


def test_a_batch_takes_a_fixed_number_of_queries(team, standard):
    def queries(n, offset):
        with CaptureQueriesContext(connection) as ctx:
            ingest(team, [arrival(f"c{offset + i}") for i in range(n)])
        return len(ctx)

    assert queries(5, 0) == queries(30, 100)  # (SQLite splits inserts past 999 parameters)


def test_intake_hooks_see_the_batch_before_it_is_stored(team, standard, monkeypatch):
    seen = []

    class Hook:
        @staticmethod
        def process_batch(*, pilot, drafts):
            seen.append([d.external_id for d in drafts])
            for draft in drafts:
                draft.values["route"] = "automated"
                draft.values["decided_at"] = NOW

    monkeypatch.setattr(intake, "app_modules", lambda name: [Hook] if name == "intake" else [])
    ingest(team, [arrival("a"), arrival("b")])
    assert seen == [["a", "b"]]
    assert set(Case.objects.values_list("route", flat=True)) == {"automated"}


def test_received_at_defaults_to_arrival_time(team, standard):
    row = arrival("c1")
    row.received_at = None
    ingest(team, [row])
    assert datetime.now(UTC) - Case.objects.get().received_at < timedelta(minutes=1)


@pytest.mark.parametrize(
    "value",
    [
        {},
        {"b": 1, "a": [1, 2.5, None, True, {"z": "ü", "y": "\u2028"}], "c": "Zürich 東京"},
        {"big": 2**70, "small": -0.0, "tiny": 1e-300, "huge": 1e16, "third": 1 / 3},
        {"nan": float("nan"), "inf": float("inf"), "neg": float("-inf")},
        {"amount": Decimal("10.50"), "at": datetime(2026, 3, 29, 1, 59, 59, 123456, tzinfo=UTC)},
        {"quote": 'say "hi"\\', "tab": "a\tb\n", "é": "é"},
    ],
)
def test_the_stored_json_text_is_what_json_dumps_gives(value):
    """The digest of every stored case is computed from this text: it must not change."""
    import json

    assert intake._encode_sorted(value) == json.dumps(value, sort_keys=True, default=str)


def test_moments_keep_their_instant_to_the_microsecond(team, standard):
    berlin = "2026-03-29T03:00:00.123456+02:00"  # just after the clocks went forward
    row = arrival("c1", happened_at="2026-03-29T01:59:59.999999+01:00")
    row.received_at, row.due_at = berlin, "2026-03-30T00:00:00.000001-05:00"
    row.outcome = {"decided_at": "2026-03-29T01:00:00.5+00:00"}
    ingest(team, [row])
    case = Case.objects.get()
    assert case.received_at == datetime(2026, 3, 29, 1, 0, 0, 123456, tzinfo=UTC)
    assert case.event_at == datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=UTC)
    assert case.due_at == datetime(2026, 3, 30, 5, 0, 0, 1, tzinfo=UTC)
    assert case.decided_at == datetime(2026, 3, 29, 1, 0, 0, 500000, tzinfo=UTC)


def test_an_update_keeps_moments_to_the_microsecond(team, standard):
    ingest(team, [arrival("c1")])
    row = arrival("c1", amount="99")
    row.received_at = "2026-11-02T13:00:00.000001+01:00"
    assert ingest(team, [row]).counts["updated"] == 1
    case = Case.objects.get()
    assert case.received_at == datetime(2026, 11, 2, 12, 0, 0, 1, tzinfo=UTC)
    assert case.updated_at > case.created_at


def test_a_resent_case_is_found_whatever_its_external_id_holds(team, standard):
    ids = ["a,b", "{c}", 'quote"d', "back\\slash", "Zürich 東京 😀", " NULL", "tab\tnew\nline"]
    assert ingest(team, [arrival(x) for x in ids]).counts["created"] == len(ids)
    again = ingest(team, [arrival(x) for x in ids])
    assert again.counts["unchanged"] == len(ids)
    assert again.outcomes == {x.strip(): "unchanged" for x in ids}
