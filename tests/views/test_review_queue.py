"""The review queue: a reviewer's (and workflow owner's) home page of waiting cases.

This module also holds the helpers the other review view tests import (`ready`, `arrive`)."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from exceptions.models import Escalation
from exceptions.services import rules
from pilots.services import intake, standards
from tests import factories
from tests.views.conftest import HTMX

SPEC = {
    "inputs": [
        {"name": "amount", "type": "number", "required": True, "min": 0},
        {"name": "channel", "type": "enum", "allowed": ["web", "phone"], "required": True},
    ],
    "outputs": [
        {"name": "category", "type": "enum", "allowed": ["glass", "theft"]},
        {"name": "confidence", "type": "number"},
    ],
}
# Missing inputs and large amounts escalate; everything else is automated and sampled for audit (100%),
# so every arriving case waits in the queue: large ones "escalated", the others "sampled".
TABLE = [
    {
        "name": "Broken input",
        "clauses": [{"field": "problems.missing", "op": "is_true"}],
        "action": "escalate",
        "service_level_hours": "4",
    },
    {
        "name": "Large",
        "clauses": [{"field": "inputs.amount", "op": "gt", "value": "10000"}],
        "action": "escalate",
        "service_level_hours": "24",
    },
    {"clauses": [], "action": "automate", "sample_percent": "100"},
]


def ready(team, pilot=None, table=None):
    """The pilot's standard and rules are published; returns the rule table."""
    pilot = pilot or team.pilot
    standards.publish_standard(pilot=pilot, actor=team.pm, spec=SPEC)
    return rules.publish_rules(pilot=pilot, rules=table or TABLE, actor=team.pm).table


def arrive(team, *external_ids, amount="20000", hours_ago=1, pilot=None, **outputs) -> list[Escalation]:
    """Cases arrive through intake (received `hours_ago`); returns their escalations, in that order (None
    for a case that does not wait for a reviewer)."""
    pilot = pilot or team.pilot
    received = (timezone.now() - timedelta(hours=hours_ago)).isoformat()
    arrivals = [
        intake.Arrival(
            external_id=external_id,
            inputs={"amount": amount, "channel": "web"} if amount is not None else {"channel": "web"},
            outputs={"category": "glass", "confidence": 0.9} | outputs,
            received_at=received,
        )
        for external_id in external_ids
    ]
    intake.ingest(pilot=pilot, arrivals=arrivals, source="upload", actor=team.pm)
    found = {e.case.external_id: e for e in Escalation.objects.filter(pilot=pilot).select_related("case")}
    return [found.get(external_id) for external_id in external_ids]


def url(team, **params) -> str:
    base = reverse("review_queue", args=[team.workspace.slug])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def ids(response) -> list[str]:
    return [row.escalation.case.external_id for row in response.context["rows"]]


def test_a_reviewer_sees_the_waiting_cases_oldest_first(team, client_for):
    ready(team)
    arrive(team, "newer", hours_ago=1)
    arrive(team, "older", hours_ago=5)
    arrive(team, "sample", amount="50", hours_ago=3)
    for name in ("reviewer", "owner"):
        response = client_for(team.person(name)).get(url(team))
        assert response.status_code == 200, name
        assert ids(response) == ["older", "sample", "newer"], name
    page = response.content.decode()
    assert "3 cases waiting" in page
    assert "sampled for audit" in page and "escalated" in page
    assert "#2 Large: inputs.amount &gt; 10000" in page
    assert 'src="/static/js/queue.js"' in page
    assert "Keyboard:" in page


