"""Readiness arithmetic (DESIGN.md "Readiness"): section shares, the weakest section, "not yet due"."""

import pytest

from pilots import checks, scoring
from pilots.checks import ATTESTED, MISSING, NOT_DUE, VERIFIED, Evidence, Result


@pytest.fixture
def only_these_checks(monkeypatch):
    """Replace the registry by two checks per section, so the arithmetic is seen alone."""
    registry = {}
    for section in checks.SECTIONS:
        for n, gate in enumerate(("define_success", "production")):
            check_id = f"{section}.{n}"
            registry[check_id] = checks.Check(
                id=check_id, section=section, title=f"{section} {n}", gate=gate, attestable=True,
                evaluate=lambda ids: {},
            )  # fmt: skip
    monkeypatch.setattr(checks, "_registry", registry)
    return registry


def results(**statuses) -> dict[str, Result]:
    """results(value_0=1, value_1=0.5, …) → {"value.0": Result(1), …}"""
    out = {}
    for key, status in statuses.items():
        section, _, n = key.rpartition("_")
        out[f"{section}.{n}"] = Result(status, Evidence("x"), f"raise {key}")
    return out


def all_verified() -> dict:
    return {f"{section}_{n}": VERIFIED for section in checks.SECTIONS for n in (0, 1)}


def test_a_pilot_with_every_check_verified_scores_100(only_these_checks):
    readiness = scoring.score(results(**all_verified()))
    assert readiness.score == 100
    assert readiness.failing == []
    assert [s.score for s in readiness.sections] == [100] * 6


def test_readiness_is_the_weakest_section_not_the_average(only_these_checks):
    statuses = all_verified() | {"trust_0": MISSING, "learning_0": ATTESTED}
    readiness = scoring.score(results(**statuses))
    by_key = {s.section: s for s in readiness.sections}
    assert by_key["trust"].score == 50 and by_key["learning"].score == 75
    assert readiness.weakest == "trust"
    assert readiness.score == 50  # the average of the sections would be 87.5


def test_an_attested_check_scores_half(only_these_checks):
    statuses = all_verified() | {"value_0": ATTESTED, "value_1": ATTESTED}
    readiness = scoring.score(results(**statuses))
    assert readiness.score == 50 and readiness.weakest == "value"


def test_checks_not_yet_due_are_left_out_and_a_section_without_due_checks_is_not_yet_due(only_these_checks):
    statuses = all_verified() | {
        "value_1": NOT_DUE,  # value: one due check, verified → 100
        "trust_0": NOT_DUE,
        "trust_1": NOT_DUE,  # trust: nothing due
        "learning_1": NOT_DUE,
        "learning_0": MISSING,  # learning: its one due check is missing → 0
    }
    readiness = scoring.score(results(**statuses))
    by_key = {s.section: s for s in readiness.sections}
    assert by_key["value"].score == 100 and by_key["value"].due == 1
    assert by_key["trust"].score is None and by_key["trust"].due == 0 and by_key["trust"].total == 2
    assert readiness.weakest == "learning" and readiness.score == 0
    assert [c.id for c, _r in readiness.failing] == ["learning.0"]  # a not-yet-due check never fails


def test_nothing_due_gives_no_score():
    assert scoring.score({}).score is None
    assert scoring.score({}).weakest == ""


def test_ties_go_to_the_section_read_first(only_these_checks):
    statuses = all_verified() | {"integration_0": MISSING, "edge_cases_1": MISSING}
    readiness = scoring.score(results(**statuses))
    assert readiness.weakest == "edge_cases"  # before integration in the order people read


def test_failing_checks_list_the_weakest_section_first_and_missing_before_attested(only_these_checks):
    statuses = all_verified() | {
        "ownership_0": ATTESTED,  # ownership 75
        "value_0": ATTESTED,
        "value_1": MISSING,  # value 25: the weakest
        "trust_1": MISSING,  # trust 50
    }
    readiness = scoring.score(results(**statuses))
    assert [c.id for c, _r in readiness.failing] == ["value.1", "value.0", "trust.1", "ownership.0"]
    assert readiness.failing[0][1].next_action == "raise value_1"


def test_scores_round_half_up():
    assert scoring.percent(2 / 3) == 67
    assert scoring.percent(0.125) == 13  # round() would give 12
    assert scoring.percent(0.835) == 84
