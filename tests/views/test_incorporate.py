"""Marking corrections as incorporated — into an AI version, an input-standard version, a routing-rule
version or the regression set — from the corrections page, in bulk."""

from datetime import date

from django.urls import reverse

from exceptions.services import rules
from feedback.models import Correction, Target
from pilots.models import AIVersion
from pilots.services import standards
from tests import factories
from tests.views.conftest import HTMX, actions
from tests.views.test_corrections import arrive, correct, ready
from tests.views.test_corrections import url as list_url


def url(team) -> str:
    return reverse("corrections_incorporate", args=[team.pilot.pk])


def backlog(team, n=2) -> list[Correction]:
    ready(team)
    return [correct(team, case) for case in arrive(team, *[f"c{i}" for i in range(n)])]


def post(client, team, corrections, target, **kwargs):
    return client.post(url(team), {"correction": [c.pk for c in corrections], "target": target}, **kwargs)


def test_the_program_manager_incorporates_into_an_ai_version(team, client_for):
    made = backlog(team)
    v2 = AIVersion.objects.get(identifier="v2")
    client = client_for(team.pm)
    response = client.post(
        url(team),
        {"correction": [c.pk for c in made], "target": f"ai_version:{v2.pk}", "query": "field=category"},
    )
    assert response.status_code == 302 and response["Location"] == list_url(team, field="category")
    for c in Correction.objects.all():
        assert (c.incorporated_into, c.into_ai_version, c.incorporated_by) == (Target.AI_VERSION, v2, team.pm)
        assert c.incorporated_at is not None
    assert actions(pilot=team.pilot).count("corrections.incorporated") == 1
    page = client.get(list_url(team, state="incorporated")).content.decode()
    assert "2 corrections marked as incorporated into AI version v2 (2026-03-01)." in page
    assert "AI version v2" in page and "after under a day" in page


def test_every_kind_of_target(team, client_for):
    made = backlog(team, 3)
    table = rules.publish_rules(
        pilot=team.pilot, rules=[{"clauses": [], "action": "automate"}], actor=team.pm
    ).table
    standard = team.pilot.standards.get()
    client = client_for(team.admin)
    assert post(client, team, made[:1], f"standard:{standard.pk}").status_code == 302
    assert post(client, team, made[1:2], f"rules:{table.pk}").status_code == 302
    assert post(client, team, made[2:], "regression_set").status_code == 302
    found = {c.pk: c for c in Correction.objects.all()}
    assert (found[made[0].pk].incorporated_into, found[made[0].pk].into_standard) == (
        Target.STANDARD,
        standard,
    )
    assert (found[made[1].pk].incorporated_into, found[made[1].pk].into_rules) == (Target.RULES, table)
    assert found[made[2].pk].incorporated_into == Target.REGRESSION_SET


def test_htmx_gets_the_list_back_with_the_count(team, client_for):
    made = backlog(team, 3)
    client = client_for(team.pm)
    response = post(client, team, made[:2], "regression_set", headers=HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.strip().startswith('<section id="corrections-list"') and "<html" not in body
    assert "2 corrections marked as incorporated into the regression set." in body
    assert 'id="backlog-count">1<' in body


def test_incorporating_twice_marks_nothing_the_second_time(team, client_for):
    made = backlog(team)
    client = client_for(team.pm)
    post(client, team, made, "regression_set")
    first = set(Correction.objects.values_list("incorporated_at", flat=True))
    v1 = AIVersion.objects.get(identifier="v1")
    response = post(client, team, made, f"ai_version:{v1.pk}", headers=HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "0 corrections marked" in body and "2 had been incorporated already" in body
    # They keep their first incorporation.
    assert set(Correction.objects.values_list("incorporated_into", flat=True)) == {Target.REGRESSION_SET}
    assert set(Correction.objects.values_list("incorporated_at", flat=True)) == first
    assert actions(pilot=team.pilot).count("corrections.incorporated") == 1


def test_an_ai_version_of_another_pilot_is_refused_and_nothing_changes(team, client_for):
    made = backlog(team)
    elsewhere = factories.PilotFactory(
        workspace=team.other_workspace, program_manager=team.outsider, workflow_owner=team.outsider
    )
    foreign = standards.register_ai_version(
        pilot=elsewhere, actor=team.outsider, identifier="theirs", released_on=date(2026, 1, 1)
    )
    client = client_for(team.pm)
    response = post(client, team, made, f"ai_version:{foreign.pk}")
    assert response.status_code == 422
    page = response.content.decode()
    assert "Choose a new ai version of this pilot." in page and "<html" in page
    htmx = post(client, team, made, f"ai_version:{foreign.pk}", headers=HTMX)
    assert htmx.status_code == 422 and "of this pilot" in htmx.content.decode()
    # The chosen corrections stay chosen.
    assert f'value="{made[0].pk}" form="incorporate-form"' in page
    assert 'aria-label="Choose the category correction of case c0" checked' in page
    assert set(Correction.objects.values_list("incorporated_into", flat=True)) == {""}
    assert "corrections.incorporated" not in actions(pilot=team.pilot)


def test_other_refusals(team, client_for):
    made = backlog(team)
    other = factories.PilotFactory(workspace=team.workspace, program_manager=team.pm)
    ready(team, pilot=other)
    theirs = correct(team, arrive(team, "x", pilot=other)[0])
    client = client_for(team.pm)
    for corrections, target, message in (
        (made, "", "Choose where they went."),
        (made, "somewhere", "Choose where the corrections were incorporated."),
        (made, "ai_version:x", "Choose a new ai version of this pilot."),
        (made, "standard:999999", "Choose the input standard of this pilot."),
        ([], "regression_set", "Choose at least one correction."),
        ([*made, theirs], "regression_set", "Some of these corrections are not this pilot"),
    ):
        response = post(client, team, corrections, target)
        assert response.status_code == 422, target
        assert message in response.content.decode(), target
    assert set(Correction.objects.values_list("incorporated_into", flat=True)) == {""}


def test_it_needs_the_incorporate_role(team, client_for):
    made = backlog(team)
    for name in ("reviewer", "owner", "leader"):
        assert post(client_for(team.person(name)), team, made, "regression_set").status_code == 403, name
    assert post(client_for(team.outsider), team, made, "regression_set").status_code == 404
    assert set(Correction.objects.values_list("incorporated_into", flat=True)) == {""}


def test_it_allows_only_post(team, client_for):
    assert client_for(team.pm).get(url(team)).status_code == 405
