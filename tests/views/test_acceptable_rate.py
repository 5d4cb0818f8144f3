"""Setting the pilot's acceptable correction rate from the learning page: a percentage (5 → 5%) written
through the hub's service; bad input is a 422 naming the problem, and nothing changes."""

import json

import pytest
from django.urls import reverse

from pilots.models import Pilot
from tests.views.conftest import HTMX, actions
from tests.views.test_learning import flat

AUDIT = "pilot.acceptable_correction_rate_set"


def url(pilot) -> str:
    return reverse("acceptable_correction_rate", args=[pilot.pk])


def rate(team) -> float:
    return Pilot.objects.get(pk=team.pilot.pk).acceptable_correction_rate


def test_the_program_manager_sets_the_rate(team, client_for):
    client = client_for(team.pm)
    response = client.post(url(team.pilot), {"percent": "2.5"})
    assert response.status_code == 302
    assert response.url == reverse("learning", args=[team.pilot.pk])
    assert rate(team) == 0.025
    assert actions(pilot=team.pilot) == [AUDIT]
    page = client.get(response.url).content.decode()
    assert "Acceptable correction rate set to 2.5%." in page
    assert 'id="acceptable-rate">2.5%<' in page


def test_an_admin_may_set_it_and_a_percent_sign_or_decimal_comma_is_understood(team, client_for):
    client = client_for(team.admin)
    client.post(url(team.pilot), {"percent": "8 %"})
    assert rate(team) == 0.08
    client.post(url(team.pilot), {"percent": "7,5"})
    assert rate(team) == 0.075


def test_an_htmx_post_gets_the_verdict_block_and_the_event(team, client_for):
    flat(team)
    response = client_for(team.pm).post(url(team.pilot), {"percent": "12"}, headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="learning-verdict"' in html and "<html" not in html and "<svg" not in html
    assert "Flat but within the acceptable rate" in html
    assert "Acceptable correction rate set to 12%." in html
    assert "correctionRateSet" in json.loads(response["HX-Trigger"])


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("lots", "“lots” is not a number"),
        ("NaN", "“NaN” is not a number"),
        ("50.5", "Give at most 50%"),
        ("-1", "cannot be negative"),
        ("", "Give the acceptable correction rate as a percentage"),
        ("2.125", "at most two decimals"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(team, client_for, given, message):
    client = client_for(team.pm)
    response = client.post(url(team.pilot), {"percent": given}, headers=HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="learning-verdict"' in html and "<html" not in html
    assert message in html and 'aria-invalid="true"' in html
    assert "HX-Trigger" not in response
    plain = client.post(url(team.pilot), {"percent": given})
    assert plain.status_code == 422 and "<html" in plain.content.decode()
    assert message in plain.content.decode()
    assert rate(team) == 0.05
    assert actions(pilot=team.pilot) == []


def test_setting_the_same_rate_twice_is_harmless(team, client_for):
    client = client_for(team.pm)
    client.post(url(team.pilot), {"percent": "4"})
    again = client.post(url(team.pilot), {"percent": "4"}, headers=HTMX)
    assert again.status_code == 200
    assert "The acceptable correction rate stays at 4%." in again.content.decode()
    assert rate(team) == 0.04
    assert actions(pilot=team.pilot) == [AUDIT]


def test_a_forged_field_is_ignored(team, client_for):
    client_for(team.pm).post(url(team.pilot), {"percent": "3", "acceptable_correction_rate": "0.9"})
    assert rate(team) == 0.03


def test_it_requires_the_program_manager_or_admin_role(team, client_for):
    for name in ("owner", "reviewer", "leader"):
        assert client_for(team.person(name)).post(url(team.pilot), {"percent": "9"}).status_code == 403, name
    assert rate(team) == 0.05


def test_it_is_a_404_for_an_outsider(team, client_for):
    assert client_for(team.outsider).post(url(team.pilot), {"percent": "9"}).status_code == 404
    assert rate(team) == 0.05


def test_it_requires_post(team, client_for):
    assert client_for(team.pm).get(url(team.pilot)).status_code == 405
