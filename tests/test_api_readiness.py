"""Readiness through the API (issue 8): read from the snapshots, scoped to the key's workspace."""

from datetime import timedelta

from django.utils import timezone

from pilots.models import ReadinessMark
from pilots.services import readiness
from tests import factories
from tests.api_helpers import api, keys

USES = (api, keys)  # the shared fixtures (tests/api_helpers.py)


def test_a_pilots_readiness_is_explained_check_by_check(team, api, keys):
    readiness.recompute(pilot_ids=[team.pilot.pk])
    response = api(keys.read).get(f"/pilots/{team.pilot.pk}/readiness")
    assert response.status_code == 200
    body = response.json()
    assert (body["score"], body["weakest_section"], body["recomputing"]) == (50, "ownership", False)
    assert body["sections"]["ownership"] == {"score": 50, "points": 1.0, "due": 2, "checks": 4}
    assert body["sections"]["value"]["score"] is None
    accepted = next(c for c in body["checks"] if c["id"] == "ownership.accountability_accepted")
    assert accepted["status"] == 0 and accepted["next_action"].endswith("“Accept accountability”.")
    assert next(c for c in body["checks"] if c["id"] == "metrics.on_track")["status"] == "not_due"


def test_a_pilot_not_computed_yet_says_it_is_recomputing(team, api, keys):
    body = api(keys.read).get(f"/pilots/{team.pilot.pk}/readiness").json()
    assert body["score"] is None and body["recomputing"] is True and body["computed_at"] is None


def test_a_pending_mark_shows_as_recomputing(team, api, keys):
    readiness.recompute(pilot_ids=[team.pilot.pk])
    ReadinessMark.objects.create(pilot=team.pilot, generation=1, marked_at=timezone.now())
    assert api(keys.read).get(f"/pilots/{team.pilot.pk}/readiness").json()["recomputing"] is True


def test_every_pilots_score_is_listed_by_cursor(team, api, keys, django_assert_max_num_queries):
    more = [factories.PilotFactory(workspace=team.workspace) for _ in range(3)]
    elsewhere = factories.PilotFactory(workspace=team.other_workspace)
    readiness.recompute(pilot_ids=[team.pilot.pk, elsewhere.pk, *(p.pk for p in more)])
    with django_assert_max_num_queries(4):
        first = api(keys.read).get("/readiness?limit=3").json()
    assert [row["pilot_id"] for row in first["items"]] == [team.pilot.pk, more[0].pk, more[1].pk]
    assert first["items"][0]["name"] == team.pilot.name and first["items"][0]["score"] == 50
    rest = api(keys.read).get(f"/readiness?limit=3&cursor={first['next_cursor']}").json()
    assert [row["pilot_id"] for row in rest["items"]] == [more[2].pk]
    assert rest["next_cursor"] is None


def test_the_history_lists_a_row_per_day(team, api, keys):
    readiness.recompute(pilot_ids=[team.pilot.pk], now=timezone.now() - timedelta(days=3))
    readiness.recompute(pilot_ids=[team.pilot.pk])
    rows = api(keys.read).get(f"/pilots/{team.pilot.pk}/readiness/history?days=7").json()
    assert len(rows) == 2 and [r["score"] for r in rows] == [50, 50]
    assert rows[0]["sections"]["ownership"] == 50
    assert (
        api(keys.read).get(f"/pilots/{team.pilot.pk}/readiness/history?days=2").json()[0]["on"]
        == rows[1]["on"]
    )


def test_a_pilot_of_another_workspace_is_404_and_bad_queries_are_422(team, api, keys):
    elsewhere = factories.PilotFactory(workspace=team.other_workspace)
    readiness.recompute(pilot_ids=[elsewhere.pk])
    assert api(keys.read).get(f"/pilots/{elsewhere.pk}/readiness").status_code == 404
    assert api(keys.read).get(f"/pilots/{elsewhere.pk}/readiness/history").status_code == 404
    assert api(keys.read).get("/readiness?limit=0").status_code == 422
    assert api(keys.read).get(f"/pilots/{team.pilot.pk}/readiness/history?days=0").status_code == 422


def test_no_key_no_readiness(team, client):
    assert client.get(f"/api/v1/pilots/{team.pilot.pk}/readiness").status_code == 401
