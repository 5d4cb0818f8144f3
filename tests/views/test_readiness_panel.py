"""The readiness panel on the pilot page: read from the snapshot, "recomputing…" while a recompute is
due, and the event that refreshes the stage track's checks when the new snapshot lands."""

import json

import pytest
from django.urls import reverse

from pilots.models import Pilot, ReadinessMark, Stage
from pilots.services import readiness
from tests.views.conftest import HTMX


def url(pilot, **query) -> str:
    suffix = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    return reverse("readiness_panel", args=[pilot.pk]) + suffix


@pytest.fixture
def computed(team):
    readiness.recompute(pilot_ids=[team.pilot.pk])
    return team.pilot


def test_every_member_sees_the_score_its_sections_and_what_would_raise_it(team, client_for, computed):
    for name in ("admin", "pm", "owner", "reviewer", "leader"):
        response = client_for(team.person(name)).get(url(team.pilot), headers=HTMX)
        assert response.status_code == 200, name
        html = response.content.decode()
        assert 'id="readiness-panel"' in html and "<html" not in html
        assert 'data-score="50"' in html
        assert '<strong class="weakest-section">Ownership</strong>' in html
        assert 'data-section="value"' in html and "not yet due" in html
        assert 'data-check="ownership.accountability_accepted"' in html
        assert "Next: Owner opens the pilot and clicks “Accept accountability”." in html
        assert "every 1s" not in html  # nothing pending: no polling


def test_the_pilot_page_shows_the_panel_inline(team, client_for, computed):
    html = client_for(team.leader).get(reverse("pilot_detail", args=[team.pilot.pk])).content.decode()
    assert 'id="readiness-panel"' in html and 'data-score="50"' in html
    assert 'hx-trigger="gateDecided from:body, pilotChanged from:body, casesChanged from:body"' in html


def test_while_a_recompute_is_due_it_says_so_and_polls(team, client_for, computed):
    ReadinessMark.objects.create(pilot=team.pilot, generation=1, marked_at=computed.created_at)
    html = client_for(team.pm).get(url(team.pilot), headers=HTMX).content.decode()
    assert "recomputing…" in html
    assert f'hx-get="{url(team.pilot, was="pending")}"' in html
    assert 'hx-trigger="every 1s, gateDecided from:body' in html
    assert 'aria-busy="true"' in html


def test_the_answer_that_brings_the_new_snapshot_refreshes_the_track_and_stops_polling(
    team, client_for, computed
):
    response = client_for(team.pm).get(url(team.pilot, was="pending"), headers=HTMX)
    assert json.loads(response.headers["HX-Trigger"]) == {"readinessChanged": {}}
    assert "every 1s" not in response.content.decode()
    # A panel that was not waiting fires nothing.
    assert "HX-Trigger" not in client_for(team.pm).get(url(team.pilot), headers=HTMX).headers


def test_a_pilot_never_computed_shows_that_it_is_computing_and_polls(team, client_for):
    html = client_for(team.pm).get(url(team.pilot), headers=HTMX).content.decode()
    assert "Computing this pilot's readiness" in html and "every 1s" in html


def test_the_attest_button_shows_for_attestable_missing_checks_to_those_who_may_attest(team, client_for):
    Pilot.objects.filter(pk=team.pilot.pk).update(stage=Stage.DEFINE_SUCCESS)
    readiness.recompute(pilot_ids=[team.pilot.pk])
    attest = reverse("attest", args=[team.pilot.pk]) + "?check=metrics.business_metric"
    assert attest in client_for(team.pm).get(url(team.pilot), headers=HTMX).content.decode()
    assert attest not in client_for(team.leader).get(url(team.pilot), headers=HTMX).content.decode()


def test_user_text_in_the_evidence_is_escaped(team, client_for):
    Pilot.objects.filter(pk=team.pilot.pk).update(
        stage=Stage.DEFINE_SUCCESS, integration_points=["<script>alert(1)</script>"]
    )
    readiness.recompute(pilot_ids=[team.pilot.pk])
    html = client_for(team.pm).get(url(team.pilot), headers=HTMX).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_chart_draws_the_history(team, client_for, computed):
    html = client_for(team.pm).get(url(team.pilot), headers=HTMX).content.decode()
    assert "Readiness over the last 90 days" in html
    assert "<circle" in html and ": 50 (weakest: Ownership)</title>" in html


def test_it_is_a_404_for_an_outsider_and_a_405_for_a_post(team, client_for, computed):
    assert client_for(team.outsider).get(url(team.pilot), headers=HTMX).status_code == 404
    assert client_for(team.pm).post(url(team.pilot), headers=HTMX).status_code == 405


def test_it_needs_a_login(team, client, computed):
    response = client.get(url(team.pilot))
    assert response.status_code == 302 and reverse("login") in response.url


def test_the_query_count_is_fixed(team, client_for, computed, django_assert_num_queries):
    client = client_for(team.pm)
    client.get(url(team.pilot), headers=HTMX)
    # session, user, the pilot (with its workspace) and the membership through access; then the
    # snapshot, the pending mark and the history
    with django_assert_num_queries(7):
        client.get(url(team.pilot), headers=HTMX)


def test_the_gate_checks_refresh_alone(team, client_for):
    response = client_for(team.pm).get(reverse("pilot_gate_checks", args=[team.pilot.pk]), headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and 'id="gate-checks"' in html and "<html" not in html
    assert 'hx-trigger="readinessChanged from:body, casesChanged from:body"' in html
    outsider = client_for(team.outsider).get(reverse("pilot_gate_checks", args=[team.pilot.pk]))
    assert outsider.status_code == 404
