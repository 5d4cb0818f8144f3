"""CSV intake: streamed reading, whole-file refusals, row-level problems, reports, re-uploads."""

import csv
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from pilots import csvio
from pilots.models import AuditEvent, Case, CaseUpload
from pilots.services import standards, uploads

SPEC = {
    "inputs": [
        {"name": "amount", "type": "number", "required": True, "min": 0},
        {"name": "channel", "type": "enum", "allowed": ["web", "phone"], "required": True},
        {"name": "note", "type": "string"},
    ],
    "outputs": [{"name": "category", "type": "enum", "allowed": ["glass", "theft"]}],
}


@pytest.fixture
def pilot(team, settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    standards.publish_standard(pilot=team.pilot, actor=team.pm, spec=SPEC)
    return team.pilot


def upload(team, content: bytes, name="cases.csv", capture=None):
    file = SimpleUploadedFile(name, content, content_type="text/csv")
    record = uploads.start_upload(pilot=team.pilot, actor=team.pm, uploaded=file)
    uploads.process_upload(upload_id=record.pk)
    record.refresh_from_db()
    return record


GOOD = (
    "external_id,amount,channel,note,output.category\n"
    "c1,10,web,hello,glass\n"
    "c2,-5,web,,glass\n"
    "c3,7,fax,,theft\n"
    "c4,3,phone,=cmd|' /C calc'!A0,glass\n"
)


def test_an_upload_stores_every_row_and_reports_the_problems(team, pilot):
    record = upload(team, GOOD.encode())
    assert record.state == "done" and record.percent == 100
    assert record.counts == {"created": 4, "with_problems": 2}
    assert record.field_errors == {"inputs.amount: invalid": 1, "inputs.channel: invalid": 1}
    assert Case.objects.filter(pilot=pilot, source="upload").count() == 4
    assert Case.objects.get(external_id="c1").outputs == {"category": "glass"}
    with open(record.problem_rows_path, newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["line", "external_id", "outcome", "field", "kind", "message"]
    assert {(r[1], r[3]) for r in rows[1:]} == {("c2", "inputs.amount"), ("c3", "inputs.channel")}
    assert AuditEvent.objects.filter(action="upload.done").count() == 1


def test_uploading_the_same_file_twice_creates_no_duplicates(team, pilot):
    upload(team, GOOD.encode())
    again = upload(team, GOOD.encode())
    assert again.counts == {"unchanged": 4, "with_problems": 2}
    assert Case.objects.count() == 4


def test_bom_and_semicolons_are_read(team, pilot):
    content = "\ufeffexternal_id;amount;channel\nx1;1,5;web\nx2;2;phone\n".encode()
    record = upload(team, content)
    assert record.counts["created"] == 2
    assert Case.objects.get(external_id="x2").inputs["amount"] == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("external_id,amount\nc1,5\nc2,\xe9t\xe9\n".encode("latin-1"), "is not UTF-8 text"),
        (b"amount,channel\n1,web\n", "no external_id column"),
        (b"external_id,amount,amount\nc1,1,2\n", "names these columns twice: amount"),
        (b"\x00\x01\x02binary", "not a CSV text file"),
    ],
)
def test_a_structurally_broken_file_is_rejected_whole(team, pilot, content, message):
    record = upload(team, content)
    assert record.state == "failed"
    assert message in record.error
    assert Case.objects.count() == 0


def test_ragged_rows_become_problems_of_their_cases(team, pilot):
    record = upload(team, b"external_id,amount,channel\nc1,1,web,extra\nc2,2\n")
    assert record.counts["created"] == 2
    problems = {c.external_id: c.problems for c in Case.objects.all()}
    assert "has 4 cells" in problems["c1"][0]["message"]
    assert {p["field"] for p in problems["c2"]} == {"row", "inputs.channel"}


def test_a_file_over_the_limit_is_refused_before_it_is_stored(team, pilot, settings):
    from django.core.exceptions import ValidationError

    settings.UPLOAD_MAX_BYTES = 10
    with pytest.raises(ValidationError, match="the limit is"):
        uploads.start_upload(
            pilot=pilot, actor=team.pm, uploaded=SimpleUploadedFile("big.csv", GOOD.encode())
        )
    assert not CaseUpload.objects.exists()


def test_processing_twice_is_harmless(team, pilot):
    record = upload(team, GOOD.encode())
    assert uploads.process_upload(upload_id=record.pk) == "not claimed"
    assert Case.objects.count() == 4


def test_the_standard_in_force_when_the_upload_starts_applies_to_the_whole_file(team, pilot):
    record = upload(team, GOOD.encode())
    assert record.standard_version == 1
    assert set(Case.objects.values_list("standard_version", flat=True)) == {1}


def test_csvs_we_write_neutralise_formulas():
    out = io.StringIO()
    csvio.writer(out).writerow(["=SUM(A1)", "+1", "-2", "@x", "plain", 5])
    assert out.getvalue().strip() == "'=SUM(A1),'+1,'-2,'@x,plain,5"


def test_reading_streams_without_loading_the_file(tmp_path):
    path = Path(tmp_path / "big.csv")
    with path.open("w") as handle:
        handle.write("external_id,amount\n")
        for i in range(20000):
            handle.write(f"c{i},{i}\n")
    with path.open("rb") as binary:
        header, delimiter, rows = csvio.check_file(binary)
        assert (header, delimiter, rows) == (["external_id", "amount"], ",", 20000)
        reader = csvio.read_cases(binary, header, delimiter)
        first, position = next(reader)
        assert first.external_id == "c0" and position < path.stat().st_size
        assert sum(1 for _ in reader) == 19999


def test_each_case_names_the_upload_that_wrote_it_and_the_list_filters_by_it(team, pilot):
    from pilots import selectors

    first = upload(team, GOOD.encode())
    second = upload(team, b"external_id,amount,channel\nc9,1,web\nc1,11,web\n")
    assert set(Case.objects.filter(upload=first).values_list("external_id", flat=True)) == {"c2", "c3", "c4"}
    assert set(Case.objects.filter(upload=second).values_list("external_id", flat=True)) == {"c1", "c9"}
    listed = selectors.case_list(pilot, selectors.CaseFilters(upload=str(second.pk)))
    assert {c.external_id for c in listed} == {"c1", "c9"}


def test_the_case_list_filters_by_decision_day_in_the_workspace_zone(team, pilot):
    from pilots import selectors
    from pilots.services import intake

    rows = []
    for external_id, decided in (("a", "2026-03-01T22:30:00+00:00"), ("b", "2026-03-01T23:30:00+00:00")):
        row = intake.Arrival(external_id=external_id, inputs={"amount": 1, "channel": "web"})
        row.outcome = {"decided_at": decided}
        rows.append(row)
    intake.ingest(pilot=pilot, arrivals=rows, source="api", actor=team.pm)
    # Europe/Berlin: a is decided on Sunday 1 March 23:30 local, b on Monday 2 March 00:30 local.
    sunday = selectors.case_list(
        pilot, selectors.CaseFilters(decided_from="2026-03-01", decided_to="2026-03-01")
    )
    assert [c.external_id for c in sunday] == ["a"]
