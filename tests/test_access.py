"""The role × action table, row by row, against an expected table written out by hand."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from pilots import access
from pilots.models import Membership
from tests import factories

STEP2 = (
    "edit_standard", "register_ai_version", "add_cases", "set_conformance_threshold",
    "edit_metrics", "edit_rules",
)  # fmt: skip
STEP4 = ("incorporate_corrections", "edit_reason_codes", "set_acceptable_correction_rate")

# persona → the actions it may take on `team.pilot` (whose workflow owner is `owner`).
EXPECTED = {
    "admin": {
        "view_portfolio",
        "view_workspace",
        "manage_members",
        "edit_workspace",
        "manage_integrations",
        "create_pilot",
        "view_pilot",
        "edit_pilot",
        "copy_pilot",
        "request_gate",
        "withdraw_gate",
        "close_condition",
        *STEP2,
        *STEP4,
    },
    "pm": {
        "view_portfolio",
        "view_workspace",
        "create_pilot",
        "view_pilot",
        "edit_pilot",
        "copy_pilot",
        "request_gate",
        "withdraw_gate",
        "attest",
        "close_condition",
        *STEP2,
        *STEP4,
        "record_correction",
    },
    "owner": {
        "view_workspace",
        "view_pilot",
        "decide_gate",
        "accept_accountability",
        "resume_pilot",
        "attest",
        "close_condition",
        "review_cases",
        "review_queue",
    },
    # A workflow owner who does not own this pilot gets none of the owner's pilot actions.
    "other_owner": {"view_workspace", "view_pilot", "review_queue"},
    "reviewer": {"view_workspace", "view_pilot", "review_cases", "review_queue", "record_correction"},
    "leader": {"view_workspace", "view_pilot", "view_portfolio"},
}


@pytest.fixture
def personas(team):
    people = {name: team.person(name) for name in ("admin", "pm", "owner", "reviewer", "leader")}
    people["other_owner"] = factories.member(team.workspace, "workflow_owner", username="other_owner")
    return people


def test_the_table_has_exactly_the_expected_actions():
    assert set(access.RULES) == set().union(*EXPECTED.values())


@pytest.mark.parametrize("action", sorted(access.RULES))
def test_each_row_grants_exactly_the_expected_personas(team, personas, action):
    for name, user in personas.items():
        membership = Membership.objects.get(workspace=team.workspace, user=user)
        assert access.grants(membership, action, team.pilot) == (action in EXPECTED[name]), (name, action)


WORKSPACE_ACTIONS = {
    "view_workspace", "manage_members", "edit_workspace", "manage_integrations", "create_pilot",
    "review_queue",
}  # fmt: skip


@pytest.mark.parametrize("action", sorted(set(access.RULES) - WORKSPACE_ACTIONS))
def test_pilot_for_answers_403_for_a_member_without_the_role_and_404_for_an_outsider(team, personas, action):
    for name, user in personas.items():
        if action in EXPECTED[name]:
            assert access.pilot_for(user, team.pilot.pk, need=action) == team.pilot
        else:
            with pytest.raises(PermissionDenied):
                access.pilot_for(user, team.pilot.pk, need=action)
    with pytest.raises(Http404):
        access.pilot_for(team.outsider, team.pilot.pk, need=action)


def test_workspace_for_hides_other_workspaces_and_checks_roles(team):
    assert access.workspace_for(team.admin, "acme", need="manage_members") == team.workspace
    with pytest.raises(PermissionDenied):
        access.workspace_for(team.pm, "acme", need="manage_members")
    with pytest.raises(Http404):
        access.workspace_for(team.outsider, "acme")
    with pytest.raises(Http404):
        access.workspace_for(team.admin, "no-such-workspace")


def test_an_unknown_action_is_a_programming_error(team):
    membership = Membership.objects.get(workspace=team.workspace, user=team.pm)
    with pytest.raises(KeyError):
        access.grants(membership, "launch_rockets")


def test_an_inactive_user_sees_nothing(team):
    team.pm.is_active = False
    team.pm.save()
    with pytest.raises(Http404):
        access.pilot_for(team.pm, team.pilot.pk)
