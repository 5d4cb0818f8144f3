"""The regression set: the page of its cases, and its JSON Lines and CSV downloads — which round-trip to
what the service holds, are safe to open in a spreadsheet, and leave an audit event each time."""

import csv
import io
import json

from django.urls import reverse

from feedback.models import Target
from feedback.services import incorporation
from tests.views.conftest import actions
from tests.views.test_corrections import arrive, correct, ready

FORMULA_ID = '=HYPERLINK("http://evil")'


def url(team, name="regression_set") -> str:
    return reverse(name, args=[team.pilot.pk])


def in_the_set(team):
    """Three cases in the regression set (one with two corrections, one with a formula-like id and a
    non-ASCII note), and one correction incorporated elsewhere."""
    ready(team)
    first, formula, accented, elsewhere = arrive(team, "c1", FORMULA_ID, "c-ü", "c4")
    made = [
        correct(team, first, "category", "theft", "wrong_extraction"),
        correct(team, first, "confidence", "0.3", "missing_context"),
        correct(team, formula, "summary", "=1+1 looks like a formula", "input_defect"),
        correct(team, accented, "approved", "false", "policy_changed", note="Prüfung"),
    ]
    incorporation.incorporate(
        pilot=team.pilot, correction_ids=[c.pk for c in made], into=Target.REGRESSION_SET, target_id=None,
        actor=team.pm,
    )  # fmt: skip
    correct(team, elsewhere)  # waiting in the backlog: not part of the set
    return list(incorporation.regression_cases(team.pilot))


def body(response) -> str:
    return b"".join(response.streaming_content).decode()


def test_every_member_sees_the_cases_with_download_links(team, client_for):
    in_the_set(team)
    for name in ("admin", "pm", "owner", "reviewer", "leader"):
        response = client_for(team.person(name)).get(url(team))
        assert response.status_code == 200, name
    page = response.content.decode()
    assert "3 cases" in page and "4 corrections" in page
    assert (
        f'href="{url(team, "regression_set_jsonl")}"' in page
        and f'href="{url(team, "regression_set_csv")}"' in page
    )
    assert "glass</span> → <strong>theft" in page and "0.9</span> → <strong>0.3" in page
    assert "Wrong extraction" in page and "Missing context" in page
    assert ">c4<" not in page
    assert "regression_set.exported" not in actions(pilot=team.pilot)  # viewing is not exporting


def test_the_page_shows_the_first_200_cases(team, client_for, monkeypatch):
    from feedback.views import regression as views

    monkeypatch.setattr(views, "REGRESSION_PAGE_CAP", 2)
    in_the_set(team)
    response = client_for(team.pm).get(url(team))
    assert len(response.context["entries"]) == 2
    assert "The first 2 cases are shown; the downloads hold all 3." in response.content.decode()


def test_an_empty_set_says_so(team, client_for):
    assert "The regression set is empty" in client_for(team.leader).get(url(team)).content.decode()


def test_the_jsonl_round_trips(team, client_for):
    expected = in_the_set(team)
    response = client_for(team.leader).get(url(team, "regression_set_jsonl"))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/x-ndjson")
    name = f"{team.pilot.name.lower().replace(' ', '-')}-regression-set.jsonl"
    assert (
        response["Content-Disposition"].startswith("attachment;") and name in response["Content-Disposition"]
    )
    lines = body(response).splitlines()
    assert [json.loads(line) for line in lines] == expected
    assert len(expected) == 3 and expected[0]["corrected_outputs"]["confidence"] == 0.3
    assert expected[0]["reasons"] == ["wrong_extraction", "missing_context"]


def test_the_csv_round_trips_and_neutralises_formulas(team, client_for):
    expected = in_the_set(team)
    response = client_for(team.leader).get(url(team, "regression_set_csv"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    name = f"{team.pilot.name.lower().replace(' ', '-')}-regression-set.csv"
    assert name in response["Content-Disposition"]
    table = list(csv.reader(io.StringIO(body(response))))
    assert table[0] == ["external_id", "inputs", "ai_outputs", "corrected_outputs", "reasons"]
    read = [
        {
            "external_id": row[0],
            "inputs": json.loads(row[1]),
            "ai_outputs": json.loads(row[2]),
            "corrected_outputs": json.loads(row[3]),
            "reasons": row[4].split(";"),
        }
        for row in table[1:]
    ]
    # A spreadsheet shows the formula-like id as text: it comes back with the leading quote.
    neutralised = next(entry for entry in read if entry["external_id"].startswith("'"))
    assert neutralised["external_id"] == "'" + FORMULA_ID
    neutralised["external_id"] = FORMULA_ID
    assert read == expected
    assert any(entry["corrected_outputs"]["summary"] == "=1+1 looks like a formula" for entry in read)


def test_each_download_is_recorded(team, client_for):
    in_the_set(team)
    client = client_for(team.reviewer)
    for name in ("regression_set_jsonl", "regression_set_csv", "regression_set_csv"):
        body(client.get(url(team, name)))
    assert actions(pilot=team.pilot).count("regression_set.exported") == 3


def test_an_empty_set_downloads_as_empty_files(team, client_for):
    client = client_for(team.pm)
    assert body(client.get(url(team, "regression_set_jsonl"))) == ""
    assert body(client.get(url(team, "regression_set_csv"))).splitlines() == [
        "external_id,inputs,ai_outputs,corrected_outputs,reasons"
    ]


def test_they_are_a_404_for_an_outsider(team, client_for):
    in_the_set(team)
    for name in ("regression_set", "regression_set_jsonl", "regression_set_csv"):
        assert client_for(team.outsider).get(url(team, name)).status_code == 404, name
    assert "regression_set.exported" not in actions(pilot=team.pilot)


def test_they_allow_only_get(team, client_for):
    for name in ("regression_set", "regression_set_jsonl", "regression_set_csv"):
        assert client_for(team.pm).post(url(team, name)).status_code == 405, name
