"""Deciding a waiting case: approve, override with corrected outputs, reject — each with a rationale.
Refused (and nothing changed) when someone else holds the case or it was decided already."""

import json
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from exceptions.models import Decision, Escalation
from pilots.models import Case
from tests import factories
from tests.views.conftest import HTMX, actions
from tests.views.test_review_queue import arrive, ready


def url(escalation) -> str:
    return reverse("review_decide", args=[escalation.pk])


def decide(client, escalation, outcome="approve", rationale="Looks right.", htmx=True, **data):
    payload = {"outcome": outcome, "rationale": rationale, **data}
    return client.post(url(escalation), payload, headers=HTMX if htmx else {})


def test_approving_records_the_decision_and_moves_on_to_the_next_case(team, client_for):
    ready(team)
    first, second = arrive(team, "first", hours_ago=3)[0], arrive(team, "second", hours_ago=2)[0]
    response = decide(client_for(team.reviewer), first, queue="reason=escalated")
    assert response.status_code == 200
    decision = Decision.objects.get()
    assert (decision.escalation, decision.outcome, decision.rationale) == (first, "approve", "Looks right.")
    assert decision.reviewer == team.reviewer and decision.corrected_outputs == {}
    case = Case.objects.get(external_id="first")
    assert case.decided_at is not None and case.touchpoints == 1 and not case.corrected
    page = response.content.decode()
    assert "Case first approved." in page
    # The next case opens, and the refreshed list (without the decided row) comes out of band.
    assert f'data-escalation="{second.pk}"' in page
    assert 'hx-swap-oob="true"' in page
    assert f'id="queue-row-{first.pk}"' not in page
    selected = f'id="queue-row-{second.pk}" data-queue-row data-escalation="{second.pk}" class=" is-selected"'
    assert selected in page
    assert json.loads(response["HX-Trigger-After-Swap"]) == {"caseDecided": {"decided": first.pk}}
    assert actions(pilot=team.pilot).count("case.reviewed") == 1


def test_the_last_decision_leaves_an_empty_queue(team, client_for):
    ready(team)
    (escalation,) = arrive(team, "only")
    response = decide(client_for(team.owner), escalation, "reject", "Fraud.")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Case only rejected." in page and "Nothing waits for you." in page
    assert Decision.objects.get().outcome == "reject"


def test_the_next_case_skips_one_someone_else_holds(team, client_for):
    ready(team)
    (first,) = arrive(team, "first", hours_ago=3)
    (held,) = arrive(team, "held", hours_ago=2)
    (free,) = arrive(team, "free", hours_ago=1)
    Escalation.objects.filter(pk=held.pk).update(
        claimed_by=team.owner, claim_expires_at=timezone.now() + timedelta(minutes=5)
    )
    page = decide(client_for(team.reviewer), first).content.decode()
    panel = page[page.index('<section id="review-case"') :]
    assert panel[: panel.index(">")].endswith(f'data-escalation="{free.pk}"')


def test_without_htmx_it_returns_to_the_queue_with_a_message(team, client_for):
    ready(team)
    (escalation,) = arrive(team, "c1")
    response = decide(client_for(team.reviewer), escalation, htmx=False, queue="late=yes&page=2")
    assert response.status_code == 302
    assert response["Location"] == reverse("review_queue", args=[team.workspace.slug]) + "?late=yes&page=2"
    assert Decision.objects.count() == 1


def test_an_override_keeps_the_corrected_outputs(team, client_for):
    ready(team)
    (escalation,) = arrive(team, "c1")
    response = decide(
        client_for(team.reviewer),
        escalation,
        "override",
        "It was theft.",
        **{"outputs.category": "theft", "outputs.confidence": "0.9"},
    )
    assert response.status_code == 200
    decision = Decision.objects.get()
    assert decision.outcome == "override" and decision.corrected_outputs == {"category": "theft"}
    assert decision.ai_outputs == {"category": "glass", "confidence": 0.9}
    case = Case.objects.get()
    assert case.corrected and case.touchpoints == 1


def test_an_override_leaves_an_untouched_ai_value_alone_even_one_that_does_not_fit(team, client_for):
    ready(team)
    (escalation,) = arrive(team, "c1", confidence="high")  # not a number: kept as the AI gave it
    response = decide(
        client_for(team.reviewer),
        escalation,
        "override",
        "It was theft.",
        **{"outputs.category": "theft", "outputs.confidence": "high"},
    )
    assert response.status_code == 200
    assert Decision.objects.get().corrected_outputs == {"category": "theft"}


