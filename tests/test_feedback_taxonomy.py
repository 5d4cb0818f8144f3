"""A pilot's reason codes (feedback.services.taxonomy): the defaults created once, then added to, renamed
and retired by its program manager — never down to no reason at all, never twice the same reason."""

import pytest
from django.core.exceptions import ValidationError

from feedback.models import DEFAULT_REASONS, ReasonCode
from feedback.services import taxonomy
from pilots.models import AuditEvent
from tests import factories


def codes(pilot):
    return [
        (r.code, r.label, r.active) for r in ReasonCode.objects.filter(pilot=pilot).order_by("position", "id")
    ]


def events(action):
    return AuditEvent.objects.filter(action=action).count()


def test_the_defaults_are_created_once(team):
    first = taxonomy.ensure_taxonomy(team.pilot)
    assert [(r.code, r.label) for r in first] == DEFAULT_REASONS
    assert [r.position for r in first] == [0, 1, 2, 3, 4]
    again = taxonomy.ensure_taxonomy(team.pilot)
    assert again == first
    assert ReasonCode.objects.filter(pilot=team.pilot).count() == len(DEFAULT_REASONS)
    assert events("reason_codes.defaults_created") == 1


def test_each_pilot_has_its_own_taxonomy(team):
    other = factories.PilotFactory(
        workspace=team.workspace, program_manager=team.pm, workflow_owner=team.owner
    )
    taxonomy.ensure_taxonomy(team.pilot)
    taxonomy.add_reason(pilot=team.pilot, label="Ours only", actor=team.pm)
    assert [code for code, *_ in codes(other)] == []
    assert [r.code for r in taxonomy.ensure_taxonomy(other)] == [code for code, _ in DEFAULT_REASONS]


def test_a_reason_is_added_at_the_end_with_a_code_from_its_label(team):
    reason = taxonomy.add_reason(pilot=team.pilot, label="  Currency mix-up ", actor=team.pm)
    assert (reason.code, reason.label, reason.active) == ("currency_mix_up", "Currency mix-up", True)
    assert codes(team.pilot)[-1] == ("currency_mix_up", "Currency mix-up", True)
    assert len(codes(team.pilot)) == len(DEFAULT_REASONS) + 1  # the defaults came first
    event = AuditEvent.objects.get(action="reason_code.added")
    assert (event.actor, event.pilot, event.after) == (
        team.pm,
        team.pilot,
        {"code": "currency_mix_up", "label": "Currency mix-up"},
    )
    later = taxonomy.add_reason(pilot=team.pilot, label="Stale price list", actor=team.pm)
    assert later.position > reason.position


@pytest.mark.parametrize(
    "label", ["Wrong extraction", "wrong EXTRACTION", "Other", "other!", "Currency mix-up"]
)
def test_a_duplicate_reason_is_refused(team, label):
    taxonomy.add_reason(pilot=team.pilot, label="Currency mix-up", actor=team.pm)
    before = codes(team.pilot)
    with pytest.raises(ValidationError) as refused:
        taxonomy.add_reason(pilot=team.pilot, label=label, actor=team.pm)
    assert refused.value.message_dict == {"label": [f"“{label.strip()}” is in the taxonomy already."]}
    assert codes(team.pilot) == before
    assert events("reason_code.added") == 1


@pytest.mark.parametrize("label", ["", "   ", "!!!", "—"])
def test_a_reason_without_a_name_is_refused(team, label):
    taxonomy.ensure_taxonomy(team.pilot)
    before = codes(team.pilot)
    with pytest.raises(ValidationError) as refused:
        taxonomy.add_reason(pilot=team.pilot, label=label, actor=team.pm)
    assert list(refused.value.message_dict) == ["label"]
    assert codes(team.pilot) == before


def reason(team, code):
    return next(r for r in taxonomy.ensure_taxonomy(team.pilot) if r.code == code)


