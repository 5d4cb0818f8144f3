"""Rule-refinement suggestions: refreshed from reviewers' decisions, applied (a new rule version) or
dismissed by a program manager — both audited."""

from django.urls import reverse

from exceptions.models import Escalation, RuleTable, Suggestion
from exceptions.services import queue
from pilots.services import standards
from tests import factories
from tests.views.conftest import HTMX, actions
from tests.views.test_rules import SPEC, TABLE, arrival, ingest, publish, publish_standard, suggestion_on


def refresh_url(pilot) -> str:
    return reverse("suggestions_refresh", args=[pilot.pk])


def apply_url(pilot, suggestion) -> str:
    return reverse("suggestion_apply", args=[pilot.pk, suggestion.pk])


def dismiss_url(pilot, suggestion) -> str:
    return reverse("suggestion_dismiss", args=[pilot.pk, suggestion.pk])


def ready(team) -> Suggestion:
    """Rules in force and an open "consider automating" suggestion on the escalating rule."""
    publish_standard(team)
    table = publish(team)
    return suggestion_on(team, table.rules.get(position=2))


def audited_samples(team) -> None:
    """Every automated case sampled for audit, and reviewers overriding half of the samples."""
    publish_standard(team)
    publish(team, [TABLE[1], dict(TABLE[2], sample_percent="100")])
    ingest(team, [arrival(f"c{i}") for i in range(6)])
    for i, escalation in enumerate(Escalation.objects.order_by("id")):
        override = i % 2 == 0
        queue.decide(
            escalation_id=escalation.pk,
            reviewer=team.reviewer,
            outcome="override" if override else "approve",
            rationale="Checked against the photos.",
            corrected_outputs={"category": "theft"} if override else None,
        )


# --- refresh ---


def test_refresh_draws_suggestions_from_reviewers_decisions(team, client_for):
    audited_samples(team)
    response = client_for(team.pm).post(refresh_url(team.pilot), follow=True)
    assert response.redirect_chain == [(reverse("rules", args=[team.pilot.pk]), 302)]
    suggestion = Suggestion.objects.get()
    assert (suggestion.kind, suggestion.reviewed, suggestion.hits) == ("escalate", 6, 3)
    html = response.content.decode()
    assert "1 open suggestion." in html
    assert "were overridden or rejected in 3 of 6 (50%" in html
    # Refreshing again updates the same suggestion.
    client_for(team.pm).post(refresh_url(team.pilot))
    assert Suggestion.objects.get().pk == suggestion.pk


def test_htmx_refresh_returns_the_suggestions_fragment(team, client_for):
    audited_samples(team)
    response = client_for(team.pm).post(refresh_url(team.pilot), headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<section class="card suggestions" id="suggestions"')
    assert "1 open suggestion." in html


# --- apply ---


def test_applying_publishes_the_next_version_with_the_changed_action(team, client_for):
    audited_samples(team)
    client = client_for(team.pm)
    client.post(refresh_url(team.pilot))
    suggestion = Suggestion.objects.get()
    response = client.post(apply_url(team.pilot, suggestion), follow=True)
    assert "Published version 2." in response.content.decode()
    table = RuleTable.objects.get(version=2)
    default = table.rules.get(position=2)
    assert (default.action, float(default.sample_percent), default.service_level_hours) == ("escalate", 0, 24)
    assert table.note == "Applied suggestion: consider escalating"
    suggestion.refresh_from_db()
    assert (suggestion.state, suggestion.resolved_by, suggestion.applied_version) == ("applied", team.pm, 2)
    assert actions(pilot=team.pilot)[-2:] == ["rules.published", "rules.suggestion_applied"]


def test_applying_twice_is_refused_and_publishes_nothing_more(team, client_for):
    suggestion = ready(team)
    client = client_for(team.admin)
    client.post(apply_url(team.pilot, suggestion))
    response = client.post(apply_url(team.pilot, suggestion), follow=True)
    assert "This suggestion was applied already." in response.content.decode()
    assert RuleTable.objects.count() == 2
    assert RuleTable.objects.get(version=2).rules.get(position=2).action == "automate"
    assert actions(pilot=team.pilot).count("rules.suggestion_applied") == 1


def test_htmx_apply_returns_the_suggestions_and_announces_the_new_version(team, client_for):
    suggestion = ready(team)
    response = client_for(team.pm).post(apply_url(team.pilot, suggestion), headers=HTMX)
    assert response.status_code == 200
    assert response["HX-Trigger"] == '{"rulesPublished": {}}'
    html = response.content.decode()
    assert 'id="suggestions"' in html and "<html" not in html and "Published version 2." in html


# --- dismiss ---


def test_dismissing_keeps_the_rules_and_is_audited(team, client_for):
    suggestion = ready(team)
    client = client_for(team.pm)
    response = client.post(dismiss_url(team.pilot, suggestion), follow=True)
    assert "Suggestion dismissed" in response.content.decode()
    suggestion.refresh_from_db()
    assert (suggestion.state, suggestion.resolved_by) == ("dismissed", team.pm)
    assert RuleTable.objects.count() == 1
    assert actions(pilot=team.pilot)[-1] == "rules.suggestion_dismissed"
    # A repeat is refused, harmlessly.
    again = client.post(dismiss_url(team.pilot, suggestion), follow=True)
    assert "This suggestion was dismissed already." in again.content.decode()
    assert actions(pilot=team.pilot).count("rules.suggestion_dismissed") == 1


# --- whose suggestion, who may ---


def test_another_pilots_suggestion_is_a_404(team, client_for):
    publish_standard(team)
    publish(team)
    other = factories.PilotFactory(workspace=team.workspace)
    standards.publish_standard(pilot=other, actor=team.pm, spec=SPEC)
    other_table = publish(team, pilot=other)
    theirs = suggestion_on(team, other_table.rules.get(position=2), pilot=other)
    client = client_for(team.pm)
    assert client.post(apply_url(team.pilot, theirs)).status_code == 404
    assert client.post(dismiss_url(team.pilot, theirs)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.state == "open" and RuleTable.objects.filter(pilot=other).count() == 1


def test_only_admins_and_program_managers_may_act_on_suggestions(team, client_for):
    suggestion = ready(team)
    for name in ("owner", "reviewer", "leader"):
        client = client_for(team.person(name))
        assert client.post(refresh_url(team.pilot)).status_code == 403, name
        assert client.post(apply_url(team.pilot, suggestion)).status_code == 403, name
        assert client.post(dismiss_url(team.pilot, suggestion)).status_code == 403, name
    suggestion.refresh_from_db()
    assert suggestion.state == "open" and RuleTable.objects.count() == 1


def test_it_is_a_404_for_an_outsider(team, client_for):
    suggestion = ready(team)
    client = client_for(team.outsider)
    assert client.post(refresh_url(team.pilot)).status_code == 404
    assert client.post(apply_url(team.pilot, suggestion)).status_code == 404
    assert client.post(dismiss_url(team.pilot, suggestion)).status_code == 404
    suggestion.refresh_from_db()
    assert suggestion.state == "open"


def test_they_allow_only_post(team, client_for):
    suggestion = ready(team)
    client = client_for(team.pm)
    assert client.get(refresh_url(team.pilot)).status_code == 405
    assert client.get(apply_url(team.pilot, suggestion)).status_code == 405
    assert client.get(dismiss_url(team.pilot, suggestion)).status_code == 405
    suggestion.refresh_from_db()
    assert suggestion.state == "open"
