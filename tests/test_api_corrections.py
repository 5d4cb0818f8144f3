"""Corrections through the API (issue 7): the system around the pilot records a member's correction of
one AI output — the same service as the case page, with its refusals."""

import pytest

from feedback.models import Correction
from pilots.models import AuditEvent, Case
from tests.api_helpers import api, case, errors_of, keys, prepare

USES = (api, keys)  # the shared fixtures (tests/api_helpers.py)


@pytest.fixture
def arrived(team, api):
    prepare(team)
    api().post(f"/pilots/{team.pilot.pk}/cases/batch", {"cases": [case("c1"), case("c2", amount=20000)]})
    return Case.objects.get(external_id="c1")


def url(team) -> str:
    return f"/pilots/{team.pilot.pk}/corrections"


def correction(**changes) -> dict:
    return {
        "external_id": "c1",
        "field": "category",
        "corrected_value": "theft",
        "reason": "wrong_extraction",
        "note": "The photo shows a broken lock.",
        "by": "reviewer",
    } | changes


def test_a_reviewer_records_a_correction(team, api, keys, arrived):
    response = api().post(url(team), correction())
    assert response.status_code == 201
    body = response.json()
    assert {k: v for k, v in body.items() if k not in ("id", "at")} == {
        "external_id": "c1",
        "field": "category",
        "ai_value": "glass",
        "corrected_value": "theft",
        "reason": "wrong_extraction",
        "note": "The photo shows a broken lock.",
        "by": "reviewer",
        "decision": None,
        "incorporated_into": "",
    }
    stored = Correction.objects.get()
    assert stored.pk == body["id"] and stored.by == team.reviewer
    arrived.refresh_from_db()
    assert arrived.corrected and arrived.touchpoints == 1
    event = AuditEvent.objects.get(action="case.corrected")
    assert event.actor == team.reviewer and event.api_key == keys.rows["read_write"]


def test_values_are_read_by_the_outputs_type(team, api, arrived):
    response = api().post(url(team), correction(field="confidence", corrected_value="0.4"))
    assert response.status_code == 201
    assert response.json()["corrected_value"] == 0.4
    response = api().post(url(team), correction(field="confidence", corrected_value=0.2, by="pm"))
    assert response.status_code == 201
    assert Correction.objects.count() == 2


def test_a_correction_that_does_not_hold_is_422_with_its_field(team, api, arrived):
    cases = (
        (correction(field="colour"), ("body", "field"), "The standard declares no AI output “colour”."),
        (correction(corrected_value="glass"), ("body", "corrected_value"), None),
        (correction(corrected_value="water"), ("body", "corrected_value"), None),
        (correction(field="confidence", corrected_value="high"), ("body", "corrected_value"), None),
        (correction(reason="bad_luck"), ("body", "reason"), "Choose a reason from the pilot's taxonomy."),
    )
    for body, loc, message in cases:
        response = api().post(url(team), body)
        assert response.status_code == 422, body
        assert [e[0] for e in errors_of(response)] == [loc], body
        if message:
            assert errors_of(response)[0][1] == message
    assert not Correction.objects.exists()
    arrived.refresh_from_db()
    assert not arrived.corrected and arrived.touchpoints == 0


def test_the_schema_refuses_bad_bodies(team, api, arrived):
    for body, loc in (
        (correction(extra=True), ("body", "extra")),
        ({k: v for k, v in correction().items() if k != "by"}, ("body", "by")),
        (correction(corrected_value=None), ("body", "corrected_value")),
        (correction(corrected_value={"a": 1}), ("body", "corrected_value")),
        (correction(note=["x"]), ("body", "note")),
    ):
        response = api().post(url(team), body)
        assert response.status_code == 422, body
        assert errors_of(response)[0][0] == loc, body
    assert not Correction.objects.exists()


def test_the_member_needs_the_right_to_record_corrections(team, api, arrived):
    for name in ("leader", "owner", "admin"):
        response = api().post(url(team), correction(by=name))
        assert response.status_code == 403, name
        assert errors_of(response) == [
            (("body", "by"), f"“{name}” may not record corrections on this pilot.")
        ]
    for name in ("outsider", "ghost"):
        response = api().post(url(team), correction(by=name))
        assert response.status_code == 422
        assert errors_of(response) == [(("body", "by"), f"“{name}” is not a member of this workspace.")]
    assert not Correction.objects.exists()


def test_an_unknown_case_is_404(team, api, arrived):
    response = api().post(url(team), correction(external_id="nope"))
    assert response.status_code == 404
    assert errors_of(response) == [(("body", "external_id"), "The pilot has no case “nope”.")]


def test_read_only_and_foreign_keys_are_refused(team, api, keys, arrived):
    assert api(keys.read).post(url(team), correction()).status_code == 403
    assert api(keys.other).post(url(team), correction()).status_code == 404
    assert not Correction.objects.exists()


def test_corrections_are_listed_newest_first_by_cursor(team, api, arrived, django_assert_max_num_queries):
    client = api()
    for value in ("theft", "fire"):
        for external_id in ("c1", "c2"):
            body = correction(external_id=external_id, corrected_value=value)
            assert client.post(url(team), body).status_code == 201
    seen, cursor = [], None
    while True:
        with django_assert_max_num_queries(6):
            page = client.get(url(team), {"limit": 3} | ({"cursor": cursor} if cursor else {})).json()
        seen += [(item["external_id"], item["corrected_value"]) for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [("c2", "fire"), ("c1", "fire"), ("c2", "theft"), ("c1", "theft")]
    assert client.get(url(team), {"incorporated": "true"}).json()["items"] == []
    assert len(client.get(url(team), {"incorporated": "false"}).json()["items"]) == 4
