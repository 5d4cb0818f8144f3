"""Cases through the API (issue 7, capabilities 1, 3 and 5): the batch upsert with per-item results,
its actor in the audit trail, its limits and bad input, reading a case and walking the list by cursor."""

import json

import pytest
from django.test import Client

from exceptions.models import Escalation
from pilots.api import MAX_BATCH
from pilots.models import AuditEvent, Case
from pilots.services import standards
from tests.api_helpers import BASE, api, case, errors_of, keys, prepare

USES = (api, keys)  # the shared fixtures (tests/api_helpers.py)


def url(team, rest: str = "/cases/batch") -> str:
    return f"/pilots/{team.pilot.pk}{rest}"


def results(response) -> dict[str, str]:
    return {item["external_id"]: item["outcome"] for item in response.json()["items"]}


def test_a_batch_creates_routes_and_reports_each_case(team, api):
    prepare(team)
    response = api().post(url(team), {"cases": [case("small"), case("big", amount=20000)]})
    assert response.status_code == 200
    body = response.json()
    assert body["counts"] == {"created": 2}
    assert body["items"] == [
        {"external_id": "small", "outcome": "created", "problems": [], "route": "automated"},
        {"external_id": "big", "outcome": "created", "problems": [], "route": "escalated"},
    ]
    assert set(Case.objects.values_list("source", flat=True)) == {"api"}
    assert Escalation.objects.get().case.external_id == "big"


def test_each_outcome_of_the_upsert(team, api):
    """created / unchanged / updated / conflict / rejected, in one batch, under the rule for decided
    cases: an automated case is decided at routing, an escalated one waits for its reviewer."""
    prepare(team)
    client = api()
    client.post(url(team), {"cases": [case("same"), case("decided"), case("waiting", amount=20000)]})
    response = client.post(
        url(team),
        {
            "cases": [
                case("same"),
                case("decided", category="theft"),
                case("waiting", amount=30000),
                case("new"),
                case("   "),
            ]
        },
    )
    assert response.status_code == 200
    assert [(i["external_id"], i["outcome"]) for i in response.json()["items"]] == [
        ("same", "unchanged"),
        ("decided", "conflict"),
        ("waiting", "updated"),
        ("new", "created"),
        ("   ", "rejected"),
    ]
    assert response.json()["counts"] == {
        "unchanged": 1,
        "conflict": 1,
        "updated": 1,
        "created": 1,
        "rejected": 1,
    }
    stored = {c.external_id: c for c in Case.objects.all()}
    assert set(stored) == {"same", "decided", "waiting", "new"}
    assert stored["decided"].outputs["category"] == "glass"  # a decided case is never overwritten
    assert stored["waiting"].inputs["amount"] == 30000


def test_valid_items_are_stored_when_others_are_rejected(team, api):
    prepare(team)
    response = api().post(
        url(team),
        {
            "cases": [
                case("good"),
                {"external_id": "typed-wrong", "touchpoints": "many", "colour": "red"},
                7,
                {"external_id": "listed", "inputs": [1], "outputs": "motor"},
                case("also-good", amount=20000),
            ]
        },
    )
    assert response.status_code == 200
    items = response.json()["items"]
    assert [(i["external_id"], i["outcome"]) for i in items] == [
        ("good", "created"),
        ("typed-wrong", "rejected"),
        ("", "rejected"),
        ("listed", "rejected"),
        ("also-good", "created"),
    ]
    assert [(p["field"], p["message"]) for p in items[3]["problems"]] == [
        ("inputs", "Input should be a valid dictionary"),
        ("outputs", "Input should be a valid dictionary"),
    ]
    assert [(p["field"], p["kind"]) for p in items[1]["problems"]] == [
        ("touchpoints", "invalid"),
        ("colour", "invalid"),
    ]
    assert items[1]["problems"][1]["message"] == "Extra inputs are not permitted"
    assert items[2]["problems"][0]["field"] == "case"
    assert set(Case.objects.values_list("external_id", flat=True)) == {"good", "also-good"}
    assert response.json()["counts"] == {"created": 2, "rejected": 3}


