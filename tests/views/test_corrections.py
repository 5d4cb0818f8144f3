"""The corrections of a pilot: the unincorporated backlog with its age, filters, 50 a page, the time to
incorporation, and classifying a correction's reason inline.

This module also holds the helpers the other step 4 view tests import (`ready`, `arrive`, `correct`)."""

from datetime import date, timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from exceptions.models import Escalation
from exceptions.services import queue as review
from exceptions.services import rules
from feedback.models import Correction, Target
from feedback.services import corrections as correction_services
from feedback.services import incorporation
from pilots.models import AIVersion, Case
from pilots.services import intake, standards
from tests.views.conftest import HTMX, actions

SPEC = {
    "inputs": [{"name": "amount", "type": "number", "required": True, "min": 0}],
    "outputs": [
        {"name": "category", "type": "enum", "allowed": ["glass", "theft", "water"]},
        {"name": "confidence", "type": "number"},
        {"name": "approved", "type": "boolean"},
        {"name": "summary", "type": "string"},
    ],
}
AI_OUTPUTS = {"category": "glass", "confidence": 0.9, "approved": True, "summary": "Broken window"}


def ready(team, pilot=None, actor=None) -> None:
    """The pilot's input standard is published; AI versions v1 and v2 are registered."""
    pilot = pilot or team.pilot
    actor = actor or team.pm
    standards.publish_standard(pilot=pilot, actor=actor, spec=SPEC)
    for identifier, released in (("v1", date(2026, 1, 1)), ("v2", date(2026, 3, 1))):
        standards.register_ai_version(pilot=pilot, actor=actor, identifier=identifier, released_on=released)


def arrive(team, *external_ids, pilot=None, ai_version="v1", actor=None, **outputs) -> list[Case]:
    """Cases arrive through intake (with the AI's outputs and version); returns them, in that order."""
    pilot = pilot or team.pilot
    arrivals = [
        intake.Arrival(
            external_id=external_id,
            inputs={"amount": "100"},
            outputs=AI_OUTPUTS | outputs,
            outcome={"ai_version": ai_version} if ai_version else {},
        )
        for external_id in external_ids
    ]
    intake.ingest(pilot=pilot, arrivals=arrivals, source="upload", actor=actor or team.pm)
    found = {c.external_id: c for c in Case.objects.filter(pilot=pilot)}
    return [found[external_id] for external_id in external_ids]


def correct(team, case, field="category", value="theft", reason="wrong_extraction", *, days_ago=0, note=""):
    """A correction recorded on the case by the reviewer, `days_ago` days ago."""
    return correction_services.record_correction(
        case=case,
        field=field,
        corrected_value=value,
        reason_code=reason,
        note=note,
        actor=team.reviewer,
        now=timezone.now() - timedelta(days=days_ago),
    )


def url(team, **params) -> str:
    base = reverse("corrections", args=[team.pilot.pk])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def classify_url(team, correction) -> str:
    return reverse("correction_classify", args=[team.pilot.pk, correction.pk])


def listed(response) -> list[tuple[str, str]]:
    return [(row.correction.case.external_id, row.correction.field) for row in response.context["rows"]]


def test_every_member_sees_the_backlog_newest_first_with_its_age(team, client_for):
    ready(team)
    old, new, done = arrive(team, "old", "new", "done")
    correct(team, old, days_ago=12, note="Clearly theft.")
    correct(team, new, "confidence", "0.4", "missing_context", days_ago=1)
    incorporated = correct(team, done, days_ago=20)
    incorporation.incorporate(
        pilot=team.pilot, correction_ids=[incorporated.pk], into=Target.REGRESSION_SET, target_id=None,
        actor=team.pm, now=timezone.now() - timedelta(days=15),
    )  # fmt: skip
    for name in ("admin", "pm", "owner", "reviewer", "leader"):
        response = client_for(team.person(name)).get(url(team))
        assert response.status_code == 200, name
    assert listed(response) == [("new", "confidence"), ("old", "category")]
    page = response.content.decode()
    assert "waiting 12 days" in page and "waiting 1 day<" in page
    assert 'id="backlog-count">2<' in page and 'id="backlog-oldest">12 days<' in page
    assert 'id="median-days">5.0<' in page  # one incorporated, 5 days after it was made
    assert "Clearly theft." in page and "glass</span> → <strong>theft" in page
    assert reverse("case_detail", args=[team.pilot.pk, old.pk]) in page
    assert "0.9</span> → <strong>0.4" in page and "Missing context" in page


