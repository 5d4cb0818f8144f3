from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from pilots.models import GateCondition
from pilots.services import gates as gate_services
from tests import factories
from tests.views.conftest import HTMX, actions, is_partial


@pytest.fixture
def condition(team, pending) -> GateCondition:
    """The condition a conditional go left: the owner has not accepted accountability yet."""
    gate_services.decide_gate(
        gate_request=pending,
        actor=team.owner,
        outcome="conditional_go",
        conditions_due_on=timezone.localdate() + timedelta(days=14),
    )
    return GateCondition.objects.get()


def url(condition) -> str:
    return reverse("condition_close", args=[condition.pilot_id, condition.pk])


def closes(team) -> list[str]:
    return [a for a in actions(pilot=team.pilot) if a == "condition.closed"]


def test_the_program_manager_closes_a_condition(team, client_for, condition):
    response = client_for(team.pm).post(url(condition), {"note": "Done in the meeting"})
    assert response.status_code == 302
    assert response.url == reverse("pilot_detail", args=[team.pilot.pk])
    condition.refresh_from_db()
    assert condition.closed_at is not None
    assert (condition.closed_by, condition.closing_note) == (team.pm, "Done in the meeting")
    assert actions(pilot=team.pilot)[-1] == "condition.closed"


def test_an_htmx_close_gets_the_track_and_a_pilot_changed_event(team, client_for, condition):
    response = client_for(team.pm).post(url(condition), headers=HTMX)
    assert response.status_code == 200
    assert "pilotChanged" in response.headers["HX-Trigger"]
    assert is_partial(response)


def test_the_pilots_workflow_owner_and_an_admin_may_close(team, client_for, condition):
    assert client_for(team.owner).post(url(condition)).status_code == 302
    second = GateCondition.objects.create(
        decision=condition.decision, pilot=team.pilot, text="Another", owner=team.pm, due_on=condition.due_on
    )
    assert client_for(team.admin).post(url(second)).status_code == 302
    assert GateCondition.objects.filter(closed_at=None).count() == 0


def test_closing_twice_writes_one_event(team, client_for, condition):
    client = client_for(team.pm)
    client.post(url(condition), {"note": "first"})
    assert client.post(url(condition), {"note": "second"}).status_code == 302
    condition.refresh_from_db()
    assert condition.closing_note == "first"
    assert closes(team) == ["condition.closed"]


def test_a_forged_closer_is_ignored(team, client_for, condition):
    client_for(team.pm).post(url(condition), {"closed_by": team.owner.pk, "owner": team.leader.pk})
    condition.refresh_from_db()
    assert (condition.closed_by, condition.owner) == (team.pm, team.pm)


def test_a_closed_condition_leaves_the_pilot_page(team, client_for, condition):
    client = client_for(team.pm)
    assert condition.text in client.get(reverse("pilot_detail", args=[team.pilot.pk])).content.decode()
    client.post(url(condition))
    response = client.get(reverse("pilot_detail", args=[team.pilot.pk]))
    assert list(response.context["conditions"]) == []


def test_it_requires_the_program_manager_admin_or_pilots_owner(team, client_for, condition):
    another_owner = factories.member(team.workspace, "workflow_owner", username="another_owner")
    for user in (team.reviewer, team.leader, another_owner):
        assert client_for(user).post(url(condition)).status_code == 403, user
    condition.refresh_from_db()
    assert condition.closed_at is None
    assert closes(team) == []


def test_it_is_a_404_for_an_outsider(team, client_for, condition):
    assert client_for(team.outsider).post(url(condition)).status_code == 404
    condition.refresh_from_db()
    assert condition.closed_at is None
    assert closes(team) == []


def test_a_condition_of_another_pilot_is_a_404(team, client_for, condition):
    other = factories.PilotFactory(workspace=team.workspace, program_manager=team.pm)
    response = client_for(team.pm).post(reverse("condition_close", args=[other.pk, condition.pk]))
    assert response.status_code == 404
    condition.refresh_from_db()
    assert condition.closed_at is None


def test_it_requires_post(team, client_for, condition):
    assert client_for(team.pm).get(url(condition)).status_code == 405
    condition.refresh_from_db()
    assert condition.closed_at is None


def test_a_closing_note_that_is_too_long_is_refused_not_dropped(team, client_for, condition):
    response = client_for(team.pm).post(url(condition), {"note": "x" * 501}, headers=HTMX)
    assert response.status_code == 422
    condition.refresh_from_db()
    assert condition.closed_at is None
    assert closes(team) == []
