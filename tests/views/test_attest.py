from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from pilots import checks
from pilots.models import Attestation
from tests import factories
from tests.views.conftest import actions


def url(pilot) -> str:
    return reverse("attest", args=[pilot.pk])


def in_days(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


@pytest.fixture
def attestable():
    """A registered attestable check that the pilot's data never verifies."""
    checks.check(
        id="test.attestable", section="value", title="Test attestable", gate="define_success", attestable=True
    )(lambda ids: {})
    yield checks.get("test.attestable")
    checks.unregister("test.attestable")


def attestation(**changes) -> dict:
    return {
        "check_id": "test.attestable",
        "note": "The finance lead signed off the baseline.",
        "evidence_url": "https://wiki.example.com/baseline",
        "expires_on": in_days(90),
        **changes,
    }


def test_without_an_attestable_check_the_page_says_so(team, client_for, monkeypatch):
    data_only = {id: c for id, c in checks._registry.items() if not c.attestable}
    monkeypatch.setattr(checks, "_registry", data_only)
    response = client_for(team.pm).get(url(team.pilot))
    assert response.status_code == 200
    assert "No registered check can be attested" in response.content.decode()


def test_the_page_offers_the_attestable_checks(team, client_for, attestable):
    response = client_for(team.pm).get(url(team.pilot), {"check": "test.attestable"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Test attestable" in body
    assert "ownership.named" not in body  # verified by data only
    assert response.context["form"].initial["check_id"] == "test.attestable"


def test_the_program_manager_attests_a_check(team, client_for, attestable):
    response = client_for(team.pm).post(url(team.pilot), attestation())
    assert response.status_code == 302
    assert response.url == reverse("pilot_detail", args=[team.pilot.pk])
    row = Attestation.objects.get()
    assert (row.pilot, row.check_id, row.attested_by) == (team.pilot, "test.attestable", team.pm)
    assert row.expires_on.isoformat() == in_days(90)
    assert actions(pilot=team.pilot) == ["check.attested"]
    result = checks.evaluate([team.pilot.pk])[team.pilot.pk]["test.attestable"]
    assert result.status == checks.ATTESTED == 0.5
    assert result.label == "attested"
    assert result.evidence.links == (("Evidence for Test attestable", "https://wiki.example.com/baseline"),)


def test_the_attested_check_shows_on_the_pilot_page(team, client_for, attestable):
    client = client_for(team.pm)
    client.post(url(team.pilot), attestation())
    body = client.get(reverse("pilot_detail", args=[team.pilot.pk])).content.decode()
    assert "check-attested" in body


def test_the_pilots_workflow_owner_may_attest(team, client_for, attestable):
    assert client_for(team.owner).post(url(team.pilot), attestation()).status_code == 302
    assert Attestation.objects.get().attested_by == team.owner


def test_a_forged_attester_is_ignored(team, client_for, attestable):
    client_for(team.pm).post(url(team.pilot), attestation(attested_by=team.admin.pk, pilot=0))
    row = Attestation.objects.get()
    assert (row.attested_by, row.pilot) == (team.pm, team.pilot)


def test_attesting_again_keeps_the_check_attested(team, client_for, attestable):
    client = client_for(team.pm)
    client.post(url(team.pilot), attestation())
    assert client.post(url(team.pilot), attestation(note="Renewed.")).status_code == 302
    result = checks.evaluate([team.pilot.pk])[team.pilot.pk]["test.attestable"]
    assert result.status == 0.5
    assert "Renewed." in result.evidence.text


@pytest.mark.parametrize("expires_on", [in_days(-1), in_days(0), in_days(400), "not-a-date"])
def test_it_refuses_an_expiry_that_is_not_in_the_coming_year(team, client_for, attestable, expires_on):
    response = client_for(team.pm).post(url(team.pilot), attestation(expires_on=expires_on))
    assert response.status_code == 422
    assert "expires_on" in response.context["form"].errors
    assert not Attestation.objects.exists()
    assert actions(pilot=team.pilot) == []


def test_an_expired_attestation_no_longer_counts(team, client_for, attestable):
    client_for(team.pm).post(url(team.pilot), attestation())
    Attestation.objects.update(expires_on=timezone.localdate() - timedelta(days=1))
    assert checks.evaluate([team.pilot.pk])[team.pilot.pk]["test.attestable"].status == checks.MISSING


def test_it_refuses_a_check_that_cannot_be_attested(team, client_for, attestable):
    for check_id in ("ownership.named", "no.such.check"):
        response = client_for(team.pm).post(url(team.pilot), attestation(check_id=check_id))
        assert response.status_code == 422, check_id
        assert "check_id" in response.context["form"].errors
    assert not Attestation.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"), [("note", "  "), ("evidence_url", "ftp://files.example.com/x"), ("evidence_url", "")]
)
def test_it_needs_a_note_and_an_http_link(team, client_for, attestable, field, value):
    response = client_for(team.pm).post(url(team.pilot), attestation(**{field: value}))
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert not Attestation.objects.exists()


def test_it_requires_the_program_manager_or_the_pilots_workflow_owner(team, client_for, attestable):
    another_owner = factories.member(team.workspace, "workflow_owner", username="another_owner")
    for user in (team.reviewer, team.leader, team.admin, another_owner):
        client = client_for(user)
        assert client.get(url(team.pilot)).status_code == 403, user
        assert client.post(url(team.pilot), attestation()).status_code == 403, user
    assert not Attestation.objects.exists()
    assert actions(pilot=team.pilot) == []


def test_it_is_a_404_for_an_outsider(team, client_for, attestable):
    client = client_for(team.outsider)
    assert client.get(url(team.pilot)).status_code == 404
    assert client.post(url(team.pilot), attestation()).status_code == 404
    assert not Attestation.objects.exists()


def test_it_requires_get_or_post(team, client_for, attestable):
    assert client_for(team.pm).put(url(team.pilot)).status_code == 405
    assert not Attestation.objects.exists()
