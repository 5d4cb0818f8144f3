"""Old versions of the standard, its downloads (JSON Schema, CSV template), the conformance threshold."""

import csv
import io
import json

from django.urls import reverse

from pilots.models import Pilot
from tests.views.conftest import HTMX, actions
from tests.views.test_step2_helpers import SPEC, publish


def version_url(pilot, version: int) -> str:
    return reverse("standard_version", args=[pilot.pk, version])


def schema_url(pilot) -> str:
    return reverse("standard_schema", args=[pilot.pk])


def template_url(pilot) -> str:
    return reverse("standard_template", args=[pilot.pk])


def threshold_url(pilot) -> str:
    return reverse("conformance_threshold", args=[pilot.pk])


def two_versions(team):
    publish(team)
    return publish(team, {"inputs": SPEC["inputs"][:3], "outputs": SPEC["outputs"]})


# Versions


def test_an_old_version_stays_readable(team, client_for):
    two_versions(team)
    for name in ("pm", "reviewer", "leader"):
        response = client_for(team.person(name)).get(version_url(team.pilot, 1))
        assert response.status_code == 200, name
        page = response.content.decode()
        assert "superseded by v2" in page
        assert "submitted_at" in page  # a field v2 dropped
        assert f"{schema_url(team.pilot)}?version=1" in page


def test_the_version_list_links_every_version(team, client_for):
    two_versions(team)
    page = client_for(team.reviewer).get(reverse("standard", args=[team.pilot.pk])).content.decode()
    assert version_url(team.pilot, 1) in page and version_url(team.pilot, 2) in page


def test_an_unknown_version_is_a_404(team, client_for):
    publish(team)
    assert client_for(team.pm).get(version_url(team.pilot, 9)).status_code == 404


def test_a_version_is_a_404_for_an_outsider(team, client_for):
    publish(team)
    assert client_for(team.outsider).get(version_url(team.pilot, 1)).status_code == 404


def test_a_version_page_requires_get(team, client_for):
    publish(team)
    assert client_for(team.pm).post(version_url(team.pilot, 1)).status_code == 405


# Downloads


def test_the_json_schema_downloads_as_an_attachment(team, client_for):
    publish(team)
    response = client_for(team.leader).get(schema_url(team.pilot))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "standard-v1.schema.json" in response["Content-Disposition"]
    schema = json.loads(response.content)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    inputs = schema["properties"]["inputs"]
    assert inputs["required"] == ["claim_id", "amount", "channel"]
    assert inputs["properties"]["channel"]["enum"] == ["web", "phone"]
    assert schema["x-prodready"]["event_time_field"] == "submitted_at"


def test_an_old_version_of_the_schema_downloads_too(team, client_for):
    two_versions(team)
    client = client_for(team.pm)
    old = json.loads(client.get(schema_url(team.pilot), {"version": 1}).content)
    new = json.loads(client.get(schema_url(team.pilot)).content)
    assert "submitted_at" in old["properties"]["inputs"]["properties"]
    assert "submitted_at" not in new["properties"]["inputs"]["properties"]
    assert client.get(schema_url(team.pilot), {"version": 7}).status_code == 404
    assert client.get(schema_url(team.pilot), {"version": "x"}).status_code == 404


def test_the_csv_template_has_the_header_and_an_example_row(team, client_for):
    publish(team)
    response = client_for(team.reviewer).get(template_url(team.pilot))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    header, example = list(csv.reader(io.StringIO(response.content.decode())))
    assert header[:4] == ["external_id", "claim_id", "amount", "channel"]
    assert header[-2:] == ["output.category", "output.confidence"]
    assert len(example) == len(header)


def test_downloads_are_a_404_without_a_standard(team, client_for):
    client = client_for(team.pm)
    assert client.get(schema_url(team.pilot)).status_code == 404
    assert client.get(template_url(team.pilot)).status_code == 404


def test_downloads_are_a_404_for_an_outsider(team, client_for):
    publish(team)
    client = client_for(team.outsider)
    assert client.get(schema_url(team.pilot)).status_code == 404
    assert client.get(template_url(team.pilot)).status_code == 404