def test_a_bad_override_is_refused_on_its_field_with_the_inputs_kept(team, client_for):
    ready(team)
    (escalation,) = arrive(team, "c1")
    response = decide(
        client_for(team.reviewer),
        escalation,
        "override",
        "Confidence is off.",
        **{"outputs.category": "theft", "outputs.confidence": "very"},
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert 'id="output-confidence-error">Confidence must be a number.</p>' in page
    assert 'name="outputs.confidence" value="very"' in page
    assert '<option value="theft" selected>' in page
    assert ">Confidence is off.</textarea>" in page
    assert 'id="outcome-override" checked' in page
    assert not Decision.objects.exists()
    assert Case.objects.get().decided_at is None


def test_an_override_that_changes_nothing_or_a_missing_rationale_is_refused(team, client_for):
    ready(team)
    (escalation,) = arrive(team, "c1")
    client = client_for(team.reviewer)
    response = decide(client, escalation, "override", "Same.", **{"outputs.category": "glass"})
    assert response.status_code == 422
    assert "An override changes at least one AI output" in response.content.decode()
    response = decide(client, escalation, "approve", "  ")
    assert response.status_code == 422
    assert 'id="rationale-error"' in response.content.decode()
    response = decide(client, escalation, "", "Why not.", htmx=False)
    assert response.status_code == 422
    page = response.content.decode()
    assert "Choose approve, override or reject." in page and "<html" in page
    assert not Decision.objects.exists()


def test_deciding_twice_is_refused_and_keeps_one_decision(team, client_for):
    ready(team)
    (escalation,) = arrive(team, "c1")
    client = client_for(team.reviewer)
    assert decide(client, escalation).status_code == 200
    response = decide(client, escalation, "reject", "Changed my mind.")
    assert response.status_code == 409
    assert "This case was decided already." in response.content.decode()
    response = decide(client_for(team.owner), escalation, "reject", "Me too.", htmx=False)
    assert response.status_code == 302
    assert Decision.objects.get().outcome == "approve"
    assert actions(pilot=team.pilot).count("case.reviewed") == 1


def test_a_case_claimed_by_someone_else_is_refused_and_nothing_changes(team, client_for):
    ready(team)
    (escalation,) = arrive(team, "c1")
    client_for(team.owner).post(reverse("review_claim", args=[escalation.pk]), headers=HTMX)
    response = decide(client_for(team.reviewer), escalation)
    assert response.status_code == 409
    assert "Owner is working on this case" in response.content.decode()
    assert not Decision.objects.exists()
    assert Escalation.objects.get().claimed_by == team.owner
    assert Case.objects.get().decided_at is None


def test_an_unclaimed_case_or_one_whose_claim_lapsed_can_be_decided(team, client_for):
    ready(team)
    (escalation,) = arrive(team, "c1")
    Escalation.objects.filter(pk=escalation.pk).update(
        claimed_by=team.owner, claim_expires_at=timezone.now() - timedelta(minutes=1)
    )
    assert decide(client_for(team.reviewer), escalation).status_code == 200
    assert Decision.objects.get().reviewer == team.reviewer


def test_it_is_a_404_for_an_outsider(team, client_for):
    ready(team)
    (escalation,) = arrive(team, "c1")
    assert decide(client_for(team.outsider), escalation).status_code == 404
    assert not Decision.objects.exists()


def test_members_who_may_not_review_it_are_refused(team, client_for):
    ready(team)
    (escalation,) = arrive(team, "c1")
    for name in ("leader", "pm", "admin"):
        assert decide(client_for(team.person(name)), escalation).status_code == 403, name
    # A reviewer the pilot does not name.
    team.pilot.reviewers.add(factories.member(team.workspace, "reviewer", username="named"))
    assert decide(client_for(team.reviewer), escalation).status_code == 403
    assert not Decision.objects.exists()


def test_it_allows_only_post(team, client_for):
    ready(team)
    (escalation,) = arrive(team, "c1")
    assert client_for(team.reviewer).get(url(escalation)).status_code == 405
    assert not Decision.objects.exists()
