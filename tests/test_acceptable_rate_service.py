"""The pilot's acceptable correction rate (pilots.services.standards.set_acceptable_correction_rate): the
hub's target that feedback.learning_verdict reads for "flat but good enough"."""

import pytest
from django.core.exceptions import ValidationError

from pilots.models import AuditEvent, Pilot
from pilots.services import standards
from tests import factories


def stored(pilot) -> float:
    return Pilot.objects.get(pk=pilot.pk).acceptable_correction_rate


def test_a_pilot_starts_at_five_percent(team):
    assert stored(team.pilot) == 0.05


def test_the_rate_is_set_with_an_audit_event(team):
    pilot = standards.set_acceptable_correction_rate(pilot=team.pilot, actor=team.pm, rate=0.12)
    assert pilot.acceptable_correction_rate == stored(team.pilot) == 0.12
    event = AuditEvent.objects.get(action="pilot.acceptable_correction_rate_set")
    assert (event.actor, event.pilot, event.before, event.after) == (
        team.pm,
        team.pilot,
        {"acceptable_correction_rate": 0.05},
        {"acceptable_correction_rate": 0.12},
    )


@pytest.mark.parametrize("rate", [0, 0.0, 0.5])
def test_the_bounds_are_allowed(team, rate):
    standards.set_acceptable_correction_rate(pilot=team.pilot, actor=team.pm, rate=rate)
    assert stored(team.pilot) == rate


@pytest.mark.parametrize("rate", [-0.01, 0.5001, 1, 5, float("nan"), float("inf"), float("-inf")])
def test_a_rate_outside_0_to_50_percent_is_refused_and_changes_nothing(team, rate):
    standards.set_acceptable_correction_rate(pilot=team.pilot, actor=team.pm, rate=0.1)
    with pytest.raises(ValidationError) as refused:
        standards.set_acceptable_correction_rate(pilot=team.pilot, actor=team.pm, rate=rate)
    assert refused.value.message_dict == {"acceptable_correction_rate": ["Give a share between 0% and 50%."]}
    assert stored(team.pilot) == 0.1
    assert AuditEvent.objects.filter(action="pilot.acceptable_correction_rate_set").count() == 1


def test_setting_the_same_rate_again_leaves_no_event(team):
    standards.set_acceptable_correction_rate(pilot=team.pilot, actor=team.pm, rate=0.05)
    assert not AuditEvent.objects.filter(action="pilot.acceptable_correction_rate_set").exists()


def test_the_rate_is_the_pilots_own(team):
    other = factories.PilotFactory(
        workspace=team.workspace, program_manager=team.pm, workflow_owner=team.owner
    )
    standards.set_acceptable_correction_rate(pilot=team.pilot, actor=team.pm, rate=0.3)
    assert (stored(team.pilot), stored(other)) == (0.3, 0.05)
