"""The workspace home page: what each role sees, at a query count that does not grow with the pilots."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from pilots.models import GateCondition, GateDecision
from pilots.services import gates as gate_services
from tests import factories
from tests.views.conftest import actions

URL = reverse("workspace_home", args=["acme"])


def test_the_workspace_home_renders_for_every_persona(team, client_for):
    for name in ("admin", "pm", "owner", "reviewer", "leader"):
        response = client_for(team.person(name)).get(URL)
        assert response.status_code == 200, name
        assert response.context["workspace"] == team.workspace


def test_the_workspace_home_is_a_404_for_an_outsider(team, client_for):
    assert client_for(team.outsider).get(URL).status_code == 404


def test_an_unknown_workspace_is_a_404(team, client_for):
    assert client_for(team.pm).get(reverse("workspace_home", args=["nowhere"])).status_code == 404


def test_the_workspace_home_requires_get(team, client_for):
    assert client_for(team.admin).post(URL).status_code == 405


def test_the_workflow_owner_sees_the_decisions_waiting_for_them(team, client_for, pending):
    response = client_for(team.owner).get(URL)
    assert list(response.context["waiting"]) == [pending]
    assert team.pilot.name in response.content.decode()


def test_the_program_manager_sees_their_pilots(team, client_for):
    factories.PilotFactory(workspace=team.workspace, name="Someone else's", workflow_owner=team.owner)
    response = client_for(team.pm).get(URL)
    assert response.context["my_pilots"] == [team.pilot]


def test_the_workspace_home_remembers_the_workspace_and_writes_nothing(team, client_for):
    client = client_for(team.leader)
    client.get(URL)
    assert client.session["workspace"] == "acme"
    assert actions(workspace=team.workspace) == []


def add_pilots(team, everyone, count: int) -> None:
    """Pilots managed and owned by `everyone`, each with a pending request and an open condition."""
    for _ in range(count):
        pilot = factories.PilotFactory(
            workspace=team.workspace, program_manager=everyone, workflow_owner=everyone
        )
        pilot.reviewers.add(everyone)
        decided = gate_services.request_gate_decision(pilot=pilot, actor=team.pm)
        decision = GateDecision.objects.create(
            request=decided,
            pilot=pilot,
            outcome="hold",
            decided_by=team.admin,
            comment="x",
            decided_at=timezone.now(),
        )
        decided.state = "decided"
        decided.save(update_fields=["state"])
        GateCondition.objects.create(
            decision=decision,
            pilot=pilot,
            text="Do it",
            owner=everyone,
            due_on=timezone.localdate() + timedelta(days=7),
        )
        gate_services.request_gate_decision(pilot=pilot, actor=team.pm)


def test_the_home_page_makes_the_same_queries_for_5_or_50_pilots(team, client_for):
    everyone = factories.member(
        team.workspace,
        "admin",
        "program_manager",
        "workflow_owner",
        "reviewer",
        "leader",
        username="everyone",
    )
    client = client_for(everyone)
    add_pilots(team, everyone, 5)
    client.get(URL)
    with CaptureQueriesContext(connection) as few:
        response = client.get(URL)
    assert len(response.context["my_pilots"]) == 5
    assert len(response.context["waiting"]) == 5
    add_pilots(team, everyone, 45)
    with CaptureQueriesContext(connection) as many:
        response = client.get(URL)
    assert len(response.context["my_pilots"]) == 50
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
