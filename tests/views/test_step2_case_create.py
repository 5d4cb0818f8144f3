"""The intake form generated from the standard: one case typed by hand, stored even with problems."""

from django.urls import reverse
from django.utils import timezone

from pilots.models import AIVersion, Case
from tests.views.conftest import actions
from tests.views.test_step2_helpers import publish


def url(pilot) -> str:
    return reverse("case_create", args=[pilot.pk])


GOOD = {
    "external_id": "hand-1",
    "input__claim_id": "C-77",
    "input__amount": "250",
    "input__channel": "web",
    "input__start_date": "2026-01-02",
    "input__end_date": "2026-01-05",
    "output__category": "theft",
    "output__confidence": "0.8",
}


def test_the_form_has_a_typed_widget_per_field(team, client_for):
    publish(team)
    page = client_for(team.pm).get(url(team.pilot)).content.decode()
    assert 'name="input__amount"' in page and 'type="number"' in page
    assert 'type="date" name="input__start_date"' in page
    assert 'type="datetime-local" name="input__submitted_at"' in page
    assert 'type="checkbox" name="input__urgent"' in page
    assert '<select name="input__channel"' in page and '<option value="phone">' in page
    assert 'name="output__category"' in page
    assert 'name="external_id"' in page


def test_without_a_standard_it_says_so_and_links_to_the_editor(team, client_for):
    client = client_for(team.pm)
    response = client.get(url(team.pilot))
    assert response.status_code == 200
    page = response.content.decode()
    assert "no input standard yet" in page
    assert reverse("standard", args=[team.pilot.pk]) in page
    assert client.post(url(team.pilot), GOOD).status_code == 422
    assert not Case.objects.exists()


def test_a_conforming_case_is_stored(team, client_for):
    publish(team)
    response = client_for(team.pm).post(url(team.pilot), GOOD)
    case = Case.objects.get(pilot=team.pilot)
    assert response.status_code == 302
    assert response.url == reverse("case_detail", args=[team.pilot.pk, case.pk])
    assert (case.external_id, case.source, case.standard_version) == ("hand-1", "form", 1)
    assert case.inputs["amount"] == 250
    assert case.inputs["urgent"] is False
    assert case.outputs == {"category": "theft", "confidence": 0.8}
    assert case.problems == []
    assert actions(pilot=team.pilot) == ["standard.published", "cases.ingested"]


def test_a_case_with_problems_is_stored_with_them_and_they_are_shown(team, client_for):
    publish(team)
    client = client_for(team.pm)
    data = GOOD | {"input__amount": "", "input__channel": "phone", "input__end_date": "2025-12-01"}
    response = client.post(url(team.pilot), data, follow=True)
    case = Case.objects.get(pilot=team.pilot)
    assert {p["kind"] for p in case.problems} == {"missing", "contradictory"}
    assert case.has_missing and case.has_contradictory
    page = response.content.decode()
    assert "stored with 3 problems" in page
    assert "Amount is required." in page
    assert "Phone number is required when Channel is phone." in page


def test_it_names_the_ai_version(team, client_for):
    publish(team)
    version = AIVersion.objects.create(pilot=team.pilot, identifier="m-2", released_on="2026-01-01")
    client_for(team.pm).post(url(team.pilot), GOOD | {"ai_version": "m-2"})
    assert Case.objects.get().ai_version == version


def test_sending_the_same_case_twice_stores_it_once(team, client_for):
    publish(team)
    client = client_for(team.pm)
    client.post(url(team.pilot), GOOD)
    response = client.post(url(team.pilot), GOOD, follow=True)
    assert Case.objects.filter(pilot=team.pilot).count() == 1
    assert "nothing changed" in response.content.decode()


def test_a_decided_case_is_not_overwritten(team, client_for):
    publish(team)
    client = client_for(team.pm)
    client.post(url(team.pilot), GOOD)
    Case.objects.update(decided_at=timezone.now())
    response = client.post(url(team.pilot), GOOD | {"input__amount": "999"})
    assert response.status_code == 422
    assert "is decided already" in response.content.decode()
    assert Case.objects.get().inputs["amount"] == 250


def test_an_external_id_is_required(team, client_for):
    publish(team)
    response = client_for(team.pm).post(url(team.pilot), GOOD | {"external_id": "  "})
    assert response.status_code == 422
    assert 'value="C-77"' in response.content.decode()  # what was typed is kept
    assert not Case.objects.exists()


def test_forged_fields_are_ignored(team, client_for):
    publish(team)
    forged = GOOD | {"source": "api", "decided_at": "2026-01-01T00:00", "pilot": "999", "input__forged": "x"}
    client_for(team.pm).post(url(team.pilot), forged)
    case = Case.objects.get()
    assert (case.source, case.decided_at, case.pilot) == ("form", None, team.pilot)
    assert "forged" not in case.inputs


def test_adding_cases_requires_the_program_manager_or_admin_role(team, client_for):
    publish(team)
    for name in ("owner", "reviewer", "leader"):
        client = client_for(team.person(name))
        assert client.get(url(team.pilot)).status_code == 403, name
        assert client.post(url(team.pilot), GOOD).status_code == 403, name
    assert client_for(team.admin).post(url(team.pilot), GOOD).status_code == 302
    assert Case.objects.count() == 1


def test_it_is_a_404_for_an_outsider(team, client_for):
    publish(team)
    assert client_for(team.outsider).post(url(team.pilot), GOOD).status_code == 404
    assert not Case.objects.exists()


def test_it_allows_only_get_and_post(team, client_for):
    publish(team)
    assert client_for(team.pm).put(url(team.pilot)).status_code == 405
