"""CSV uploads: the form and list, the progress that polls while running, the report, the problem rows."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from pilots.models import Case, CaseUpload
from tests.views.conftest import HTMX, actions
from tests.views.test_step2_helpers import publish

CSV = (
    b"external_id,claim_id,amount,channel,output.category\n"
    b"r-1,C-1,10,web,glass\n"
    b"r-2,C-2,,web,glass\n"  # amount missing
    b"r-3,=cmd|' /C calc'!A0,20,web,theft\n"  # a formula, and a claim id that breaks the pattern
    b"r-4,C-4,abc,phone,glass\n"  # amount invalid, phone number missing
)


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"


def url(pilot) -> str:
    return reverse("uploads", args=[pilot.pk])


def detail_url(upload) -> str:
    return reverse("upload_detail", args=[upload.pilot_id, upload.pk])


def problems_url(upload) -> str:
    return reverse("upload_problems", args=[upload.pilot_id, upload.pk])


def post_file(client, pilot, content: bytes, name: str = "claims.csv", capture=None):
    with capture(execute=True):
        return client.post(url(pilot), {"file": SimpleUploadedFile(name, content, content_type="text/csv")})


def test_every_member_sees_the_list_of_uploads(team, client_for, django_capture_on_commit_callbacks):
    publish(team)
    post_file(client_for(team.pm), team.pilot, CSV, capture=django_capture_on_commit_callbacks)
    for name in ("admin", "pm", "owner", "reviewer", "leader"):
        response = client_for(team.person(name)).get(url(team.pilot))
        assert response.status_code == 200, name
        assert "claims.csv" in response.content.decode(), name


def test_only_those_who_may_add_cases_see_the_form(team, client_for):
    assert 'id="upload-form"' in client_for(team.pm).get(url(team.pilot)).content.decode()
    page = client_for(team.leader).get(url(team.pilot)).content.decode()
    assert 'id="upload-form"' not in page


def test_the_form_states_the_size_limit(team, client_for, settings):
    settings.UPLOAD_MAX_BYTES = 512 * 1024 * 1024
    assert "at most 512 MB" in client_for(team.pm).get(url(team.pilot)).content.decode()


def test_an_upload_runs_and_its_report_shows_the_counts(team, client_for, django_capture_on_commit_callbacks):
    publish(team)
    client = client_for(team.pm)
    response = post_file(client, team.pilot, CSV, capture=django_capture_on_commit_callbacks)
    upload = CaseUpload.objects.get(pilot=team.pilot)
    assert response.status_code == 302
    assert response.url == detail_url(upload)
    assert upload.state == "done"
    assert Case.objects.filter(pilot=team.pilot).count() == 4
    report = client.get(detail_url(upload))
    page = report.content.decode()
    counts = dict((key, count) for key, _label, count in report.context["counts"])
    assert counts == {
        "created": 4,
        "unchanged": 0,
        "updated": 0,
        "conflict": 0,
        "rejected": 0,
        "with_problems": 3,
    }
    assert 'hx-trigger="every 1s"' not in page
    assert "inputs.amount" in page  # the per-field breakdown
    assert problems_url(upload) in page
    assert actions(pilot=team.pilot)[:2] == ["standard.published", "upload.started"]


def test_the_same_file_twice_creates_no_duplicates(team, client_for, django_capture_on_commit_callbacks):
    publish(team)
    client = client_for(team.pm)
    post_file(client, team.pilot, CSV, capture=django_capture_on_commit_callbacks)
    post_file(client, team.pilot, CSV, capture=django_capture_on_commit_callbacks)
    assert Case.objects.filter(pilot=team.pilot).count() == 4
    second = CaseUpload.objects.filter(pilot=team.pilot).order_by("-id").first()
    counts = dict((k, c) for k, _l, c in client.get(detail_url(second)).context["counts"])
    assert (counts["created"], counts["unchanged"]) == (0, 4)


def test_the_problem_rows_download_as_neutralised_csv(team, client_for, django_capture_on_commit_callbacks):
    publish(team)
    client = client_for(team.pm)
    post_file(client, team.pilot, CSV, capture=django_capture_on_commit_callbacks)
    upload = CaseUpload.objects.get(pilot=team.pilot)
    response = client_for(team.reviewer).get(problems_url(upload))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "claims-problems.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["line", "external_id", "outcome", "field", "kind", "message"]
    assert {row[1] for row in rows[1:]} == {"r-2", "r-3", "r-4"}
    assert not any(cell.startswith("=") for row in rows for cell in row)


def test_a_file_that_is_not_utf8_fails_with_a_clear_message(
    team, client_for, django_capture_on_commit_callbacks
):
    publish(team)
    client = client_for(team.pm)
    latin1 = "external_id,claim_id\nr-1,Société\n".encode("latin-1")
    post_file(client, team.pilot, latin1, capture=django_capture_on_commit_callbacks)
    upload = CaseUpload.objects.get(pilot=team.pilot)
    assert upload.state == "failed"
    page = client.get(detail_url(upload)).content.decode()
    assert "The upload failed." in page
    assert "The file is not UTF-8 text" in page
    assert 'hx-trigger="every 1s"' not in page
    assert not Case.objects.exists()
    assert client.get(problems_url(upload)).status_code == 404


def test_a_file_over_the_limit_is_refused_before_anything_is_stored(
    team, client_for, settings, django_capture_on_commit_callbacks
):
    settings.UPLOAD_MAX_BYTES = 1024
    response = post_file(
        client_for(team.pm),
        team.pilot,
        b"external_id\n" + b"x\n" * 600,
        capture=django_capture_on_commit_callbacks,
    )
    assert response.status_code == 422
    assert "the limit is" in response.content.decode()
    assert not CaseUpload.objects.exists()


def test_a_post_without_a_file_is_refused(team, client_for):
    response = client_for(team.pm).post(url(team.pilot), {})
    assert response.status_code == 422
    assert not CaseUpload.objects.exists()


def running_upload(team, state: str = "running") -> CaseUpload:
    return CaseUpload.objects.create(
        pilot=team.pilot,
        uploaded_by=team.pm,
        file_name="big.csv",
        path="/nowhere.csv",
        size=1000,
        bytes_done=400,
        state=state,
    )


def test_the_progress_polls_while_the_upload_runs(team, client_for):
    upload = running_upload(team)
    response = client_for(team.reviewer).get(detail_url(upload), headers=HTMX)
    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page and 'id="upload-progress"' in page
    assert f'hx-get="{detail_url(upload)}" hx-trigger="every 1s"' in page
    assert 'value="40"' in page


def test_the_progress_stops_polling_once_done(team, client_for):
    upload = running_upload(team, state="done")
    page = client_for(team.reviewer).get(detail_url(upload), headers=HTMX).content.decode()
    assert "hx-trigger" not in page
    assert 'value="100"' in page


def test_a_queued_upload_polls_too(team, client_for):
    upload = running_upload(team, state="queued")
    assert 'hx-trigger="every 1s"' in client_for(team.pm).get(detail_url(upload)).content.decode()


def test_problem_rows_are_a_404_when_there_are_none(team, client_for):
    upload = running_upload(team)
    assert client_for(team.pm).get(problems_url(upload)).status_code == 404


def test_uploading_requires_the_program_manager_or_admin_role(
    team, client_for, django_capture_on_commit_callbacks
):
    for name in ("owner", "reviewer", "leader"):
        response = post_file(
            client_for(team.person(name)), team.pilot, CSV, capture=django_capture_on_commit_callbacks
        )
        assert response.status_code == 403, name
    assert not CaseUpload.objects.exists()
    assert not Case.objects.exists()
    assert actions(pilot=team.pilot) == []


def test_everything_is_a_404_for_an_outsider(team, client_for, django_capture_on_commit_callbacks):
    publish(team)
    post_file(client_for(team.pm), team.pilot, CSV, capture=django_capture_on_commit_callbacks)
    upload = CaseUpload.objects.get()
    client = client_for(team.outsider)
    assert client.get(url(team.pilot)).status_code == 404
    assert client.get(detail_url(upload)).status_code == 404
    assert client.get(problems_url(upload)).status_code == 404
    assert post_file(client, team.pilot, CSV, capture=django_capture_on_commit_callbacks).status_code == 404
    assert CaseUpload.objects.count() == 1


def test_an_upload_of_another_pilot_is_a_404_under_this_one(team, client_for):
    from tests import factories

    other = factories.PilotFactory(workspace=team.workspace)
    theirs = CaseUpload.objects.create(pilot=other, uploaded_by=team.pm, file_name="t.csv", path="/x", size=1)
    assert (
        client_for(team.pm).get(reverse("upload_detail", args=[team.pilot.pk, theirs.pk])).status_code == 404
    )


def test_forged_fields_are_ignored(team, client_for, django_capture_on_commit_callbacks):
    publish(team)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(team.pm).post(
            url(team.pilot),
            {
                "file": SimpleUploadedFile("claims.csv", CSV),
                "uploaded_by": team.admin.pk,
                "state": "done",
                "pilot": 999,
            },
        )
    upload = CaseUpload.objects.get()
    assert (upload.uploaded_by, upload.pilot) == (team.pm, team.pilot)


def test_the_views_allow_only_their_methods(team, client_for):
    upload = running_upload(team)
    client = client_for(team.pm)
    assert client.put(url(team.pilot)).status_code == 405
    assert client.post(detail_url(upload)).status_code == 405
    assert client.post(problems_url(upload)).status_code == 405