def test_a_row_shows_reason_rule_problems_time_left_and_claim(team, client_for):
    ready(team)
    broken, late = (
        arrive(team, "broken", amount=None, hours_ago=0.5)[0],
        arrive(team, "late", hours_ago=26)[0],
    )
    Escalation.objects.filter(pk=broken.pk).update(
        claimed_by=team.owner, claim_expires_at=timezone.now() + timedelta(minutes=20)
    )
    response = client_for(team.reviewer).get(url(team))
    page = response.content.decode()
    row = page[page.index(f'id="queue-row-{broken.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "#1 Broken input: problems.missing is true" in row
    assert 'class="kind kind-missing"' in row
    assert "3 h left" in row
    assert "Owner" in row and "until" in row
    assert reverse("review_case", args=[broken.pk]) in row
    assert f'hx-get="{reverse("review_case", args=[broken.pk])}' in row
    late_row = page[page.index(f'id="queue-row-{late.pk}"') :]
    late_row = late_row[: late_row.index("</tr>")]
    assert "is-overdue" in late_row and "overdue by 2 h" in late_row and "overdue-flag" in late_row
    assert "free" in late_row


def test_a_lapsed_claim_shows_the_case_as_free(team, client_for):
    ready(team)
    (escalation,) = arrive(team, "c1")
    Escalation.objects.filter(pk=escalation.pk).update(
        claimed_by=team.owner, claim_expires_at=timezone.now() - timedelta(minutes=1)
    )
    row = client_for(team.reviewer).get(url(team)).context["rows"][0]
    assert not row.held


def test_it_filters_by_pilot_rule_reason_and_lateness(team, client_for):
    table = ready(team)
    arrive(team, "big", hours_ago=2)
    arrive(team, "broken", amount=None, hours_ago=2)
    arrive(team, "small", amount="50", hours_ago=2)
    arrive(team, "overdue", hours_ago=30)
    other = factories.PilotFactory(workspace=team.workspace, workflow_owner=team.owner)
    ready(team, pilot=other)
    arrive(team, "theirs", pilot=other)
    client = client_for(team.reviewer)
    assert sorted(ids(client.get(url(team)))) == ["big", "broken", "overdue", "small", "theirs"]
    assert ids(client.get(url(team, pilot=other.pk))) == ["theirs"]
    large = table.rules.get(position=2)
    assert sorted(ids(client.get(url(team, rule=large.pk)))) == ["big", "overdue"]
    assert sorted(ids(client.get(url(team, reason="escalated")))) == ["big", "broken", "overdue", "theirs"]
    assert ids(client.get(url(team, reason="sampled"))) == ["small"]
    assert ids(client.get(url(team, reason="missing"))) == ["broken"]
    assert ids(client.get(url(team, late="yes"))) == ["overdue"]
    assert ids(client.get(url(team, reason="sampled", late="yes"))) == []
    # Nonsense is ignored rather than an error.
    assert len(ids(client.get(url(team, pilot="x", rule="y", reason="z")))) == 5
    page = client.get(url(team, reason="missing")).content.decode()
    assert '<option value="missing" selected>' in page
    assert f'<option value="{large.pk}">' in page and "Clear filters" in page


def test_the_filter_form_works_without_javascript_and_updates_the_list_in_place(team, client_for):
    page = client_for(team.reviewer).get(url(team)).content.decode()
    assert f'action="{url(team)}"' in page and 'method="get"' in page
    assert 'hx-target="#queue-list"' in page and 'hx-push-url="true"' in page
    assert "<noscript><button" in page


def test_an_htmx_request_gets_the_list_alone(team, client_for):
    ready(team)
    arrive(team, "c1")
    response = client_for(team.reviewer).get(url(team, reason="escalated"), headers=HTMX)
    page = response.content.decode()
    assert 'id="queue-list"' in page and "c1" in page
    assert "<html" not in page and 'name="reason"' not in page


def test_with_nothing_waiting_it_says_so(team, client_for):
    ready(team)
    assert "Nothing waits for you." in client_for(team.reviewer).get(url(team)).content.decode()
    arrive(team, "c1", amount="50")
    assert "No waiting case matches these filters." in (
        client_for(team.reviewer).get(url(team, reason="escalated")).content.decode()
    )


def test_it_shows_only_the_cases_the_member_may_review(team, client_for):
    ready(team)
    arrive(team, "ours")
    # Another pilot names another reviewer: its cases wait for them (and its owner), not for ours.
    colleague = factories.member(team.workspace, "reviewer", username="colleague")
    named = factories.PilotFactory(workspace=team.workspace)
    named.reviewers.add(colleague)
    ready(team, pilot=named)
    arrive(team, "theirs", pilot=named)
    # Decided cases have left the queue.
    (done,) = arrive(team, "done")
    Escalation.objects.filter(pk=done.pk).update(decided_at=timezone.now())
    assert ids(client_for(team.reviewer).get(url(team))) == ["ours"]
    # The colleague serves both: the team's pilot names nobody, so every reviewer serves it.
    assert ids(client_for(colleague).get(url(team))) == ["ours", "theirs"]


def test_it_shows_50_cases_a_page_and_keeps_the_filters(team, client_for):
    ready(team)
    arrive(team, *[f"case-{i:03}" for i in range(55)])
    client = client_for(team.reviewer)
    first = client.get(url(team, reason="escalated"))
    assert len(ids(first)) == 50
    assert "?reason=escalated&amp;page=2" in first.content.decode()
    second = client.get(url(team, reason="escalated", page=2))
    assert len(ids(second)) == 5
    # A case opened from page 2 remembers the list it came from.
    assert "?reason=escalated&amp;page=2" in second.content.decode().split("open-case")[1]


def test_it_is_a_404_for_an_outsider(team, client_for):
    assert client_for(team.outsider).get(url(team)).status_code == 404


def test_members_who_do_not_review_are_refused(team, client_for):
    for name in ("leader", "pm", "admin"):
        assert client_for(team.person(name)).get(url(team)).status_code == 403, name


def test_it_allows_only_get(team, client_for):
    assert client_for(team.reviewer).post(url(team)).status_code == 405


def test_reviewers_and_owners_find_the_queue_in_the_nav_and_on_their_home_page(team, client_for):
    queue = url(team)
    home = reverse("workspace_home", args=[team.workspace.slug])
    for name in ("reviewer", "owner"):
        page = client_for(team.person(name)).get(home).content.decode()
        assert f'href="{queue}">Review queue</a>' in page, name
        assert 'id="review-queue-link"' in page, name
    for name in ("leader", "pm"):
        assert queue not in client_for(team.person(name)).get(home).content.decode(), name


def count_queries(client, target, **kwargs) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(target, **kwargs).status_code == 200
    return len(queries)


def test_the_query_count_does_not_grow_with_the_queue(team, client_for, django_assert_max_num_queries):
    ready(team)
    other = factories.PilotFactory(workspace=team.workspace, workflow_owner=team.owner)
    ready(team, pilot=other)
    client = client_for(team.owner)
    arrive(team, "a1", "a2")
    arrive(team, "b1", amount=None, pilot=other)
    client.get(url(team))
    few = count_queries(client, url(team))
    few_htmx = count_queries(client, url(team), headers=HTMX)
    arrive(team, *[f"m{i}" for i in range(30)], amount="50")
    arrive(team, *[f"n{i}" for i in range(20)], amount=None, pilot=other, hours_ago=40)
    Escalation.objects.filter(case__external_id__startswith="n1").update(
        claimed_by=team.reviewer, claim_expires_at=timezone.now() + timedelta(minutes=5)
    )
    assert Escalation.objects.count() == 53
    with django_assert_max_num_queries(few):
        response = client.get(url(team))
    assert len(response.context["rows"]) == 50
    with django_assert_max_num_queries(few_htmx):
        client.get(url(team), headers=HTMX)
