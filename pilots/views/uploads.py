"""Step 2: CSV uploads of cases — the list and the form, a run's progress and report, its problem rows."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import trigger_client_event

from pilots import access, selectors
from pilots.forms.cases import UploadForm
from pilots.htmx import swaps_part
from pilots.models import CaseUpload
from pilots.services import uploads as upload_services
from pilots.views.errors import add_errors

OUTCOMES = [
    ("created", "Created"),
    ("unchanged", "Unchanged"),
    ("updated", "Updated"),
    ("conflict", "Conflict (decided, not overwritten)"),
    ("rejected", "Rejected (no external id)"),
    ("with_problems", "With problems (stored)"),
]


@require_http_methods(["GET", "POST"])
def uploads(request: HttpRequest, pilot_id: int) -> HttpResponse:
    pilot = access.pilot_for(
        request.user, pilot_id, need="add_cases" if request.method == "POST" else "view_pilot"
    )
    form = UploadForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            upload = upload_services.start_upload(
                pilot=pilot, actor=request.user, uploaded=form.cleaned_data["file"]
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            if request.htmx:  # from the pilot page: a status line that follows the run
                upload.refresh_from_db()  # where tasks run at once (tests), it may be done already
                return _status(request, pilot, upload)
            return redirect("upload_detail", pilot_id=pilot.pk, upload_id=upload.pk)
    if request.htmx and form.errors:
        context = {"pilot": pilot, "form": form, "upload": None}
        return TemplateResponse(request, "pilots/upload_detail.html#upload-status", context, status=422)
    page = Paginator(selectors.uploads_of(pilot), 25).get_page(request.GET.get("page"))
    context = {
        "pilot": pilot,
        "workspace": pilot.workspace,
        "can": access.allowed_actions(pilot.workspace.membership, pilot),
        "form": form,
        "page": page,
        "has_standard": selectors.standards_of(pilot).exists(),
    }
    return TemplateResponse(request, "pilots/uploads.html", context, status=422 if form.errors else 200)


def _field_errors(upload: CaseUpload) -> list[dict]:
    """ "inputs.amount: invalid" → 12, as rows of field, kind and count, most frequent first."""
    rows = []
    for key, count in upload.field_errors.items():
        field, _, kind = key.rpartition(": ")
        rows.append({"field": field or key, "kind": kind, "label": kind.replace("_", " "), "count": count})
    return sorted(rows, key=lambda row: (-row["count"], row["field"]))


def _context(pilot, upload: CaseUpload) -> dict:
    running = upload.state in (CaseUpload.State.QUEUED, CaseUpload.State.RUNNING)
    return {
        "pilot": pilot,
        "workspace": pilot.workspace,
        "upload": upload,
        "running": running,
        "counts": [(key, label, upload.counts.get(key, 0)) for key, label in OUTCOMES],
        "field_errors": _field_errors(upload),
        "has_problem_rows": bool(upload.problem_rows_path),
    }


def _status(request: HttpRequest, pilot, upload: CaseUpload) -> HttpResponse:
    context = _context(pilot, upload)
    response = TemplateResponse(request, "pilots/upload_detail.html#upload-status", context)
    if not context["running"]:
        # The cases are in: the pilot page's panels that read them (readiness) refresh.
        trigger_client_event(response, "casesChanged")
    return response


@require_GET
def upload_detail(request: HttpRequest, pilot_id: int, upload_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id)
    upload = get_object_or_404(CaseUpload.objects.select_related("uploaded_by"), pk=upload_id, pilot=pilot)
    if request.htmx and request.GET.get("compact"):
        return _status(request, pilot, upload)
    context = _context(pilot, upload)
    if swaps_part(request):
        return TemplateResponse(request, "pilots/upload_detail.html#progress", context)
    return TemplateResponse(request, "pilots/upload_detail.html", context)


@require_GET
def upload_problems(request: HttpRequest, pilot_id: int, upload_id: int) -> FileResponse:
    pilot = access.pilot_for(request.user, pilot_id)
    upload = get_object_or_404(CaseUpload, pk=upload_id, pilot=pilot)
    path = Path(upload.problem_rows_path) if upload.problem_rows_path else None
    if path is None or not path.is_file():
        raise Http404("This upload has no report of problem rows.")
    # Streamed from the stored file, which was neutralised against formulas when it was written.
    name = f"{Path(upload.file_name).stem or 'upload'}-problems.csv"
    return FileResponse(path.open("rb"), as_attachment=True, filename=name, content_type="text/csv")
