"""Defining a metric: the form, the kind's defaults, and each bad input refused on its field (422)."""

import re

import pytest
from django.urls import reverse

from metrics.models import Metric
from tests import factories
from tests.views.conftest import HTMX, actions
from tests.views.test_metrics_helpers import form_data


def url(pilot) -> str:
    return reverse("metric_create", args=[pilot.pk])


def test_the_program_manager_defines_a_metric(team, client_for):
    response = client_for(team.pm).post(url(team.pilot), form_data() | {"owner": team.owner.pk})
    metric = Metric.objects.get(pilot=team.pilot)
    assert response.status_code == 302
    assert response.url == reverse("metric_detail", args=[team.pilot.pk, metric.pk])
    assert (metric.name, metric.kind, metric.unit, metric.direction) == (
        "Claim cycle time", "cycle_time", "days", "lower",
    )  # fmt: skip
    assert (metric.baseline, metric.target, metric.owner, metric.baseline_source) == (
        6.2, 2.0, team.owner, "ERP report Q4",
    )  # fmt: skip
    assert actions(pilot=team.pilot) == ["metric.defined"]


def test_the_form_offers_the_kinds_and_the_workspace_members_as_owners(team, client_for):
    response = client_for(team.admin).get(url(team.pilot))
    assert response.status_code == 200
    page = response.content.decode()
    for kind in ("cycle_time", "error_rate", "touchpoints", "external_spend", "custom"):
        assert f'<option value="{kind}"' in page
    owners = set(response.context["form"].fields["owner"].queryset)
    assert owners == {team.admin, team.pm, team.owner, team.reviewer, team.leader}
    assert response.context["form"]["owner"].value() == team.admin.pk  # the one defining it, by default


@pytest.mark.parametrize(
    ("kind", "unit"),
    [("error_rate", "%"), ("touchpoints", "touchpoints per case"), ("external_spend", "EUR/month")],
)
def test_choosing_a_kind_fills_in_its_unit_and_lower_is_better(team, client_for, kind, unit):
    response = client_for(team.pm).get(url(team.pilot), {"kind": kind, "unit": "days", "direction": "higher"},
                                       headers=HTMX)  # fmt: skip
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="kind-fields"') and "<html" not in html
    assert f'name="unit" value="{unit}"' in html
    assert re.search(r'name="direction" value="lower"[^>]*checked', html)


def test_choosing_a_kind_keeps_a_unit_of_ones_own(team, client_for):
    html = client_for(team.pm).get(url(team.pilot), {"kind": "cycle_time", "unit": "hours"}, headers=HTMX)
    assert 'name="unit" value="hours"' in html.content.decode()


def test_a_plain_link_with_a_kind_prefills_the_page(team, client_for):
    response = client_for(team.pm).get(url(team.pilot), {"kind": "error_rate"})
    assert "<html" in response.content.decode()
    assert response.context["form"]["unit"].value() == "%"
    assert response.context["form"]["kind"].value() == "error_rate"


def test_a_blank_unit_takes_the_kinds_default(team, client_for):
    client_for(team.pm).post(url(team.pilot), form_data(kind="external_spend", baseline=40000, target=15000)
                             | {"owner": team.pm.pk})  # fmt: skip
    assert Metric.objects.get().unit == "EUR/month"


BAD = [
    ({"target": "6.2"}, "target", "The target equals the baseline"),
    ({"target": "8"}, "target", "Lower is better, so the target must be below the baseline."),
    ({"direction": "higher"}, "target", "Higher is better, so the target must be above the baseline."),
    ({"target_date": "2020-01-01"}, "target_date", "The target date must come after the baseline date."),
    ({"kind": "error_rate", "unit": "%", "baseline": "120", "target": "3"}, "baseline",
     "A percentage is between 0 and 100, not 120."),
    ({"baseline": "six"}, "baseline", "Enter a number."),
    ({"target": ""}, "target", "This field is required."),
    ({"baseline": "-1", "target": "-3"}, "baseline", "This metric cannot be negative (-1)."),
    ({"kind": "custom", "unit": "complaints", "outcome": ""}, "outcome",
     "A custom metric states the business outcome it moves"),
    ({"kind": "custom", "unit": "complaints", "outcome": "fewer", "method": "from_cases"}, "method",
     "Only cycle time, error rate, touchpoints and external spend can be computed from cases."),
    ({"baseline_on": "yesterday"}, "baseline_on", "Enter a valid date."),
]  # fmt: skip


@pytest.mark.parametrize(("changes", "field", "message"), BAD)
def test_each_bad_input_is_refused_on_its_field(team, client_for, changes, field, message):
    response = client_for(team.pm).post(url(team.pilot), form_data(**changes) | {"owner": team.pm.pk})
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert field in errors, errors
    assert any(message in e for e in errors[field]), errors[field]
    assert message[:20] in response.content.decode()
    assert 'value="Claim cycle time"' in response.content.decode()  # what was typed is kept
    assert not Metric.objects.exists()
    assert actions(pilot=team.pilot) == []


def test_an_owner_from_another_workspace_is_refused(team, client_for):
    response = client_for(team.pm).post(url(team.pilot), form_data() | {"owner": team.outsider.pk})
    assert response.status_code == 422
    assert "owner" in response.context["form"].errors
    assert not Metric.objects.exists()


def test_defining_the_same_metric_twice_keeps_one(team, client_for):
    client = client_for(team.pm)
    assert client.post(url(team.pilot), form_data() | {"owner": team.pm.pk}).status_code == 302
    response = client.post(url(team.pilot), form_data() | {"owner": team.pm.pk})
    assert response.status_code == 422
    assert "already has a metric called" in response.context["form"].errors["name"][0]
    assert Metric.objects.count() == 1
    assert actions(pilot=team.pilot) == ["metric.defined"]


def test_a_vanity_metric_is_defined_with_its_warning(team, client_for):
    data = form_data(kind="custom", name="Prompts per day", unit="prompts", direction="higher", baseline=10,
                     target=100, outcome="people use the assistant")  # fmt: skip
    response = client_for(team.pm).post(url(team.pilot), data | {"owner": team.pm.pk}, follow=True)
    assert "Looks like a vanity metric (prompts)" in response.content.decode()
    assert Metric.objects.get().vanity_warning.startswith("Looks like a vanity metric")


def test_forged_fields_are_ignored(team, client_for):
    other = factories.PilotFactory(workspace=team.workspace)
    data = form_data() | {"owner": team.pm.pk, "pilot": other.pk, "vanity_warning": "x", "id": 999}
    client_for(team.pm).post(url(team.pilot), data)
    metric = Metric.objects.get()
    assert (metric.pilot, metric.vanity_warning) == (team.pilot, "")
    assert metric.pk != 999


def test_defining_requires_the_program_manager_or_admin_role(team, client_for):
    for name in ("owner", "reviewer", "leader"):
        client = client_for(team.person(name))
        assert client.get(url(team.pilot)).status_code == 403, name
        assert client.post(url(team.pilot), form_data() | {"owner": team.pm.pk}).status_code == 403, name
    assert not Metric.objects.exists()


def test_it_is_a_404_for_an_outsider(team, client_for):
    client = client_for(team.outsider)
    assert client.get(url(team.pilot)).status_code == 404
    assert client.post(url(team.pilot), form_data() | {"owner": team.pm.pk}).status_code == 404
    assert not Metric.objects.exists()


def test_it_allows_only_get_and_post(team, client_for):
    assert client_for(team.pm).put(url(team.pilot)).status_code == 405
    assert not Metric.objects.exists()
