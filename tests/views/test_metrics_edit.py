"""Editing a metric's definition."""

from django.urls import reverse

from metrics.models import Metric
from tests import factories
from tests.views.conftest import HTMX, actions
from tests.views.test_metrics_helpers import define, form_data


def url(metric) -> str:
    return reverse("metric_edit", args=[metric.pilot_id, metric.pk])


def saved(metric, **changes) -> dict:
    """The POST data of the metric as it stands, with these changes."""
    data = form_data(
        name=metric.name, baseline=metric.baseline, target=metric.target, unit=metric.unit,
        baseline_on=metric.baseline_on, target_date=metric.target_date,
        baseline_source=metric.baseline_source,
    )  # fmt: skip
    return data | {"owner": metric.owner_id} | {k: str(v) for k, v in changes.items()}


def test_the_form_shows_the_metric_as_it_stands(team, client_for):
    metric = define(team, baseline_source="Q4 report")
    response = client_for(team.pm).get(url(metric))
    assert response.status_code == 200
    form = response.context["form"]
    assert (form["name"].value(), form["baseline"].value(), form["baseline_source"].value()) == (
        "Claim cycle time", 6.2, "Q4 report",
    )  # fmt: skip
    assert form["owner"].value() == team.pm.pk


def test_the_program_manager_changes_the_target(team, client_for):
    metric = define(team)
    response = client_for(team.pm).post(url(metric), saved(metric, target="3", owner=team.owner.pk))
    assert response.status_code == 302
    assert response.url == reverse("metric_detail", args=[team.pilot.pk, metric.pk])
    metric.refresh_from_db()
    assert (metric.target, metric.owner) == (3.0, team.owner)
    assert actions(pilot=team.pilot) == ["metric.defined", "metric.updated"]


def test_saving_it_unchanged_twice_records_nothing_more(team, client_for):
    metric = define(team)
    client = client_for(team.admin)
    assert client.post(url(metric), saved(metric)).status_code == 302
    assert client.post(url(metric), saved(metric)).status_code == 302
    assert actions(pilot=team.pilot) == ["metric.defined"]


def test_a_bad_edit_is_refused_on_its_field_and_changes_nothing(team, client_for):
    metric = define(team)
    response = client_for(team.pm).post(url(metric), saved(metric, target="9"))
    assert response.status_code == 422
    assert response.context["form"].errors["target"] == [
        "Lower is better, so the target must be below the baseline."
    ]
    metric.refresh_from_db()
    assert metric.target == 2.0


def test_choosing_another_kind_refreshes_its_fields(team, client_for):
    metric = define(team)
    response = client_for(team.pm).get(url(metric), {"kind": "error_rate", "unit": "days"}, headers=HTMX)
    assert 'name="unit" value="%"' in response.content.decode()


def test_renaming_to_another_metrics_name_is_refused(team, client_for):
    define(team, name="Error rate", kind="error_rate", baseline=8, target=3)
    metric = define(team)
    response = client_for(team.pm).post(url(metric), saved(metric, name="error rate"))
    assert response.status_code == 422
    assert "already has a metric called" in response.context["form"].errors["name"][0]


def test_forged_fields_are_ignored(team, client_for):
    metric = define(team)
    other = factories.PilotFactory(workspace=team.workspace)
    client_for(team.pm).post(
        url(metric), saved(metric, target="3") | {"pilot": other.pk, "vanity_warning": "x"}
    )
    metric.refresh_from_db()
    assert (metric.pilot, metric.target, metric.vanity_warning) == (team.pilot, 3.0, "")


def test_editing_requires_the_program_manager_or_admin_role(team, client_for):
    metric = define(team)
    for name in ("owner", "reviewer", "leader"):
        client = client_for(team.person(name))
        assert client.get(url(metric)).status_code == 403, name
        assert client.post(url(metric), saved(metric, target="3")).status_code == 403, name
    metric.refresh_from_db()
    assert metric.target == 2.0


def test_it_is_a_404_for_an_outsider_and_for_another_pilots_metric(team, client_for):
    metric = define(team)
    client = client_for(team.outsider)
    assert client.get(url(metric)).status_code == 404
    assert client.post(url(metric), saved(metric, target="3")).status_code == 404
    other = factories.PilotFactory(workspace=team.workspace)
    through_other = reverse("metric_edit", args=[other.pk, metric.pk])
    assert client_for(team.pm).get(through_other).status_code == 404
    assert client_for(team.pm).post(through_other, saved(metric, target="3")).status_code == 404
    metric.refresh_from_db()
    assert metric.target == 2.0


def test_it_allows_only_get_and_post(team, client_for):
    metric = define(team)
    assert client_for(team.pm).delete(url(metric)).status_code == 405
    assert Metric.objects.filter(pk=metric.pk).exists()