def test_it_filters(team, client_for):
    ready(team)
    a, b, c, d = arrive(team, "a", "b", "c", "d")
    (e,) = arrive(team, "e", ai_version="v2")
    correct(team, a, days_ago=3)
    correct(team, b, "confidence", "0.2", "input_defect", days_ago=2)
    done = correct(team, c, days_ago=1)
    correct(team, e, days_ago=0)
    incorporation.incorporate(
        pilot=team.pilot, correction_ids=[done.pk], into=Target.REGRESSION_SET, target_id=None, actor=team.pm
    )
    client = client_for(team.leader)
    assert listed(client.get(url(team))) == [("e", "category"), ("b", "confidence"), ("a", "category")]
    assert listed(client.get(url(team, state="incorporated"))) == [("c", "category")]
    assert len(listed(client.get(url(team, state="all")))) == 4
    assert listed(client.get(url(team, reason="input_defect"))) == [("b", "confidence")]
    assert listed(client.get(url(team, field="confidence"))) == [("b", "confidence")]
    v2 = AIVersion.objects.get(identifier="v2")
    assert listed(client.get(url(team, ai_version=v2.pk))) == [("e", "category")]
    assert listed(client.get(url(team, source="override"))) == []
    assert len(listed(client.get(url(team, source="direct")))) == 3
    # Nonsense is ignored.
    assert len(listed(client.get(url(team, state="x", ai_version="y", source="z")))) == 3
    page = client.get(url(team)).content.decode()
    assert (
        f'<option value="{v2.pk}">v2</option>' in page
        and '<option value="confidence">confidence</option>' in page
    )


def test_an_override_is_listed_as_one(team, client_for):
    standards.publish_standard(pilot=team.pilot, actor=team.pm, spec=SPEC)
    table = [{"clauses": [], "action": "escalate", "service_level_hours": "24"}]
    rules.publish_rules(pilot=team.pilot, rules=table, actor=team.pm)
    arrive(team, "big", ai_version="")
    escalation = Escalation.objects.get()
    review.decide(
        escalation_id=escalation.pk, reviewer=team.reviewer, outcome="override", rationale="It was theft.",
        corrected_outputs={"category": "theft"},
    )  # fmt: skip
    response = client_for(team.pm).get(url(team, source="override"))
    assert listed(response) == [("big", "category")]
    page = response.content.decode()
    assert "review override" in page and "It was theft." in page
    assert listed(client_for(team.pm).get(url(team, ai_version="none"))) == [("big", "category")]
    case_page = client_for(team.leader).get(reverse("case_detail", args=[team.pilot.pk, escalation.case_id]))
    assert "from a review override" in case_page.content.decode()


def test_the_median_time_to_incorporation(team, client_for):
    ready(team)
    made = [correct(team, case, days_ago=10) for case in arrive(team, "a", "b", "c", "d")]
    for correction, days_later in zip(made, (1, 2, 4, 9), strict=True):
        incorporation.incorporate(
            pilot=team.pilot, correction_ids=[correction.pk], into=Target.REGRESSION_SET, target_id=None,
            actor=team.pm, now=correction.at + timedelta(days=days_later),
        )  # fmt: skip
    response = client_for(team.leader).get(url(team, state="all"))
    assert response.context["summary"].median_days == 3.0  # between 2 and 4
    page = response.content.decode()
    assert 'id="median-days">3.0<' in page and "over 4 incorporated corrections" in page
    assert "after 9 days" in page and "No correction waits" not in page
    assert "No correction waits" in client_for(team.leader).get(url(team)).content.decode()


def test_it_shows_50_corrections_a_page_and_keeps_the_filters(team, client_for):
    ready(team)
    for case in arrive(team, *[f"c{i:03}" for i in range(55)]):
        correct(team, case)
    client = client_for(team.leader)
    first = client.get(url(team, field="category"))
    assert len(listed(first)) == 50
    assert "?field=category&amp;page=2" in first.content.decode()
    assert len(listed(client.get(url(team, field="category", page=2)))) == 5


def test_an_htmx_request_gets_the_list_alone(team, client_for):
    ready(team)
    correct(team, arrive(team, "a")[0])
    page = client_for(team.leader).get(url(team, state="all"), headers=HTMX).content.decode()
    assert 'id="corrections-list"' in page and "<html" not in page and 'name="state"' not in page
    full = client_for(team.leader).get(url(team)).content.decode()
    assert 'hx-target="#corrections-list"' in full and 'hx-push-url="true"' in full
    assert f'action="{url(team)}"' in full and "<noscript><button" in full


def test_buttons_follow_the_roles(team, client_for):
    ready(team)
    correct(team, arrive(team, "a")[0])
    incorporate = reverse("corrections_incorporate", args=[team.pilot.pk])
    for name, may_incorporate, may_classify in (
        ("pm", True, True),
        ("admin", True, True),
        ("reviewer", False, True),
        ("owner", False, False),
        ("leader", False, False),
    ):
        page = client_for(team.person(name)).get(url(team)).content.decode()
        assert (incorporate in page) is may_incorporate, name
        assert ('form="incorporate-form"' in page) is may_incorporate, name
        assert ("/classify/" in page) is may_classify, name