def test_cases_that_break_the_standard_are_stored_with_their_problems(team, api):
    prepare(team)
    broken = case("broken") | {"inputs": {"amount": -5}}
    response = api().post(url(team), {"cases": [broken]})
    item = response.json()["items"][0]
    assert item["outcome"] == "created"
    assert {(p["field"], p["kind"]) for p in item["problems"]} == {
        ("inputs.amount", "invalid"),
        ("inputs.channel", "missing"),
    }
    assert Case.objects.get().problems


def test_the_audit_event_names_the_key(team, api, keys):
    prepare(team)
    api().post(url(team), {"cases": [case("a"), case("b")]})
    event = AuditEvent.objects.get(action="cases.ingested")
    assert event.api_key == keys.rows["read_write"]
    assert event.actor is None
    assert event.actor_label == "API key “Claims system”"
    assert event.after["source"] == "api" and event.after["created"] == 2


def test_the_audit_event_names_the_member_it_acts_for(team, api, keys):
    prepare(team)
    response = api().post(url(team), {"cases": [case("a")], "on_behalf_of": "pm"})
    assert response.status_code == 200
    events = AuditEvent.objects.filter(action="cases.ingested")
    assert events.count() == 1  # one per request, not one per case
    event = events.get()
    assert event.api_key == keys.rows["read_write"] and event.actor == team.pm
    assert event.actor_label.endswith("via API key “Claims system”")


def test_on_behalf_of_a_non_member_is_refused_and_nothing_stored(team, api):
    prepare(team)
    for name in ("outsider", "nobody"):
        response = api().post(url(team), {"cases": [case("a")], "on_behalf_of": name})
        assert response.status_code == 422
        assert errors_of(response) == [
            (("body", "on_behalf_of"), f"“{name}” is not a member of this workspace.")
        ]
    assert not Case.objects.exists()
    assert not AuditEvent.objects.filter(action="cases.ingested").exists()


def test_a_batch_holds_at_most_5000_cases(team, api):
    prepare(team)
    response = api().post(url(team), {"cases": [case(f"c{i}") for i in range(MAX_BATCH + 1)]})
    assert response.status_code == 422
    assert errors_of(response) == [
        (("body", "cases"), "List should have at most 5000 items after validation, not 5001")
    ]
    assert not Case.objects.exists()


def test_an_empty_batch_is_refused(team, api):
    response = api().post(url(team), {"cases": []})
    assert response.status_code == 422
    assert errors_of(response)[0][0] == ("body", "cases")


def test_unknown_fields_are_refused_with_their_place(team, api):
    response = api().post(url(team), {"cases": [case("a")], "dry_run": True})
    assert response.status_code == 422
    assert errors_of(response) == [(("body", "dry_run"), "Extra inputs are not permitted")]
    assert not Case.objects.exists()


def test_wrong_types_are_refused_with_their_place(team, api):
    for body, loc in (
        ({"cases": "a"}, ("body", "cases")),
        ({"cases": [case("a")], "on_behalf_of": 7}, ("body", "on_behalf_of")),
        ([case("a")], ("body",)),
        ({}, ("body", "cases")),
    ):
        response = api().post(url(team), body)
        assert response.status_code == 422, body
        assert response.json()["detail"] == "The request does not fit the schema."
        assert errors_of(response)[0][0] == loc, body
    assert not Case.objects.exists()


def test_malformed_json_is_a_400_never_a_500(team, api):
    for raw in (b"{", b'{"cases": [}', b"\xff\xfe", b'{"cases": [{"external_id": 1' + b"9" * 5000 + b"}]}"):
        response = api().post(url(team), raw=raw)
        assert response.status_code == 400, raw[:20]
        assert response.json()["detail"].startswith("The body is not valid JSON")
    assert not Case.objects.exists()


