"""CSV uploads of cases: stored on arrival, processed by a Celery job in batches with progress."""

import logging
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from pilots import csvio, tasks
from pilots.models import Case, CaseUpload, Pilot
from pilots.services import audit
from pilots.services.intake import BATCH_SIZE, Arrival, current_standard, ingest
from pilots.services.queue import enqueue_on_commit

log = logging.getLogger(__name__)
STALE_AFTER = timedelta(hours=2)  # a run claimed this long ago died with its worker; it may be taken again


def _human(size: int) -> str:
    return f"{size / 1024 / 1024:.0f} MB"


@transaction.atomic
def start_upload(*, pilot: Pilot, actor, uploaded) -> CaseUpload:
    """Keep the uploaded file and queue its processing. `uploaded` is a Django UploadedFile."""
    if uploaded.size > settings.UPLOAD_MAX_BYTES:
        raise ValidationError(
            {
                "file": f"The file is {_human(uploaded.size)}; the limit is "
                f"{_human(settings.UPLOAD_MAX_BYTES)}. Split it and upload the parts."
            }
        )
    if uploaded.size == 0:
        raise ValidationError({"file": "The file is empty."})
    settings.UPLOAD_DIR.mkdir(parents=True, exist_ok=True)
    path = settings.UPLOAD_DIR / f"{uuid.uuid4().hex}.csv"
    with path.open("wb") as out:
        for chunk in uploaded.chunks():
            out.write(chunk)
    upload = CaseUpload.objects.create(
        pilot=pilot,
        uploaded_by=actor,
        file_name=Path(uploaded.name).name[:255],
        path=str(path),
        size=uploaded.size,
    )
    audit.record(
        workspace=pilot.workspace,
        actor=actor,
        action="upload.started",
        obj=upload,
        pilot=pilot,
        after={"file": upload.file_name, "size": upload.size},
    )
    enqueue_on_commit(tasks.process_upload, upload.pk)
    return upload


def _claim(upload_id: int) -> bool:
    now = timezone.now()
    queued = CaseUpload.objects.filter(pk=upload_id, state=CaseUpload.State.QUEUED)
    stale = CaseUpload.objects.filter(
        pk=upload_id, state=CaseUpload.State.RUNNING, started_at__lt=now - STALE_AFTER
    )
    return bool(queued.update(state=CaseUpload.State.RUNNING, started_at=now)) or bool(
        stale.update(started_at=now)
    )


def problem_rows_path(upload: CaseUpload) -> Path:
    return Path(upload.path).with_name(f"{Path(upload.path).stem}-problems.csv")


def process_upload(*, upload_id: int) -> str:
    """Run one upload to its end. Safe twice: the claim admits one run, and the upsert is idempotent."""
    if not _claim(upload_id):
        return "not claimed"
    upload = CaseUpload.objects.select_related("pilot__workspace", "uploaded_by").get(pk=upload_id)
    pilot = upload.pilot
    standard = current_standard(pilot)  # pinned: a standard published meanwhile applies to later uploads
    counts: Counter = Counter()
    field_errors: Counter = Counter()
    problems_path = problem_rows_path(upload)
    standard_version = standard.version if standard else None
    done = 0
    try:
        with open(upload.path, "rb") as binary:
            header, delimiter, _rows = csvio.check_file(binary)
            with problems_path.open("w", newline="", encoding="utf-8") as out:
                report = csvio.writer(out)
                report.writerow(["line", "external_id", "outcome", "field", "kind", "message"])
                batch: list[Arrival] = []
                for arrival, position in csvio.read_cases(binary, header, delimiter):
                    batch.append(arrival)
                    if len(batch) >= BATCH_SIZE:
                        done += _ingest_batch(upload, standard, batch, counts, field_errors, report)
                        CaseUpload.objects.filter(pk=upload.pk).update(bytes_done=position, rows_done=done)
                        batch = []
                if batch:
                    done += _ingest_batch(upload, standard, batch, counts, field_errors, report)
    except csvio.FileRejected as rejected:
        _finish(
            upload,
            state=CaseUpload.State.FAILED,
            error=str(rejected),
            counts=counts,
            field_errors=field_errors,
        )
        return "rejected"
    except Exception:
        upload.problem_rows_path = str(problems_path)  # the rows stored before the failure are reported
        log.exception("upload failed", extra={"upload": upload.pk})
        _finish(
            upload,
            state=CaseUpload.State.FAILED,
            counts=counts,
            field_errors=field_errors,
            standard_version=standard_version,
            rows_done=done,
            error="The upload stopped on an unexpected error; the rows stored so far are kept. Upload the "
            "file again: rows already stored are recognised as unchanged.",
        )
        raise
    upload.problem_rows_path = str(problems_path)
    _finish(
        upload,
        state=CaseUpload.State.DONE,
        counts=counts,
        field_errors=field_errors,
        standard_version=standard_version,
        rows_done=done,
    )
    return "done"


def _ingest_batch(upload, standard, batch, counts, field_errors, report) -> int:
    result = ingest(
        pilot=upload.pilot,
        arrivals=batch,
        source=Case.Source.UPLOAD,
        actor=upload.uploaded_by,
        standard=standard,
        audit_event=False,
        upload_id=upload.pk,
    )
    counts.update(result.counts)
    field_errors.update(result.field_errors)
    for draft in result.with_problems:
        for path, kind, message in draft.problems:
            report.writerow(
                [
                    draft.arrival.row,
                    draft.external_id,
                    result.outcomes[draft.external_id],
                    path,
                    kind,
                    message,
                ]
            )
    for external_id in result.conflicts:
        report.writerow(
            [
                "",
                external_id,
                "conflict",
                "",
                "",
                "The case is decided; a changed upload does not overwrite it.",
            ]
        )
    for draft, reason in result.rejected:
        report.writerow([draft.arrival.row, draft.external_id, "rejected", "external_id", "missing", reason])
    return len(batch)


def _finish(
    upload: CaseUpload,
    *,
    state: str,
    counts: Counter,
    field_errors: Counter,
    error: str = "",
    standard_version: int | None = None,
    rows_done: int | None = None,
) -> None:
    fields = {
        "state": state,
        "counts": dict(counts),
        "field_errors": dict(field_errors.most_common(50)),
        "error": error,
        "finished_at": timezone.now(),
        "problem_rows_path": upload.problem_rows_path,
        "standard_version": standard_version,
    }
    if state == CaseUpload.State.DONE:
        fields["bytes_done"] = upload.size
    if rows_done is not None:
        fields["rows_done"] = rows_done
    CaseUpload.objects.filter(pk=upload.pk).update(**fields)
    audit.record(
        workspace=upload.pilot.workspace,
        actor=upload.uploaded_by,
        action=f"upload.{state}",
        obj=upload,
        pilot=upload.pilot,
        after={"file": upload.file_name, **dict(counts), "error": error},
    )
