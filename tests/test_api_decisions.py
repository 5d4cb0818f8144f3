"""Reviewer decisions through the API (issue 7): the system around the pilot records what a member
decided on a case waiting for review — the same service as the review queue, with its refusals."""

import pytest
from django.utils import timezone

from exceptions.models import Decision, Escalation
from exceptions.services import queue
from feedback.models import Correction
from pilots.models import AuditEvent, Case, IdempotencyRecord
from tests import factories
from tests.api_helpers import api, case, errors_of, keys, prepare

USES = (api, keys)  # the shared fixtures (tests/api_helpers.py)


@pytest.fixture
def waiting(team, api):
    """Case "big" waits for review (it arrived now: 24 hours to decide); "small" was automated."""
    prepare(team)
    now = {"received_at": timezone.now().isoformat()}
    cases = [case("big", amount=20000) | now, case("small") | now]
    api().post(f"/pilots/{team.pilot.pk}/cases/batch", {"cases": cases})
    return Escalation.objects.get(case__external_id="big")


def url(team) -> str:
    return f"/pilots/{team.pilot.pk}/decisions"


def decision(**changes) -> dict:
    return {
        "external_id": "big",
        "outcome": "approve",
        "rationale": "Checked the invoice.",
        "reviewer": "reviewer",
    } | (changes)


def test_a_reviewer_approves(team, api, keys, waiting):
    response = api().post(url(team), decision())
    assert response.status_code == 201
    body = response.json()
    assert {
        k: body[k] for k in ("external_id", "outcome", "rationale", "reviewer", "within_service_level")
    } == {
        "external_id": "big",
        "outcome": "approve",
        "rationale": "Checked the invoice.",
        "reviewer": "reviewer",
        "within_service_level": True,
    }
    stored = Decision.objects.get()
    assert stored.pk == body["id"] and stored.reviewer == team.reviewer
    case_row = Case.objects.get(external_id="big")
    assert case_row.decided_at is not None and not case_row.corrected and case_row.touchpoints == 1
    event = AuditEvent.objects.get(action="case.reviewed")
    assert event.actor == team.reviewer and event.api_key == keys.rows["read_write"]
    assert event.actor_label.endswith("via API key “Claims system”")


def test_an_override_records_the_corrected_outputs_and_their_corrections(team, api, waiting):
    response = api().post(
        url(team), decision(outcome="override", corrected_outputs={"category": "theft", "confidence": 0.9})
    )
    assert response.status_code == 201
    assert response.json()["corrected_outputs"] == {"category": "theft"}
    assert Case.objects.get(external_id="big").corrected
    correction = Correction.objects.get()
    assert (correction.field, correction.corrected_value, correction.decision_id) == (
        "category",
        "theft",
        response.json()["id"],
    )


def test_the_workflow_owner_may_review(team, api, waiting):
    assert api().post(url(team), decision(outcome="reject", reviewer="owner")).status_code == 201


def test_a_decision_that_does_not_hold_is_422_with_each_field(team, api, waiting):
    response = api().post(
        url(team), decision(outcome="override", rationale="  ", corrected_outputs={"category": "x"})
    )
    assert response.status_code == 422
    assert sorted(errors_of(response)) == [
        (("body", "corrected_outputs", "category"), "Category must be one of glass, theft, fire."),
        (("body", "rationale"), "Say why: the rationale is what later refines the rules."),
    ]
    response = api().post(url(team), decision(outcome="override", corrected_outputs={"category": "glass"}))
    assert errors_of(response) == [
        (("body", "corrected_outputs"), "An override changes at least one AI output; else approve.")
    ]
    response = api().post(url(team), decision(outcome="override", corrected_outputs={"colour": "red"}))
    assert errors_of(response) == [
        (("body", "corrected_outputs", "colour"), "The standard declares no AI output “colour”.")
    ]
    assert not Decision.objects.exists()
    assert Escalation.objects.get().decided_at is None


