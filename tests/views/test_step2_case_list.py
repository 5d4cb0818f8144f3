"""The case list: filters, pagination, htmx table, constant query count."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from pilots.models import AIVersion, Case
from tests import factories
from tests.views.conftest import HTMX
from tests.views.test_step2_helpers import add_cases, publish


def url(pilot) -> str:
    return reverse("case_list", args=[pilot.pk])


def ids(response) -> list[str]:
    return [case.external_id for case in response.context["page"].object_list]


def test_every_member_sees_the_cases(team, client_for):
    publish(team)
    add_cases(team, 3, bad_every=2)
    for name in ("admin", "pm", "owner", "reviewer", "leader"):
        response = client_for(team.person(name)).get(url(team.pilot))
        assert response.status_code == 200, name
        assert sorted(ids(response)) == ["case-0000", "case-0001", "case-0002"], name
    page = response.content.decode()
    assert "kind-missing" in page
    assert reverse("case_detail", args=[team.pilot.pk, Case.objects.first().pk]) in page


def test_it_shows_only_this_pilots_cases(team, client_for):
    add_cases(team, 2)
    other = factories.PilotFactory(workspace=team.workspace)
    Case.objects.create(
        pilot=other, external_id="theirs", source="api", received_at=timezone.now(), digest="x"
    )
    assert "theirs" not in ids(client_for(team.pm).get(url(team.pilot)))


def test_it_filters(team, client_for):
    publish(team)
    add_cases(team, 4, bad_every=2)  # 0 and 2 miss their amount
    version = AIVersion.objects.create(pilot=team.pilot, identifier="m-1", released_on="2026-01-01")
    Case.objects.filter(external_id="case-0003").update(
        ai_version=version, source="form", received_at=timezone.now() - timedelta(days=10)
    )
    client = client_for(team.leader)
    assert sorted(ids(client.get(url(team.pilot), {"problem": "missing"}))) == ["case-0000", "case-0002"]
    assert sorted(ids(client.get(url(team.pilot), {"conforms": "no"}))) == ["case-0000", "case-0002"]
    assert sorted(ids(client.get(url(team.pilot), {"conforms": "yes"}))) == ["case-0001", "case-0003"]
    assert ids(client.get(url(team.pilot), {"source": "form"})) == ["case-0003"]
    assert ids(client.get(url(team.pilot), {"ai_version": version.pk})) == ["case-0003"]
    assert len(ids(client.get(url(team.pilot), {"version": 1}))) == 4
    assert ids(client.get(url(team.pilot), {"version": 2})) == []
    zone = team.workspace.zone  # the filter's days are the workspace's days
    day = timezone.localdate(timezone.now() - timedelta(days=10), zone).isoformat()
    assert ids(client.get(url(team.pilot), {"received_to": day})) == ["case-0003"]
    assert "case-0003" not in ids(
        client.get(url(team.pilot), {"received_from": timezone.localdate(timezone=zone).isoformat()})
    )
    assert ids(client.get(url(team.pilot), {"q": "case-0001"})) == ["case-0001"]
    assert (
        len(ids(client.get(url(team.pilot), {"problem": "nonsense", "version": "x", "received_from": "no"})))
        == 4
    )


def test_it_shows_50_cases_a_page_and_keeps_the_filters(team, client_for):
    add_cases(team, 60)
    client = client_for(team.pm)
    first = client.get(url(team.pilot), {"source": "api"})
    assert len(ids(first)) == 50
    assert "?source=api&amp;page=2" in first.content.decode()
    second = client.get(url(team.pilot), {"source": "api", "page": 2})
    assert len(ids(second)) == 10
    assert set(ids(first)).isdisjoint(ids(second))


def test_an_htmx_request_gets_the_table_alone(team, client_for):
    add_cases(team, 2)
    response = client_for(team.pm).get(url(team.pilot), {"q": "case"}, headers=HTMX)
    page = response.content.decode()
    assert 'id="case-table"' in page
    assert "<html" not in page
    assert 'name="q"' not in page


def test_the_filter_form_updates_the_table_in_place_and_pushes_the_url(team, client_for):
    page = client_for(team.pm).get(url(team.pilot)).content.decode()
    assert 'hx-target="#case-table"' in page
    assert 'hx-push-url="true"' in page
    assert f'action="{url(team.pilot)}"' in page  # and works without JavaScript


def count_queries(client, pilot, **kwargs) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url(pilot), **kwargs)
    assert response.status_code == 200
    return len(queries)


def test_the_page_makes_the_same_queries_for_5_or_50_cases(team, client_for):
    publish(team)
    version = AIVersion.objects.create(pilot=team.pilot, identifier="m-1", released_on="2026-01-01")
    client = client_for(team.pm)
    add_cases(team, 5, bad_every=2)
    Case.objects.update(ai_version=version)
    client.get(url(team.pilot))
    few = count_queries(client, team.pilot)
    few_htmx = count_queries(client, team.pilot, headers=HTMX)
    add_cases(team, 45, start=5, bad_every=3)
    Case.objects.update(ai_version=version)
    assert Case.objects.filter(pilot=team.pilot).count() == 50
    assert count_queries(client, team.pilot) == few
    assert count_queries(client, team.pilot, headers=HTMX) == few_htmx


def test_it_is_a_404_for_an_outsider(team, client_for):
    assert client_for(team.outsider).get(url(team.pilot)).status_code == 404


def test_it_requires_get(team, client_for):
    assert client_for(team.pm).post(url(team.pilot)).status_code == 405
