"""Step 3's panel on the pilot page: loaded by htmx, with a plain link when JavaScript is off."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from exceptions.models import Escalation, Suggestion
from exceptions.services import queue
from tests.views.conftest import HTMX
from tests.views.test_rules import TABLE, arrival, ingest, publish, publish_standard, suggestion_on


def url(pilot) -> str:
    return reverse("exceptions_panel", args=[pilot.pk])


def busy(team, n: int) -> None:
    """`n` escalations waiting (half of them past their service level), one decided, `n` suggestions."""
    long_ago = timezone.now() - timedelta(days=2)
    recent = timezone.now() - timedelta(hours=1)
    ingest(team, [arrival(f"big-{i}", amount="20000", received_at=long_ago if i % 2 else recent)
                  for i in range(n + 1)])  # fmt: skip
    ingest(team, [arrival(f"small-{i}") for i in range(n)])
    queue.decide(
        escalation_id=Escalation.objects.filter(decided_at=None).order_by("id").first().pk,
        reviewer=team.reviewer,
        outcome="approve",
        rationale="Fine.",
    )
    table = publish(team, [TABLE[1], dict(TABLE[2], sample_percent="0")])
    for _ in range(n):
        Suggestion.objects.filter(state="open").update(state="dismissed")
        suggestion_on(team, table.rules.get(position=1))


def test_the_pilot_page_loads_the_panel_and_links_to_the_rules(team, client_for):
    page = client_for(team.leader).get(reverse("pilot_detail", args=[team.pilot.pk])).content.decode()
    assert f'hx-get="{url(team.pilot)}" hx-trigger="load"' in page
    assert f'<a href="{reverse("rules", args=[team.pilot.pk])}">Open the routing rules</a>' in page


def test_without_rules_it_invites_to_write_them(team, client_for):
    edit = reverse("rules_edit", args=[team.pilot.pk])
    response = client_for(team.pm).get(url(team.pilot), headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="exceptions-panel"' in html and "<html" not in html
    assert "No routing rules yet" in html and edit in html
    assert edit not in client_for(team.leader).get(url(team.pilot), headers=HTMX).content.decode()


def test_it_shows_the_rules_in_force_and_the_review_figures(team, client_for):
    publish_standard(team)
    publish(team)
    busy(team, 3)
    response = client_for(team.pm).get(url(team.pilot), headers=HTMX)
    assert response.context_data["escalations"] == {"waiting": 3, "late": 2}
    assert (response.context_data["reviewed"], response.context_data["routed"]) == (1, 7)
    assert response.context_data["open_suggestions"] == 1
    html = response.content.decode()
    assert "Rules version 2: 2 rules" in html
    assert "2 past their service level" in html
    assert reverse("decision_log", args=[team.pilot.pk]) in html
    assert reverse("rules", args=[team.pilot.pk]) in html


def test_the_review_queue_link_is_for_those_who_review(team, client_for):
    queue_url = reverse("review_queue", args=[team.workspace.slug])
    for name in ("reviewer", "owner"):
        assert queue_url in client_for(team.person(name)).get(url(team.pilot), headers=HTMX).content.decode()
    for name in ("pm", "leader"):
        assert (
            queue_url not in client_for(team.person(name)).get(url(team.pilot), headers=HTMX).content.decode()
        )


def test_its_query_count_does_not_grow_with_the_data(team, client_for, django_assert_max_num_queries):
    publish_standard(team)
    publish(team)
    client = client_for(team.leader)
    busy(team, 1)
    with django_assert_max_num_queries(9):
        client.get(url(team.pilot), headers=HTMX)
    busy(team, 12)
    with django_assert_max_num_queries(9):
        response = client.get(url(team.pilot), headers=HTMX)
    assert response.context_data["escalations"]["waiting"] > 10


def test_every_member_sees_it_and_a_repeat_is_the_same(team, client_for):
    publish_standard(team)
    publish(team)
    for name in ("admin", "pm", "owner", "reviewer", "leader"):
        client = client_for(team.person(name))
        first = client.get(url(team.pilot), headers=HTMX)
        assert first.status_code == 200, name
        assert client.get(url(team.pilot), headers=HTMX).content == first.content, name


def test_it_is_a_404_for_an_outsider(team, client_for):
    assert client_for(team.outsider).get(url(team.pilot), headers=HTMX).status_code == 404


def test_it_allows_only_get(team, client_for):
    assert client_for(team.pm).post(url(team.pilot)).status_code == 405