def test_without_corrections_it_says_so(team, client_for):
    assert "No correction yet" in client_for(team.leader).get(url(team)).content.decode()


def count_queries(client, target, **kwargs) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(target, **kwargs).status_code == 200
    return len(queries)


def test_the_query_count_does_not_grow_with_the_rows(team, client_for, django_assert_max_num_queries):
    ready(team)
    for case in arrive(team, "a", "b"):
        correct(team, case)
    done = correct(team, arrive(team, "c")[0])
    incorporation.incorporate(
        pilot=team.pilot, correction_ids=[done.pk], into=Target.AI_VERSION,
        target_id=AIVersion.objects.get(identifier="v2").pk, actor=team.pm,
    )  # fmt: skip
    client = client_for(team.pm)
    client.get(url(team))
    few = count_queries(client, url(team, state="all"))
    few_htmx = count_queries(client, url(team, state="all"), headers=HTMX)
    cases = arrive(team, *[f"m{i}" for i in range(40)], ai_version="v2")
    made = [correct(team, case, days_ago=i % 7) for i, case in enumerate(cases)]
    incorporation.incorporate(
        pilot=team.pilot, correction_ids=[c.pk for c in made[:20]], into=Target.STANDARD,
        target_id=team.pilot.standards.get().pk, actor=team.pm,
    )  # fmt: skip
    with django_assert_max_num_queries(few):
        response = client.get(url(team, state="all"))
    assert len(listed(response)) == 43
    with django_assert_max_num_queries(few_htmx):
        client.get(url(team, state="all"), headers=HTMX)
    page = response.content.decode()
    assert "input standard v1" in page and "AI version v2" in page


def test_it_is_a_404_for_an_outsider(team, client_for):
    assert client_for(team.outsider).get(url(team)).status_code == 404


def test_it_allows_only_get(team, client_for):
    assert client_for(team.pm).post(url(team)).status_code == 405


# --- classifying a correction (correction_classify) ----------------------------------------------------


def test_a_reviewer_classifies_a_correction(team, client_for):
    ready(team)
    correction = correct(team, arrive(team, "a")[0])
    response = client_for(team.reviewer).post(
        classify_url(team, correction), {"reason": "policy_changed", "query": "field=category"}
    )
    assert response.status_code == 302 and response["Location"] == url(team, field="category")
    correction.refresh_from_db()
    assert correction.reason.code == "policy_changed"
    assert "correction.classified" in actions(pilot=team.pilot)


def test_htmx_gets_the_row_back(team, client_for):
    ready(team)
    correction = correct(team, arrive(team, "a")[0])
    response = client_for(team.admin).post(classify_url(team, correction), {"reason": "other"}, headers=HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.strip().startswith(f'<tr id="correction-{correction.pk}"') and "Reason saved." in body
    assert '<option value="other" selected>' in body


def test_a_reason_not_in_the_taxonomy_is_refused(team, client_for):
    ready(team)
    correction = correct(team, arrive(team, "a")[0])
    client = client_for(team.pm)
    response = client.post(classify_url(team, correction), {"reason": "made_up"}, headers=HTMX)
    assert response.status_code == 422 and "Choose a reason from the pilot" in response.content.decode()
    plain = client.post(classify_url(team, correction), {"reason": ""})
    assert plain.status_code == 422 and "Choose a reason from the pilot" in plain.content.decode()
    correction.refresh_from_db()
    assert correction.reason.code == "wrong_extraction"


def test_classifying_twice_changes_nothing_the_second_time(team, client_for):
    ready(team)
    correction = correct(team, arrive(team, "a")[0])
    client = client_for(team.pm)
    for _ in range(2):
        assert client.post(classify_url(team, correction), {"reason": "other"}).status_code == 302
    assert actions(pilot=team.pilot).count("correction.classified") == 1


def test_classifying_needs_a_role_that_corrects_or_incorporates(team, client_for):
    ready(team)
    correction = correct(team, arrive(team, "a")[0])
    for name in ("leader", "owner"):
        assert (
            client_for(team.person(name))
            .post(classify_url(team, correction), {"reason": "other"})
            .status_code
            == 403
        )
    assert (
        client_for(team.outsider).post(classify_url(team, correction), {"reason": "other"}).status_code == 404
    )
    assert client_for(team.pm).get(classify_url(team, correction)).status_code == 405
    correction.refresh_from_db()
    assert correction.reason.code == "wrong_extraction"


def test_a_correction_of_another_pilot_is_a_404(team, client_for):
    from tests import factories

    other = factories.PilotFactory(workspace=team.workspace, program_manager=team.pm)
    ready(team, pilot=other)
    correction = correct(team, arrive(team, "x", pilot=other)[0])
    response = client_for(team.pm).post(classify_url(team, correction), {"reason": "other"})
    assert response.status_code == 404
    assert Correction.objects.get().reason.code == "wrong_extraction"