def test_the_schema_refuses_bad_bodies(team, api, waiting):
    for body, loc in (
        (decision(outcome="maybe"), ("body", "outcome")),
        (decision(extra=1), ("body", "extra")),
        ({k: v for k, v in decision().items() if k != "reviewer"}, ("body", "reviewer")),
        (decision(corrected_outputs=["theft"]), ("body", "corrected_outputs")),
        (decision(rationale=7), ("body", "rationale")),
    ):
        response = api().post(url(team), body)
        assert response.status_code == 422, body
        assert errors_of(response)[0][0] == loc, body
    assert not Decision.objects.exists()


def test_a_reviewer_who_is_not_a_member_is_422(team, api, waiting):
    for name in ("outsider", "ghost"):
        response = api().post(url(team), decision(reviewer=name))
        assert response.status_code == 422
        assert errors_of(response) == [(("body", "reviewer"), f"“{name}” is not a member of this workspace.")]
    assert not Decision.objects.exists()


def test_a_member_who_may_not_review_the_case_is_403(team, api, waiting):
    for name in ("leader", "pm", "admin"):
        response = api().post(url(team), decision(reviewer=name))
        assert response.status_code == 403, name
        assert errors_of(response) == [(("body", "reviewer"), f"“{name}” may not review this case.")]
    # A reviewer outside the pilot's named pool may not either.
    named = factories.member(team.workspace, "reviewer", username="named")
    team.pilot.reviewers.add(named)
    assert api().post(url(team), decision()).status_code == 403
    assert api().post(url(team), decision(reviewer="named")).status_code == 201


def test_a_case_that_is_not_waiting_for_review_is_404(team, api, waiting):
    response = api().post(url(team), decision(external_id="small"))
    assert response.status_code == 404
    assert errors_of(response) == [(("body", "external_id"), "Case “small” is not waiting for review.")]
    response = api().post(url(team), decision(external_id="nope"))
    assert response.status_code == 404
    assert errors_of(response) == [(("body", "external_id"), "The pilot has no case “nope”.")]


def test_a_decided_case_is_409(team, api, waiting):
    assert api().post(url(team), decision()).status_code == 201
    again = api().post(url(team), decision(outcome="reject"))
    assert again.status_code == 409
    assert again.json()["detail"] == "This case was decided already."
    assert Decision.objects.count() == 1


def test_a_case_another_reviewer_holds_is_409(team, api, waiting):
    queue.claim(escalation_id=waiting.pk, user=team.owner)
    response = api().post(url(team), decision())
    assert response.status_code == 409
    assert "is working on this case" in response.json()["detail"]
    assert not Decision.objects.exists()


def test_the_same_decision_sent_twice_with_one_key_is_recorded_once(team, api, waiting):
    first = api().post(url(team), decision(), key="decide-big")
    again = api().post(url(team), decision(), key="decide-big")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.content == first.content
    assert Decision.objects.count() == 1


def test_a_read_only_key_cannot_decide_and_another_workspace_sees_no_pilot(team, api, keys, waiting):
    assert api(keys.read).post(url(team), decision()).status_code == 403
    assert api(keys.other).post(url(team), decision()).status_code == 404
    assert not Decision.objects.exists()
    assert not IdempotencyRecord.objects.filter(api_key=keys.rows["read"]).exists()


def test_decisions_are_listed_newest_first_by_cursor(team, api, django_assert_max_num_queries):
    prepare(team)
    client = api()
    client.post(
        f"/pilots/{team.pilot.pk}/cases/batch", {"cases": [case(f"b{i}", amount=20000) for i in range(5)]}
    )
    for i in range(5):
        outcome = "reject" if i == 2 else "approve"
        assert client.post(url(team), decision(external_id=f"b{i}", outcome=outcome)).status_code == 201
    seen, cursor = [], None
    while True:
        with django_assert_max_num_queries(6):
            page = client.get(url(team), {"limit": 2} | ({"cursor": cursor} if cursor else {})).json()
        seen += [item["external_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["b4", "b3", "b2", "b1", "b0"]
    rejected = client.get(url(team), {"outcome": "reject"}).json()["items"]
    assert [d["external_id"] for d in rejected] == ["b2"]
    assert client.get(url(team), {"outcome": "maybe"}).status_code == 422
