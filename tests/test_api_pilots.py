"""Pilots and AI versions through the API (issue 7): a key reads its workspace's pilots only, and registers
AI versions with the same service as the step 2 page."""

from datetime import date

from pilots.models import AIVersion, AuditEvent
from pilots.services import standards
from tests import factories
from tests.api_helpers import api, errors_of, keys

USES = (api, keys)  # the shared fixtures (tests/api_helpers.py)


def test_the_workspaces_pilots_are_listed_by_name(team, api, django_assert_max_num_queries):
    factories.PilotFactory(workspace=team.workspace, name="Accounts payable")
    factories.PilotFactory(workspace=team.other_workspace, name="Elsewhere")
    with django_assert_max_num_queries(4):
        response = api().get("/pilots")
    assert response.status_code == 200
    assert [p["name"] for p in response.json()] == ["Accounts payable", team.pilot.name]


def test_a_pilot_is_read(team, api):
    response = api().get(f"/pilots/{team.pilot.pk}")
    assert response.status_code == 200
    assert response.json() == {
        "id": team.pilot.pk,
        "name": team.pilot.name,
        "business_unit": "Claims",
        "stage": "proposed",
        "status": "active",
        "program_manager": "pm",
        "workflow_owner": "owner",
        "started_on": None,
        "target_date": None,
    }


def test_an_unknown_pilot_is_404(team, api):
    response = api().get("/pilots/987654")
    assert response.status_code == 404
    assert response.json() == {"detail": "No such pilot.", "errors": []}


def test_an_ai_version_is_registered(team, api, keys):
    body = {
        "identifier": "claims-2.3",
        "released_on": "2026-10-01",
        "notes": "New prompt",
        "on_behalf_of": "pm",
    }
    response = api().post(f"/pilots/{team.pilot.pk}/ai-versions", body)
    assert response.status_code == 201
    assert {k: v for k, v in response.json().items() if k != "id"} == {
        "identifier": "claims-2.3",
        "released_on": "2026-10-01",
        "notes": "New prompt",
    }
    event = AuditEvent.objects.get(action="ai_version.registered")
    assert event.actor == team.pm and event.api_key == keys.rows["read_write"]


def test_a_registered_identifier_is_422_with_its_field(team, api):
    standards.register_ai_version(
        pilot=team.pilot, actor=team.pm, identifier="v1", released_on=date(2026, 9, 1)
    )
    response = api().post(
        f"/pilots/{team.pilot.pk}/ai-versions", {"identifier": "v1", "released_on": "2026-10-01"}
    )
    assert response.status_code == 422
    assert errors_of(response) == [
        (("body", "identifier"), "v1 is registered already (released 2026-09-01).")
    ]
    response = api().post(
        f"/pilots/{team.pilot.pk}/ai-versions", {"identifier": "   ", "released_on": "2026-10-01"}
    )
    assert response.status_code == 422
    assert errors_of(response)[0][0] == ("body", "identifier")
    assert AIVersion.objects.count() == 1


def test_the_schema_refuses_bad_ai_versions(team, api):
    for body, loc in (
        ({"identifier": "v2"}, ("body", "released_on")),
        ({"identifier": "v2", "released_on": "soon"}, ("body", "released_on")),
        ({"identifier": "v2", "released_on": "2026-10-01", "by": "pm"}, ("body", "by")),
        ({"identifier": "v" * 81, "released_on": "2026-10-01"}, ("body", "identifier")),
    ):
        response = api().post(f"/pilots/{team.pilot.pk}/ai-versions", body)
        assert response.status_code == 422, body
        assert errors_of(response)[0][0] == loc
    assert not AIVersion.objects.exists()


def test_ai_versions_are_listed_newest_first(team, api):
    for identifier, released in (("v1", date(2026, 1, 1)), ("v2", date(2026, 6, 1))):
        standards.register_ai_version(
            pilot=team.pilot, actor=team.pm, identifier=identifier, released_on=released
        )
    response = api().get(f"/pilots/{team.pilot.pk}/ai-versions")
    assert [v["identifier"] for v in response.json()] == ["v2", "v1"]


def test_another_workspaces_key_sees_none_of_it(team, api, keys):
    elsewhere = api(keys.other)
    assert elsewhere.get(f"/pilots/{team.pilot.pk}/ai-versions").status_code == 404
    body = {"identifier": "v9", "released_on": "2026-10-01"}
    assert elsewhere.post(f"/pilots/{team.pilot.pk}/ai-versions", body).status_code == 404
    assert not AIVersion.objects.exists()
