"""Opening a waiting case beside the queue (htmx) or as a page of its own: inputs, AI outputs, problems,
rule, and the decision form; and the case page's "Exception path" card."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from exceptions.models import Escalation
from exceptions.services import queue as review
from tests import factories
from tests.views.conftest import HTMX
from tests.views.test_review_queue import arrive, ready


def url(escalation, query: str = "") -> str:
    return reverse("review_case", args=[escalation.pk]) + (f"?{query}" if query else "")


def test_htmx_opens_the_case_beside_the_list(team, client_for):
    ready(team)
    (escalation,) = arrive(team, "broken", amount=None, confidence=0.42)
    for name in ("reviewer", "owner"):
        response = client_for(team.person(name)).get(url(escalation, "reason=missing&page=1"), headers=HTMX)
        assert response.status_code == 200, name
    page = response.content.decode()
    assert page.lstrip().startswith('<section id="review-case"') and "<html" not in page
    assert f'data-escalation="{escalation.pk}"' in page
    assert "Escalated by a rule" in page and "rules v1 · #1 Broken input: problems.missing is true" in page
    assert 'class="kind kind-missing"' in page and "inputs.amount" in page  # the problem
    assert "<code>channel</code>" in page and "web" in page  # the inputs
    assert "0.42" in page  # the AI outputs
    assert reverse("case_detail", args=[team.pilot.pk, escalation.case_id]) in page
    # The decision form: outcomes, rationale, one field per AI output of the standard, prefilled.
    assert 'hx-post="{}"'.format(reverse("review_decide", args=[escalation.pk])) in page
    for outcome in ("approve", "override", "reject"):
        assert f'id="outcome-{outcome}"' in page
    assert 'name="rationale"' in page
    assert 'name="outputs.confidence" value="0.42"' in page
    assert '<option value="glass" selected>' in page
    assert 'data-key="claim"' in page
    # The forms carry the list the case was opened from.
    assert 'name="queue" value="reason=missing&amp;page=1"' in page


def test_without_htmx_it_is_a_page_with_plain_forms_and_a_way_back(team, client_for):
    ready(team)
    (escalation,) = arrive(team, "c1")
    response = client_for(team.reviewer).get(url(escalation, "reason=escalated&page=2"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" in page and 'id="review-case"' in page
    back = reverse("review_queue", args=[team.workspace.slug]) + "?reason=escalated&amp;page=2"
    assert f'href="{back}"' in page
    assert f'action="{reverse("review_decide", args=[escalation.pk])}"' in page
    assert "hx-post" not in page
    assert 'src="/static/js/queue.js"' in page


def test_a_case_held_by_another_reviewer_offers_no_actions(team, client_for):
    ready(team)
    (escalation,) = arrive(team, "c1")
    review.claim(escalation_id=escalation.pk, user=team.owner)
    page = client_for(team.reviewer).get(url(escalation), headers=HTMX).content.decode()
    assert "Owner is working on this case" in page
    assert 'data-key="claim"' not in page and 'name="rationale"' not in page


def test_my_claim_offers_to_give_it_back(team, client_for):
    ready(team)
    (escalation,) = arrive(team, "c1")
    review.claim(escalation_id=escalation.pk, user=team.reviewer)
    page = client_for(team.reviewer).get(url(escalation), headers=HTMX).content.decode()
    assert "Extend my claim" in page and reverse("review_release", args=[escalation.pk]) in page


def test_a_decided_case_shows_its_decision_and_no_form(team, client_for):
    ready(team)
    (escalation,) = arrive(team, "c1")
    review.decide(
        escalation_id=escalation.pk,
        reviewer=team.reviewer,
        outcome="override",
        rationale="It was theft.",
        corrected_outputs={"category": "theft"},
    )
    page = client_for(team.owner).get(url(escalation), headers=HTMX).content.decode()
    assert "Override" in page and "It was theft." in page and "<strong>theft</strong>" in page
    assert 'name="rationale"' not in page


def test_it_is_a_404_for_an_outsider_or_an_unknown_case(team, client_for):
    ready(team)
    (escalation,) = arrive(team, "c1")
    assert client_for(team.outsider).get(url(escalation)).status_code == 404
    assert client_for(team.reviewer).get(reverse("review_case", args=[999999])).status_code == 404


def test_members_who_may_not_review_it_are_refused(team, client_for):
    ready(team)
    (escalation,) = arrive(team, "c1")
    for name in ("leader", "pm", "admin"):
        assert client_for(team.person(name)).get(url(escalation)).status_code == 403, name
    # A pilot that names its reviewers: other reviewers may not work its cases.
    team.pilot.reviewers.add(factories.member(team.workspace, "reviewer", username="named"))
    assert client_for(team.reviewer).get(url(escalation)).status_code == 403


def test_it_allows_only_get(team, client_for):
    ready(team)
    (escalation,) = arrive(team, "c1")
    assert client_for(team.reviewer).post(url(escalation)).status_code == 405


def test_the_case_page_shows_the_exception_path(team, client_for):
    ready(team)
    (escalation,) = arrive(team, "c1")
    case_url = reverse("case_detail", args=[team.pilot.pk, escalation.case_id])
    Escalation.objects.filter(pk=escalation.pk).update(
        claimed_by=team.owner, claim_expires_at=timezone.now() + timedelta(minutes=10)
    )
    page = client_for(team.reviewer).get(case_url).content.decode()
    assert 'id="case-review"' in page
    assert "rules v1 · #2 Large: inputs.amount &gt; 10000" in page
    assert "waiting, due" in page and "claimed by Owner" in page
    assert reverse("review_case", args=[escalation.pk]) in page
    Escalation.objects.filter(pk=escalation.pk).update(claimed_by=None, claim_expires_at=None)
    review.decide(escalation_id=escalation.pk, reviewer=team.reviewer, outcome="reject", rationale="Fraud.")
    page = client_for(team.leader).get(case_url).content.decode()
    assert "Reviewer's decision" in page and "Fraud." in page and "Reject" in page
    assert reverse("review_case", args=[escalation.pk]) not in page


def test_the_case_page_of_a_case_without_rules_has_no_exception_path(team, client_for):
    from tests.views.test_step2_helpers import add_cases

    add_cases(team, 1)
    case = team.pilot.cases.get()
    page = client_for(team.leader).get(reverse("case_detail", args=[team.pilot.pk, case.pk])).content.decode()
    assert 'id="case-review"' not in page
