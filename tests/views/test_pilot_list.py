import html
from datetime import date

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from pilots.models import Pilot
from pilots.services import gates as gate_services
from tests import factories
from tests.views.conftest import HTMX

URL = reverse("pilot_list", args=["acme"])


def names(response) -> list[str]:
    return [pilot.name for pilot in response.context["page"].object_list]


def make_pilots(team, count: int, start: int = 0) -> None:
    """Pilots with their own people, so that a query per row would show in the count."""
    for i in range(start, start + count):
        factories.PilotFactory(
            workspace=team.workspace,
            name=f"Bulk {i:03}",
            program_manager=factories.member(team.workspace, "program_manager"),
            workflow_owner=factories.member(team.workspace, "workflow_owner"),
            business_unit=f"Unit {i % 3}",
            target_date=date(2031, 1, 1 + i % 28),
        )


def count_queries(client, **kwargs) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, **kwargs)
    assert response.status_code == 200
    return len(queries)


def test_every_member_sees_the_pilots_of_the_workspace(team, client_for):
    factories.PilotFactory(workspace=team.other_workspace, name="Other company's pilot")
    for name in ("admin", "pm", "owner", "reviewer", "leader"):
        response = client_for(team.person(name)).get(URL)
        assert response.status_code == 200, name
        assert names(response) == [team.pilot.name], name
    assert "Other company" not in response.content.decode()


def test_it_is_a_404_for_an_outsider(team, client_for):
    assert client_for(team.outsider).get(URL).status_code == 404


def test_it_requires_get(team, client_for):
    client = client_for(team.pm)
    assert client.post(URL).status_code == 405
    assert Pilot.objects.count() == 1


def test_only_those_who_may_create_see_the_register_button(team, client_for):
    create = reverse("pilot_create", args=["acme"])
    assert create in client_for(team.pm).get(URL).content.decode()
    assert create not in client_for(team.reviewer).get(URL).content.decode()


def test_it_searches_name_problem_and_workflow(team, client_for):
    factories.PilotFactory(workspace=team.workspace, name="Invoice matching", workflow="Accounts payable")
    factories.PilotFactory(workspace=team.workspace, name="Zeta", problem="Invoices pile up every month")
    factories.PilotFactory(workspace=team.workspace, name="Unrelated", workflow="HR onboarding")
    client = client_for(team.pm)
    assert sorted(names(client.get(URL, {"q": "invoice"}))) == ["Invoice matching", "Zeta"]
    assert names(client.get(URL, {"q": "accounts PAYABLE"})) == ["Invoice matching"]
    assert names(client.get(URL, {"q": "nothing like this"})) == []


def test_it_filters_by_stage_status_owner_and_business_unit(team, client_for):
    other_owner = factories.member(team.workspace, "workflow_owner", username="other_owner")
    factories.PilotFactory(workspace=team.workspace, name="Later", stage="exception_paths")
    factories.PilotFactory(workspace=team.workspace, name="Paused", status="on_hold")
    factories.PilotFactory(workspace=team.workspace, name="Owned", workflow_owner=other_owner)
    factories.PilotFactory(workspace=team.workspace, name="Finance", business_unit="Finance")
    client = client_for(team.leader)
    assert names(client.get(URL, {"stage": "exception_paths"})) == ["Later"]
    assert names(client.get(URL, {"status": "on_hold"})) == ["Paused"]
    assert names(client.get(URL, {"owner": other_owner.pk})) == ["Owned"]
    assert names(client.get(URL, {"business_unit": "Finance"})) == ["Finance"]
    assert names(client.get(URL, {"business_unit": "Finance", "status": "on_hold"})) == []
    assert len(names(client.get(URL, {"stage": "not-a-stage", "owner": "x"}))) == 5


def test_it_sorts(team, client_for):
    Pilot.objects.filter(pk=team.pilot.pk).update(
        name="Middle", stage="define_success", target_date=date(2030, 3, 1)
    )
    factories.PilotFactory(
        workspace=team.workspace, name="Alpha", stage="feedback_loops", target_date=date(2030, 5, 1)
    )
    factories.PilotFactory(
        workspace=team.workspace, name="Zulu", stage="proposed", target_date=date(2030, 1, 1)
    )
    client = client_for(team.pm)
    assert names(client.get(URL)) == ["Alpha", "Middle", "Zulu"]
    assert names(client.get(URL, {"sort": "-name"})) == ["Zulu", "Middle", "Alpha"]
    assert names(client.get(URL, {"sort": "stage"})) == ["Zulu", "Middle", "Alpha"]
    assert names(client.get(URL, {"sort": "-stage"})) == ["Alpha", "Middle", "Zulu"]
    assert names(client.get(URL, {"sort": "target"})) == ["Zulu", "Middle", "Alpha"]
    assert names(client.get(URL, {"sort": "-target"})) == ["Alpha", "Middle", "Zulu"]
    assert names(client.get(URL, {"sort": "-updated"}))[0] == "Zulu"
    assert names(client.get(URL, {"sort": "DROP TABLE"})) == ["Alpha", "Middle", "Zulu"]


def test_it_shows_25_pilots_a_page(team, client_for):
    make_pilots(team, 29)  # 30 with the team's pilot
    client = client_for(team.pm)
    first = client.get(URL)
    assert len(names(first)) == 25
    assert first.context["page"].paginator.num_pages == 2
    assert "page=2" in first.content.decode()
    second = client.get(URL, {"page": 2})
    assert len(names(second)) == 5
    assert set(names(first)).isdisjoint(names(second))
    assert names(client.get(URL, {"page": 99})) == names(second)
    assert names(client.get(URL, {"page": "nonsense"})) == names(first)


def test_pagination_keeps_the_filters(team, client_for):
    make_pilots(team, 30)
    response = client_for(team.pm).get(URL, {"q": "Bulk", "sort": "-name"})
    assert names(response)[0] == "Bulk 029"
    assert "?q=Bulk&sort=-name&page=2" in html.unescape(response.content.decode())


def test_an_htmx_request_gets_the_table_alone(team, client_for):
    response = client_for(team.pm).get(URL, {"q": team.pilot.name}, headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="pilot-table"' in body
    assert "<html" not in body
    assert 'name="q"' not in body  # the filter form stays on the page
    assert team.pilot.name in body


def test_a_boosted_htmx_request_gets_the_whole_page(team, client_for):
    response = client_for(team.pm).get(URL, headers={**HTMX, "HX-Boosted": "true"})
    assert "<html" in response.content.decode()


def test_it_flags_pilots_with_a_decision_waiting(team, client_for, pending):
    response = client_for(team.pm).get(URL)
    assert "decision waiting" in response.content.decode()


def test_the_full_page_makes_the_same_queries_for_5_or_50_pilots(team, client_for):
    client = client_for(team.pm)
    make_pilots(team, 4)
    client.get(URL)  # warm up the session
    gate_services.request_gate_decision(pilot=team.pilot, actor=team.pm)
    few = count_queries(client)
    make_pilots(team, 45, start=4)
    assert Pilot.objects.filter(workspace=team.workspace).count() == 50
    assert count_queries(client) == few


def test_the_htmx_table_makes_the_same_queries_for_5_or_50_pilots(team, client_for):
    client = client_for(team.pm)
    make_pilots(team, 4)
    client.get(URL)
    few = count_queries(client, headers=HTMX)
    make_pilots(team, 45, start=4)
    assert count_queries(client, headers=HTMX) == few
    assert count_queries(client, data={"page": 2}, headers=HTMX) == few
