"""One published rule version, read-only: who published it, when, why, and how many cases it routed."""

from django.urls import reverse

from exceptions.models import RuleTable
from tests import factories
from tests.views.test_rules import TABLE, arrival, ingest, publish, publish_standard


def url(pilot, version: int) -> str:
    return reverse("rules_version", args=[pilot.pk, version])


def test_it_shows_a_version_with_its_author_note_and_routed_cases(team, client_for):
    publish_standard(team)
    publish(team)
    ingest(team, [arrival("a"), arrival("b"), arrival("big", amount="20000")])
    publish(team, [TABLE[1], dict(TABLE[2], sample_percent="10")])
    response = client_for(team.leader).get(url(team.pilot, 1))
    assert response.status_code == 200
    assert response.context["routed"] == 3
    assert [count for _rule, _condition, count in response.context["rows"]] == [0, 1, 2]
    html = response.content.decode()
    assert "Rules version 1" in html and "superseded" in html
    assert "3 rules · routed 3 cases" in html and "Published by Pm" in html
    assert "<code>problems.missing is true</code>" in html
    latest = client_for(team.leader).get(url(team.pilot, 2)).content.decode()
    assert "in force" in latest and "routed 0 cases" in latest and "10% sampled for audit" in latest


def test_an_unknown_version_or_another_pilots_is_a_404(team, client_for):
    publish_standard(team)
    publish(team)
    client = client_for(team.pm)
    assert client.get(url(team.pilot, 2)).status_code == 404
    other = factories.PilotFactory(workspace=team.workspace)
    assert client.get(url(other, 1)).status_code == 404


def test_every_member_may_read_it_twice(team, client_for):
    publish_standard(team)
    publish(team)
    for name in ("admin", "pm", "owner", "reviewer", "leader"):
        client = client_for(team.person(name))
        assert client.get(url(team.pilot, 1)).status_code == 200, name
        assert client.get(url(team.pilot, 1)).status_code == 200, name


def test_it_is_a_404_for_an_outsider(team, client_for):
    publish_standard(team)
    publish(team)
    assert client_for(team.outsider).get(url(team.pilot, 1)).status_code == 404


def test_it_allows_only_get(team, client_for):
    publish_standard(team)
    publish(team)
    assert client_for(team.pm).post(url(team.pilot, 1)).status_code == 405
    assert RuleTable.objects.count() == 1
