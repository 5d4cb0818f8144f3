"""Routing the stored cases that arrived before there were rules (the backfill, as a Celery task)."""

from django.urls import reverse

from exceptions.models import Escalation
from pilots.models import Case
from tests.views.conftest import HTMX, actions
from tests.views.test_rules import TABLE, arrival, ingest, publish, publish_standard

# Whether a case is sampled depends on the pilot's id, which differs between runs on PostgreSQL: with no
# sampling, the escalations these tests count are exactly the escalated cases.
UNSAMPLED = [*TABLE[:-1], {**TABLE[-1], "sample_percent": "0"}]


def url(pilot) -> str:
    return reverse("rules_route_stored", args=[pilot.pk])


def stored_before_rules(team) -> None:
    publish_standard(team)
    ingest(team, [arrival("early"), arrival("big", amount="20000"), arrival("bad", amount=None)])
    publish(team, UNSAMPLED)


def test_it_routes_the_stored_cases_after_commit(team, client_for, django_capture_on_commit_callbacks):
    stored_before_rules(team)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client_for(team.pm).post(url(team.pilot), follow=True)
    # The task is enqueued once the request's writes are committed; the routing it does then asks for
    # the pilot's readiness to be recomputed.
    assert len(callbacks) == 2
    assert response.redirect_chain == [(reverse("rules", args=[team.pilot.pk]), 302)]
    assert "Routing 3 stored cases with version 1 in the background." in response.content.decode()
    routes = dict(Case.objects.values_list("external_id", "route"))
    assert routes == {"early": "automated", "big": "escalated", "bad": "rejected"}
    assert Escalation.objects.get().case.external_id == "big"
    assert actions(pilot=team.pilot).count("cases.routed") == 1


def test_a_repeat_finds_nothing_to_route_and_enqueues_nothing(
    team, client_for, django_capture_on_commit_callbacks
):
    stored_before_rules(team)
    client = client_for(team.admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(team.pilot))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(url(team.pilot), follow=True)
    assert callbacks == []
    assert "Every stored case has a route already." in response.content.decode()
    assert Escalation.objects.count() == 1 and actions(pilot=team.pilot).count("cases.routed") == 1


def test_without_rules_it_says_to_publish_them_first(team, client_for, django_capture_on_commit_callbacks):
    publish_standard(team)
    ingest(team, [arrival("early")])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client_for(team.pm).post(url(team.pilot), follow=True)
    assert callbacks == []
    assert "Publish rules first" in response.content.decode()
    assert Case.objects.get().route == ""


def test_htmx_gets_the_backfill_fragment(team, client_for, django_capture_on_commit_callbacks):
    stored_before_rules(team)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(team.pm).post(url(team.pilot), headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card backfill" id="backfill"') and "<html" not in html
    assert "Routing 3 stored cases" in html


def test_only_admins_and_program_managers_may_route(team, client_for, django_capture_on_commit_callbacks):
    stored_before_rules(team)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        for name in ("owner", "reviewer", "leader"):
            assert client_for(team.person(name)).post(url(team.pilot)).status_code == 403, name
        assert client_for(team.outsider).post(url(team.pilot)).status_code == 404
    assert callbacks == []
    assert set(Case.objects.values_list("route", flat=True)) == {""}


def test_it_allows_only_post(team, client_for):
    stored_before_rules(team)
    assert client_for(team.pm).get(url(team.pilot)).status_code == 405
    assert set(Case.objects.values_list("route", flat=True)) == {""}