def test_a_reason_is_renamed_keeping_its_code(team):
    renamed = taxonomy.update_reason(
        reason=reason(team, "policy_changed"), label=" Policy or tariff changed ", active=True, actor=team.pm
    )
    assert (renamed.code, renamed.label, renamed.active) == (
        "policy_changed",
        "Policy or tariff changed",
        True,
    )
    event = AuditEvent.objects.get(action="reason_code.changed")
    assert (event.before, event.after) == (
        {"label": "Policy changed", "active": True},
        {"label": "Policy or tariff changed", "active": True},
    )


def test_renaming_to_another_reasons_label_is_refused(team):
    # Two reasons of one label would be one reason twice in the form, and one row in the learning view.
    other = reason(team, "other")
    before = codes(team.pilot)
    with pytest.raises(ValidationError) as refused:
        taxonomy.update_reason(reason=other, label="wrong extraction", actor=team.pm, active=True)
    assert refused.value.message_dict == {"label": ["“wrong extraction” is in the taxonomy already."]}
    assert codes(team.pilot) == before
    assert events("reason_code.changed") == 0


def test_adding_the_label_of_a_renamed_reason_is_refused(team):
    taxonomy.update_reason(reason=reason(team, "other"), label="Misc", active=True, actor=team.pm)
    before = codes(team.pilot)
    with pytest.raises(ValidationError) as refused:
        taxonomy.add_reason(pilot=team.pilot, label="misc", actor=team.pm)
    assert list(refused.value.message_dict) == ["label"]
    assert codes(team.pilot) == before


def test_renaming_a_reason_to_its_own_label_in_another_case_is_allowed(team):
    renamed = taxonomy.update_reason(reason=reason(team, "other"), label="OTHER", active=True, actor=team.pm)
    assert renamed.label == "OTHER"


def test_an_unchanged_reason_leaves_no_event(team):
    taxonomy.update_reason(reason=reason(team, "other"), label="Other", active=True, actor=team.pm)
    assert events("reason_code.changed") == 0


def test_a_reason_without_a_name_cannot_be_renamed(team):
    other = reason(team, "other")
    before = codes(team.pilot)
    with pytest.raises(ValidationError) as refused:
        taxonomy.update_reason(reason=other, label="  ", active=True, actor=team.pm)
    assert list(refused.value.message_dict) == ["label"]
    assert codes(team.pilot) == before


def test_a_retired_reason_stays_and_can_come_back(team):
    retired = taxonomy.update_reason(reason=reason(team, "input_defect"), label="Input defect", active=False,
                                     actor=team.pm)  # fmt: skip
    assert retired.active is False
    assert ("input_defect", "Input defect", False) in codes(team.pilot)
    back = taxonomy.update_reason(reason=retired, label="Input defect", active=True, actor=team.pm)
    assert back.active is True
    assert events("reason_code.changed") == 2


def test_the_last_active_reason_cannot_be_retired(team):
    found = taxonomy.ensure_taxonomy(team.pilot)
    for r in found[:-1]:
        taxonomy.update_reason(reason=r, label=r.label, active=False, actor=team.pm)
    last = found[-1]
    before = codes(team.pilot)
    with pytest.raises(ValidationError) as refused:
        taxonomy.update_reason(reason=last, label=last.label, active=False, actor=team.pm)
    assert refused.value.message_dict == {"active": ["Keep at least one reason in use."]}
    assert codes(team.pilot) == before
    # Renaming the last one while keeping it in use is fine.
    assert taxonomy.update_reason(reason=last, label="Anything else", active=True, actor=team.pm).active


def test_a_retired_reason_counts_as_taken_when_adding(team):
    taxonomy.update_reason(
        reason=reason(team, "input_defect"), label="Input defect", active=False, actor=team.pm
    )
    with pytest.raises(ValidationError):
        taxonomy.add_reason(pilot=team.pilot, label="Input defect", actor=team.pm)
