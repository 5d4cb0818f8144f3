"""The decision log: routing decisions (by the rules) and review decisions (by people), filterable,
paginated, and downloadable as a CSV that is safe to open in a spreadsheet."""

import csv
import io
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from exceptions.models import Decision
from exceptions.services import queue as review
from exceptions.services import rules
from pilots.models import Case
from tests.views.conftest import HTMX
from tests.views.test_review_queue import TABLE, arrive, ready


def url(team, **params) -> str:
    base = reverse("decision_log", args=[team.pilot.pk])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def csv_url(team, **params) -> str:
    base = reverse("decision_log_csv", args=[team.pilot.pk])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def rows(response) -> list[tuple[str, str, str]]:
    return [
        (r["log_kind"], r["log_outcome"], r["log_external_id"]) for r in response.context["page"].object_list
    ]


def decided(team):
    """Three routed cases; two of them decided by reviewers."""
    ready(team)
    big, broken = arrive(team, "big", hours_ago=3)[0], arrive(team, "broken", amount=None, hours_ago=2)[0]
    arrive(team, "small", amount="50", hours_ago=1)
    review.decide(
        escalation_id=big.pk,
        reviewer=team.reviewer,
        outcome="override",
        rationale='=HYPERLINK("http://evil")',
        corrected_outputs={"category": "theft"},
    )
    review.decide(
        escalation_id=broken.pk, reviewer=team.owner, outcome="reject", rationale="No amount, no claim."
    )


def test_every_member_sees_routing_and_review_decisions(team, client_for):
    decided(team)
    for name in ("admin", "pm", "owner", "reviewer", "leader"):
        response = client_for(team.person(name)).get(url(team))
        assert response.status_code == 200, name
    assert sorted(rows(response)) == [
        ("review", "override", "big"),
        ("review", "reject", "broken"),
        ("routing", "escalated", "big"),
        ("routing", "escalated", "broken"),
        ("routing", "sampled", "small"),
    ]
    page = response.content.decode()
    assert "5 decisions" in page
    assert "No amount, no claim." in page and "#2 Large: inputs.amount &gt; 10000" in page
    assert "Reviewer" in page and ">rules<" in page
    for case in Case.objects.all():
        assert reverse("case_detail", args=[team.pilot.pk, case.pk]) in page
    assert f'href="{csv_url(team)}"' in page


def test_it_filters(team, client_for):
    decided(team)
    client = client_for(team.pm)
    assert len(rows(client.get(url(team, kind="routing")))) == 3
    assert {r[0] for r in rows(client.get(url(team, kind="review")))} == {"review"}
    assert rows(client.get(url(team, outcome="sampled"))) == [("routing", "sampled", "small")]
    assert rows(client.get(url(team, outcome="reject"))) == [("review", "reject", "broken")]
    assert rows(client.get(url(team, actor=team.reviewer.pk))) == [("review", "override", "big")]
    assert {r[2] for r in rows(client.get(url(team, q="b")))} == {"big", "broken"}
    # A new rule version routes the next cases.
    rules.publish_rules(
        pilot=team.pilot, rules=[*TABLE[:2], dict(TABLE[2], sample_percent="0")], actor=team.pm
    )
    arrive(team, "later", amount="50")
    assert rows(client.get(url(team, rule_version=2))) == [("routing", "automated", "later")]
    assert len(rows(client.get(url(team, rule_version=1)))) == 5
    # Dates are days in the workspace's time zone.
    Case.objects.filter(external_id="small").update(received_at=timezone.now() - timedelta(days=10))
    today = timezone.localdate(timezone=team.workspace.zone)
    old = timezone.localdate(timezone.now() - timedelta(days=10), team.workspace.zone).isoformat()
    assert rows(client.get(url(team, date_from=old, date_to=old))) == [("routing", "sampled", "small")]
    assert "small" not in {r[2] for r in rows(client.get(url(team, date_from=today.isoformat())))}
    # Nonsense is ignored.
    assert len(rows(client.get(url(team, rule_version="x", actor="y", date_from="z")))) == 6
    page = client.get(url(team)).content.decode()
    assert f'<option value="{team.reviewer.pk}">Reviewer</option>' in page
    assert f'<option value="{team.owner.pk}">Owner</option>' in page


def test_it_shows_50_decisions_a_page_and_keeps_the_filters(team, client_for):
    ready(team)
    arrive(team, *[f"case-{i:03}" for i in range(55)], amount="50")
    client = client_for(team.leader)
    first = client.get(url(team, kind="routing"))
    assert len(rows(first)) == 50
    assert "?kind=routing&amp;page=2" in first.content.decode()
    assert len(rows(client.get(url(team, kind="routing", page=2)))) == 5


def test_an_htmx_request_gets_the_table_alone(team, client_for):
    decided(team)
    page = client_for(team.leader).get(url(team, kind="review"), headers=HTMX).content.decode()
    assert 'id="log-table"' in page and "<html" not in page and 'name="kind"' not in page
    full = client_for(team.leader).get(url(team)).content.decode()
    assert 'hx-target="#log-table"' in full and 'hx-push-url="true"' in full
    assert f'action="{url(team)}"' in full


def test_without_decisions_it_says_so(team, client_for):
    assert "No decision yet" in client_for(team.leader).get(url(team)).content.decode()


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_csv_has_the_filtered_rows_safe_for_spreadsheets(team, client_for):
    decided(team)
    response = client_for(team.leader).get(csv_url(team))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    disposition = response["Content-Disposition"]
    assert disposition.startswith(
        "attachment;"
    ) and f"{team.pilot.name.lower().replace(' ', '-')}-decisions.csv" in (disposition)
    table = read_csv(response)
    assert table[0] == [
        "time",
        "kind",
        "outcome",
        "external_id",
        "rule_version",
        "rule",
        "actor",
        "rationale",
    ]
    assert len(table) == 6
    override = next(row for row in table if row[2] == "override")
    assert override[7] == '\'=HYPERLINK("http://evil")'  # neutralised: a spreadsheet shows it as text
    assert override[3:7] == ["big", "1", "#2 Large: inputs.amount > 10000", "Reviewer"]
    decision = Decision.objects.get(outcome="override")
    assert override[0] == timezone.localtime(decision.decided_at, team.workspace.zone).isoformat()
    routing = next(row for row in table if row[3] == "small")
    assert routing[1:3] == ["routing", "sampled"] and routing[6:] == ["rules", ""]
    only_reviews = read_csv(client_for(team.leader).get(csv_url(team, kind="review")))
    assert len(only_reviews) == 3


def test_they_are_a_404_for_an_outsider(team, client_for):
    decided(team)
    assert client_for(team.outsider).get(url(team)).status_code == 404
    assert client_for(team.outsider).get(csv_url(team)).status_code == 404


def test_they_allow_only_get(team, client_for):
    assert client_for(team.pm).post(url(team)).status_code == 405
    assert client_for(team.pm).post(csv_url(team)).status_code == 405