def test_downloads_require_get(team, client_for):
    publish(team)
    client = client_for(team.pm)
    assert client.post(schema_url(team.pilot)).status_code == 405
    assert client.post(template_url(team.pilot)).status_code == 405


# The conformance threshold


def threshold(team) -> float:
    return Pilot.objects.get(pk=team.pilot.pk).conformance_threshold


def test_the_program_manager_sets_the_threshold(team, client_for):
    response = client_for(team.pm).post(threshold_url(team.pilot), {"percent": "97.5"})
    assert response.status_code == 302
    assert response.url == reverse("standard", args=[team.pilot.pk])
    assert threshold(team) == 0.975
    assert actions(pilot=team.pilot) == ["pilot.conformance_threshold_set"]


def test_a_plain_post_from_the_pilot_page_goes_back_there(team, client_for):
    back = reverse("pilot_detail", args=[team.pilot.pk])
    response = client_for(team.admin).post(threshold_url(team.pilot), {"percent": "90", "next": back})
    assert response.url == back
    evil = client_for(team.admin).post(
        threshold_url(team.pilot), {"percent": "91", "next": "https://evil.example/"}
    )
    assert evil.url == reverse("standard", args=[team.pilot.pk])


def test_an_htmx_post_from_the_panel_gets_the_refreshed_panel(team, client_for):
    headers = HTMX | {"HX-Target": "inputs-panel"}
    response = client_for(team.pm).post(threshold_url(team.pilot), {"percent": "80"}, headers=headers)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="inputs-panel"' in page and "<html" not in page
    assert "threshold 80%" in page
    assert "Conformance threshold set to 80%." in page


def test_an_htmx_post_from_the_standard_page_gets_the_threshold_card(team, client_for):
    headers = HTMX | {"HX-Target": "threshold"}
    response = client_for(team.pm).post(threshold_url(team.pilot), {"percent": "99"}, headers=headers)
    page = response.content.decode()
    assert 'id="threshold"' in page and 'id="inputs-panel"' not in page
    assert "<strong>99%</strong>" in page


def test_a_threshold_outside_50_to_100_is_refused(team, client_for):
    client = client_for(team.pm)
    for value in ("49", "100.5", "lots", ""):
        response = client.post(
            threshold_url(team.pilot), {"percent": value}, headers=HTMX | {"HX-Target": "threshold"}
        )
        assert response.status_code == 422, value
        assert 'class="error"' in response.content.decode(), value
    plain = client.post(threshold_url(team.pilot), {"percent": "20"})
    assert plain.status_code == 422
    assert "<html" in plain.content.decode()
    assert threshold(team) == 0.95
    assert actions(pilot=team.pilot) == []


def test_setting_the_same_threshold_twice_is_harmless(team, client_for):
    client = client_for(team.pm)
    client.post(threshold_url(team.pilot), {"percent": "90"})
    client.post(threshold_url(team.pilot), {"percent": "90"})
    assert threshold(team) == 0.9
    assert actions(pilot=team.pilot) == ["pilot.conformance_threshold_set"]


def test_a_forged_threshold_field_is_ignored(team, client_for):
    client_for(team.pm).post(threshold_url(team.pilot), {"percent": "90", "conformance_threshold": "0.1"})
    assert threshold(team) == 0.9


def test_setting_the_threshold_requires_the_program_manager_or_admin_role(team, client_for):
    for name in ("owner", "reviewer", "leader"):
        assert (
            client_for(team.person(name)).post(threshold_url(team.pilot), {"percent": "60"}).status_code
            == 403
        )
    assert threshold(team) == 0.95


def test_setting_the_threshold_is_a_404_for_an_outsider(team, client_for):
    assert client_for(team.outsider).post(threshold_url(team.pilot), {"percent": "60"}).status_code == 404
    assert threshold(team) == 0.95


def test_setting_the_threshold_requires_post(team, client_for):
    assert client_for(team.pm).get(threshold_url(team.pilot)).status_code == 405
