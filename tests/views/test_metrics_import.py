"""Importing measurements from a CSV: all or nothing, every bad row listed."""

import json

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from metrics.models import Measurement
from tests import factories
from tests.views.conftest import HTMX, actions
from tests.views.test_metrics_helpers import define

GOOD = "date,value,note\n2026-01-05,6.1,first week\n2026-01-12,5.8,\n2026-01-19,5.2,after training\n"
BAD = (
    "date,value,note\n2026-01-05,6.1,ok\n05/01/2026,5.8,\n2026-01-19,lots,\n2026-01-26,-3,\n2026-02-02,4.9,\n"
)


def url(metric) -> str:
    return reverse("measurement_import", args=[metric.pilot_id, metric.pk])


def upload(text: str | bytes, name: str = "figures.csv") -> dict:
    content = text.encode() if isinstance(text, str) else text
    return {"file": SimpleUploadedFile(name, content, content_type="text/csv")}


def test_the_program_manager_imports_a_file(team, client_for):
    metric = define(team)
    response = client_for(team.pm).post(url(metric), upload(GOOD))
    assert response.status_code == 302
    assert response.url == reverse("metric_detail", args=[team.pilot.pk, metric.pk])
    rows = list(Measurement.objects.order_by("on").values_list("value", "note", "source", "by"))
    assert rows == [
        (6.1, "first week", "import", team.pm.pk),
        (5.8, "", "import", team.pm.pk),
        (5.2, "after training", "import", team.pm.pk),
    ]
    assert actions(pilot=team.pilot) == ["metric.defined", "measurement.imported"]


def test_htmx_gets_the_refreshed_trend_and_the_event(team, client_for):
    metric = define(team)
    response = client_for(team.admin).post(url(metric), upload(GOOD), headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "3 measurements imported." in html and "<html" not in html
    assert html.count('<tr>\n        <td class="nowrap">') == 3
    assert "measurementsChanged" in json.loads(response.headers["HX-Trigger"])


def test_a_file_with_bad_rows_imports_nothing_and_lists_every_bad_row(team, client_for):
    metric = define(team)
    response = client_for(team.pm).post(url(metric), upload(BAD), headers=HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    assert "Nothing imported." in html and "these 3 rows" in html
    assert "Line 3: “05/01/2026” is not a date (YYYY-MM-DD)." in html
    assert "Line 4: “lots” is not a number." in html
    assert "Line 5: This metric cannot be negative (-3)." in html
    assert "Line 2" not in html and "Line 6" not in html
    assert "HX-Trigger" not in response.headers
    assert not Measurement.objects.exists()
    assert actions(pilot=team.pilot) == ["metric.defined"]


def test_a_percentage_above_100_is_a_bad_row(team, client_for):
    metric = define(team, name="Error rate", kind="error_rate", baseline=8, target=3)
    response = client_for(team.pm).post(url(metric), upload("date,value\n2026-01-05,7\n2026-01-12,180\n"))
    assert response.status_code == 422
    assert "Line 3: A percentage is between 0 and 100, not 180." in response.content.decode()
    assert not Measurement.objects.exists()


def test_a_wrong_header_or_no_file_is_refused(team, client_for):
    metric = define(team)
    client = client_for(team.pm)
    response = client.post(url(metric), upload("day,figure\n2026-01-05,6\n"))
    assert response.status_code == 422
    assert "Line 1: The header must be: date,value,note" in response.content.decode()
    response = client.post(url(metric), {})
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()
    response = client.post(url(metric), upload("date,value\n2026-01-05,6,caf\xe9\n".encode("latin-1")))
    assert response.status_code == 422
    assert "not UTF-8 text" in response.content.decode()
    assert not Measurement.objects.exists()


def test_importing_the_same_file_twice_imports_it_once(team, client_for):
    metric = define(team)
    client = client_for(team.pm)
    client.post(url(metric), upload(GOOD))
    response = client.post(url(metric), upload(GOOD), headers=HTMX)
    assert response.status_code == 200
    assert "Nothing imported: the 3 rows of this file are recorded already." in response.content.decode()
    assert Measurement.objects.count() == 3
    assert actions(pilot=team.pilot).count("measurement.imported") == 1


def test_a_computed_metric_takes_no_import(team, client_for):
    metric = define(team, method="from_cases")
    response = client_for(team.pm).post(url(metric), upload(GOOD), headers=HTMX)
    assert response.status_code == 422
    assert "it takes no imported figures" in response.content.decode()
    assert not Measurement.objects.exists()


def test_forged_fields_are_ignored(team, client_for):
    metric = define(team)
    other = factories.PilotFactory(workspace=team.workspace)
    client_for(team.pm).post(url(metric), upload(GOOD) | {"pilot": other.pk, "source": "computed", "by": 1})
    assert set(Measurement.objects.values_list("metric", "source", "by")) == {
        (metric.pk, "import", team.pm.pk)
    }


def test_importing_requires_the_program_manager_or_admin_role(team, client_for):
    metric = define(team)
    for name in ("owner", "reviewer", "leader"):
        assert client_for(team.person(name)).post(url(metric), upload(GOOD)).status_code == 403, name
    assert not Measurement.objects.exists()


def test_it_is_a_404_for_an_outsider_and_for_another_pilots_metric(team, client_for):
    metric = define(team)
    assert client_for(team.outsider).post(url(metric), upload(GOOD)).status_code == 404
    other = factories.PilotFactory(workspace=team.workspace)
    through_other = reverse("measurement_import", args=[other.pk, metric.pk])
    assert client_for(team.pm).post(through_other, upload(GOOD)).status_code == 404
    assert not Measurement.objects.exists()


def test_it_allows_only_post(team, client_for):
    metric = define(team)
    assert client_for(team.pm).get(url(metric)).status_code == 405
    assert not Measurement.objects.exists()