def test_a_body_that_is_not_json_is_415(team, api):
    body = json.dumps({"cases": [case("a")]})
    for content_type in (
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ):
        response = api().post(url(team), raw=body, content_type=content_type)
        assert response.status_code == 415, content_type
        assert errors_of(response)[0][0] == ("header", "Content-Type")
    assert api().post(url(team), raw=body, content_type="application/merge-patch+json").status_code == 200
    assert Case.objects.count() == 1


def test_an_oversize_body_is_413(team, api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_000
    response = api().post(url(team), {"cases": [case(f"c{i}") for i in range(40)]})
    assert response.status_code == 413
    assert response.json()["detail"] == "The body is larger than 2000 bytes."
    assert not Case.objects.exists()


def test_text_the_database_cannot_store_is_refused(team, api):
    prepare(team)
    response = api().post(url(team), {"cases": [case("ok"), case("bad") | {"inputs": {"note": "a\u0000b"}}]})
    assert results(response) == {"ok": "created", "bad": "rejected"}
    assert response.json()["items"][1]["problems"][0]["message"] == "NUL characters are not allowed"
    response = api().post(url(team), {"cases": [case("c")], "on_behalf_of": "p\u0000m"})
    assert response.status_code == 422
    assert api().get(url(team, "/cases/a%00b")).status_code == 400
    assert api().get(url(team, "/cases"), {"route": "a\x00"}).status_code == 400


def test_every_spelling_of_unstorable_text_is_refused_and_a_surrogate_pair_is_kept(team, api):
    """The body is looked at once for anything that could decode to a NUL or a lone surrogate (then each
    value is checked): escapes in either case, in a key, raw UTF-8-encoded surrogates."""
    prepare(team)
    good = json.dumps(case("ok"))[1:-1]  # the members of a valid case, to splice the bad ones beside
    bodies = {
        "lower": b'{"external_id": "lower", "inputs": {"note": "\\ud800"}}',
        "upper": b'{"external_id": "upper", "outputs": {"category": "\\uDC00x"}}',
        "raw": b'{"external_id": "raw", "inputs": {"note": "\xed\xa0\x80"}}',
        "key": b'{"external_id": "key", "inputs": {"n\\u0000te": "x"}}',
    }
    for external_id, bad in bodies.items():
        body = b'{"cases": [{' + good.encode() + b"}, " + bad + b"]}"
        ok = "unchanged" if Case.objects.exists() else "created"
        response = api().post(url(team), raw=body)
        assert results(response) == {"ok": ok, external_id: "rejected"}, external_id
    response = api().post(url(team), {"cases": [case("emoji") | {"inputs": {"amount": 5, "note": "😀"}}]})
    assert results(response) == {"emoji": "created"}
    assert Case.objects.get(external_id="emoji").inputs["note"] == "😀"
    assert set(Case.objects.values_list("external_id", flat=True)) == {"ok", "emoji"}


def test_moments_out_of_range_are_refused(team, api):
    response = api().post(url(team), {"cases": [case("old") | {"received_at": "0001-01-01T00:00:00+01:00"}]})
    assert results(response) == {"old": "rejected"}
    response = api().get(url(team, "/cases"), {"received_from": "0001-01-01T00:00:00+05:00"})
    assert response.status_code == 422
    assert errors_of(response)[0][0] == ("query", "received_from")


def test_outcome_columns_a_pilot_may_supply(team, api):
    prepare(team)
    standards.register_ai_version(pilot=team.pilot, actor=team.pm, identifier="v1", released_on="2026-10-01")
    given = case("a") | {
        "decided_at": "2026-11-02T10:00:00Z",
        "corrected": True,
        "touchpoints": 2,
        "cost": "12.5",
    }
    api().post(url(team), {"cases": [given | {"ai_version": "v1"}]})
    stored = Case.objects.select_related("ai_version").get()
    assert (stored.corrected, stored.touchpoints, str(stored.cost), stored.ai_version.identifier) == (
        True,
        2,
        "12.50",
        "v1",
    )


def test_a_case_is_read_by_its_external_id(team, api):
    prepare(team)
    api().post(url(team), {"cases": [case("claim-7 ü")]})
    response = api().get(url(team, "/cases/claim-7%20%C3%BC"))
    assert response.status_code == 200
    body = response.json()
    assert body["external_id"] == "claim-7 ü" and body["source"] == "api" and body["route"] == "automated"
    assert body["inputs"] == {"amount": 100, "channel": "web"}
    assert body["received_at"] == "2026-11-02T09:00:00Z"


def test_cursor_pagination_walks_every_case_exactly_once(team, api, django_assert_max_num_queries):
    prepare(team)
    client = api()
    client.post(
        url(team), {"cases": [case(f"c{i:02}", amount=20000 if i % 3 == 0 else 5) for i in range(25)]}
    )
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 7} | ({"cursor": cursor} if cursor else {})
        with django_assert_max_num_queries(6):
            page = client.get(url(team, "/cases"), params).json()
        seen += [item["external_id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 4
    assert len(seen) == len(set(seen)) == 25
    assert seen == [f"c{i:02}" for i in reversed(range(25))]  # newest first


def test_cases_are_filtered(team, api):
    prepare(team)
    client = api()
    client.post(url(team), {"cases": [case("a"), case("b", amount=20000), case("c")]})
    escalated = client.get(url(team, "/cases"), {"route": "escalated"}).json()["items"]
    assert [c["external_id"] for c in escalated] == ["b"]
    undecided = client.get(url(team, "/cases"), {"decided": "false"}).json()["items"]
    assert [c["external_id"] for c in undecided] == ["b"]
    assert client.get(url(team, "/cases"), {"source": "upload"}).json()["items"] == []
    later = client.get(url(team, "/cases"), {"received_from": "2026-11-03T00:00:00Z"}).json()["items"]
    assert later == []
    wrong = client.get(url(team, "/cases"), {"limit": 501, "route": "lost"})
    assert wrong.status_code == 422
    assert {loc for loc, _ in errors_of(wrong)} == {("query", "limit"), ("query", "route")}


def test_an_unknown_pilot_or_case_is_404_json(team, api):
    assert api().get("/pilots/999999/cases").status_code == 404
    response = api().get(url(team, "/cases/nope"))
    assert response.status_code == 404
    assert response.json() == {"detail": "No such case.", "errors": []}
    response = api().get("/pilots/not-a-number")
    assert response.status_code == 422
    assert errors_of(response)[0][0] == ("path", "pilot_id")


def test_the_openapi_document_and_its_docs_are_served_without_a_cdn(team):
    client = Client()
    schema = client.get(f"{BASE}/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in (
        "/api/v1/pilots/{pilot_id}/cases/batch",
        "/api/v1/pilots/{pilot_id}/decisions",
        "/api/v1/pilots/{pilot_id}/corrections",
        "/api/v1/pilots/{pilot_id}/metrics/{metric_id}/measurements",
    ):
        assert path in paths
    docs = client.get(f"{BASE}/docs")
    assert docs.status_code == 200
    page = docs.content.decode()
    assert "/static/ninja/" in page and "cdn" not in page.lower()


@pytest.mark.parametrize(
    "external_id, problems",
    [
        ("c1", []),
        ('quote " back\\slash \t', [{"field": "inputs.x", "kind": "invalid", "message": "got 'x'."}]),
        ("Zürich-東京-\u2028", [{"field": "case", "kind": "invalid", "message": "ü"}]),
    ],
)
def test_a_result_item_is_written_as_json_would_write_it(external_id, problems):
    from pilots.api import _item_json

    item = {"external_id": external_id, "outcome": "created", "problems": problems, "route": "automated"}
    assert _item_json(external_id, "created", problems, "automated") == json.dumps(item)
