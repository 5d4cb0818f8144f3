"""Uploading cases from the pilot page's inputs panel: a status line that follows the run, and the
casesChanged event that refreshes the panels reading the cases (readiness, the inputs figures)."""

import json

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from pilots.models import Case, CaseUpload
from tests.views.conftest import HTMX

CSV = b"external_id,amount\nc1,10\nc2,20\n"


def upload(client, pilot, content=CSV, name="cases.csv"):
    return client.post(
        reverse("uploads", args=[pilot.pk]),
        {"file": SimpleUploadedFile(name, content, content_type="text/csv")},
        headers=HTMX,
    )


def test_the_pilot_page_offers_the_upload_to_those_who_may_add_cases(team, client_for):
    page = reverse("pilot_detail", args=[team.pilot.pk])
    assert 'id="inputs-upload-file"' in client_for(team.pm).get(page).content.decode()
    assert 'id="inputs-upload-file"' not in client_for(team.leader).get(page).content.decode()


def test_an_htmx_upload_answers_with_a_status_line_and_announces_the_new_cases(
    team, client_for, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the run starts once the request commits
        response = upload(client_for(team.pm), team.pilot)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="upload-status"' in html and "<html" not in html and 'data-state="queued"' in html
    assert Case.objects.filter(pilot=team.pilot).count() == 2
    # The status line's next poll finds the run done: it stops polling and announces the cases.
    compact = reverse("upload_detail", args=[team.pilot.pk, CaseUpload.objects.get().pk]) + "?compact=1"
    polled = client_for(team.pm).get(compact, headers=HTMX)
    html = polled.content.decode()
    assert 'data-state="done"' in html and "done — 2 created" in html and "every 1s" not in html
    assert json.loads(polled.headers["HX-Trigger"]) == {"casesChanged": {}}


def test_a_run_still_going_polls_its_status_and_announces_nothing_yet(team, client_for):
    response = upload(client_for(team.pm), team.pilot)  # on_commit not run: the upload waits, queued
    upload_row = CaseUpload.objects.get()
    html = response.content.decode()
    compact = reverse("upload_detail", args=[team.pilot.pk, upload_row.pk]) + "?compact=1"
    assert f'hx-get="{compact}" hx-trigger="every 1s"' in html and "processing…" in html
    assert "HX-Trigger" not in response.headers
    polled = client_for(team.pm).get(compact, headers=HTMX)
    assert polled.status_code == 200 and 'id="upload-status"' in polled.content.decode()


def test_a_refused_upload_says_why_in_place(team, client_for):
    response = upload(client_for(team.pm), team.pilot, content=b"")
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="upload-status"' in html and 'role="alert"' in html and "empty" in html
    assert not CaseUpload.objects.exists()


def test_roles_and_workspaces_still_hold(team, client_for):
    assert upload(client_for(team.leader), team.pilot).status_code == 403
    assert upload(client_for(team.outsider), team.pilot).status_code == 404


def test_the_inputs_panel_is_served_alone_for_its_refresh(team, client_for):
    url = reverse("inputs_panel", args=[team.pilot.pk])
    response = client_for(team.leader).get(url, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and 'id="inputs-figures"' in html and "<html" not in html
    assert 'hx-trigger="casesChanged from:body"' in html
    assert client_for(team.outsider).get(url, headers=HTMX).status_code == 404
    assert client_for(team.pm).post(url, headers=HTMX).status_code == 405
