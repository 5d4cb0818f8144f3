"""Step 3's rule pages: the current decision table with its evidence, the editor that publishes the next
version, a published version, the backfill of stored cases, the refinement suggestions, and the step's
panel on the pilot page.

Writes answer a plain post with a redirect to the rules page and a message; htmx gets the refreshed
fragment, and the event `rulesPublished` when a new version was published (the table and the version
history reload themselves on it)."""

from dataclasses import dataclass
from datetime import timedelta

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from exceptions import selectors, tasks
from exceptions.forms import CLAUSE_PREFIX, STARTER, ClauseDraft, RulesEditor, clause_widget, fitting_op
from exceptions.models import Decision, Escalation, RuleTable, Suggestion
from exceptions.rules import RuleTableError, condition_text, fields_of
from exceptions.services import refinement, routing
from exceptions.services import rules as rule_services
from exceptions.services.refinement import RuleStats, SuggestionRefused
from pilots import access
from pilots.htmx import swaps_part
from pilots.models import Case, InputStandard, Pilot
from pilots.services.intake import current_standard
from pilots.services.queue import enqueue_on_commit

EVENT = "rulesPublished"
# Fragments of the rules page an htmx request may ask for by its target.
PARTIALS = ("rules-current", "rule-history", "suggestions", "backfill")
PANEL_DAYS = 30


@dataclass
class RuleView:
    rule: object  # RoutingRule
    stats: RuleStats | None

    @property
    def condition(self) -> str:
        return condition_text(self.rule.clauses)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def stale_fields(table: RuleTable | None, standard: InputStandard | None) -> list[str]:
    """Fields the table's clauses name that the pilot's current standard, newer than the one the table
    was written against, no longer declares."""
    if table is None or standard is None or (table.standard_version or 0) >= standard.version:
        return []
    declared = fields_of(standard.spec())
    named = {clause["field"] for rule in table.rules.all() for clause in rule.clauses}
    return sorted(named - declared.keys())


def _rules_context(pilot: Pilot, **extra) -> dict:
    table = selectors.current_table(pilot)
    standard = current_standard(pilot)
    stats = {entry.rule.pk: entry for entry in refinement.rule_stats(pilot)} if table else {}
    suggestions = Suggestion.objects.filter(pilot=pilot, state=Suggestion.State.OPEN).select_related("rule")
    context = {
        "pilot": pilot,
        "workspace": pilot.workspace,
        "can": access.allowed_actions(pilot.workspace.membership, pilot),
        "table": table,
        "standard": standard,
        "rows": [RuleView(rule, stats.get(rule.pk)) for rule in table.rules.all()] if table else [],
        "window_days": refinement.WINDOW_DAYS,
        "stale_fields": stale_fields(table, standard),
        "suggestions": [(s, refinement.suggestion_text(s)) for s in suggestions],
        "versions": selectors.rule_tables_of(pilot),
        "unrouted": routing.unrouted_count(pilot) if table else 0,
    }
    return context | extra


def _rules_page(request: HttpRequest, pilot: Pilot, *, partial: str = "", event: str = "", **extra):
    context = _rules_context(pilot, **extra)
    if partial:
        response = TemplateResponse(request, f"exceptions/rules.html#{partial}", context)
        return trigger_client_event(response, event) if event else response
    return TemplateResponse(request, "exceptions/rules.html", context)


def _done(
    request: HttpRequest, pilot: Pilot, partial: str, message: str, *, ok: bool = True, event: str = ""
) -> HttpResponse:
    """After a write: htmx gets its fragment with the message; a plain post goes back to the rules."""
    if request.htmx:
        return _rules_page(
            request, pilot, partial=partial, event=event, message=message, message_ok=ok, message_for=partial
        )
    (messages.success if ok else messages.error)(request, message)
    return redirect("rules", pilot_id=pilot.pk)


@require_GET
def rules(request: HttpRequest, pilot_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id)
    target = request.htmx.target if request.htmx else None
    return _rules_page(request, pilot, partial=target if target in PARTIALS else "")


# --- the editor ---


def _editor_page(
    request: HttpRequest,
    pilot: Pilot,
    editor: RulesEditor | None,
    *,
    standard,
    table,
    status: int = 200,
    starter: bool = False,
) -> HttpResponse:
    context = {
        "pilot": pilot,
        "workspace": pilot.workspace,
        "standard": standard,
        "table": table,
        "editor": editor,
        "rows": editor.rows() if editor else [],
        "next_version": (table.version + 1) if table else 1,
        "stale_fields": stale_fields(table, standard),
        "starter": starter,
    }
    if swaps_part(request) and editor is not None:
        return TemplateResponse(request, "exceptions/rules_edit.html#editor", context, status=status)
    return TemplateResponse(request, "exceptions/rules_edit.html", context, status=status)


@require_http_methods(["GET", "POST"])
def rules_edit(request: HttpRequest, pilot_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id, need="edit_rules")
    standard = current_standard(pilot)
    table = selectors.current_table(pilot)
    if standard is None:
        # Rules name the standard's fields: there is nothing to write them against yet.
        return _editor_page(
            request, pilot, None, standard=None, table=table, status=422 if request.method == "POST" else 200
        )
    options = {"fields": fields_of(standard.spec()), "reviewers": rule_services.reviewer_choices(pilot)}
    if request.method == "GET":
        start = rule_services.table_as_rules(table) if table else STARTER
        editor = RulesEditor.from_rules(start, **options)
        return _editor_page(request, pilot, editor, standard=standard, table=table, starter=table is None)
    editor = RulesEditor.from_post(request.POST, **options)
    edit = request.POST.get("edit", "")
    if edit:
        # An edit button (add, remove, move): the draft comes back changed, nothing is published.
        editor.apply_edit(edit)
        return _editor_page(request, pilot, editor, standard=standard, table=table)
    table_rules = editor.rules_to_publish()
    if not editor.error_count():
        try:
            published = rule_services.publish_rules(
                pilot=pilot, rules=table_rules, actor=request.user, note=editor.note
            )
        except RuleTableError as error:
            editor.add_errors(error.errors)
        else:
            version = published.table.version
            if published.unchanged:
                messages.info(request, f"No change: version {version} stands.")
            else:
                messages.success(request, f"Published version {version}.")
            if request.htmx:
                return HttpResponseClientRedirect(reverse("rules", args=[pilot.pk]))
            return redirect("rules", pilot_id=pilot.pk)
    return _editor_page(request, pilot, editor, standard=standard, table=table, status=422)


@require_GET
def rules_clause(request: HttpRequest, pilot_id: int) -> HttpResponse:
    """One clause's operator select and value input for the field chosen (htmx, on changing the field or
    the operator): only the operators that fit the field's type, a select for an enum's values."""
    pilot = access.pilot_for(request.user, pilot_id, need="edit_rules")
    prefix = request.GET.get("prefix", "")
    if not CLAUSE_PREFIX.fullmatch(prefix):
        return HttpResponseBadRequest("Name the clause: prefix=rule-<i>-clause-<j>.")
    standard = current_standard(pilot)
    fields = fields_of(standard.spec() if standard else None)
    clause = ClauseDraft(
        field=request.GET.get(f"{prefix}-field", "").strip(),
        op=request.GET.get(f"{prefix}-op", "").strip(),
        value=request.GET.get(f"{prefix}-value", "")[:2000],
    )
    clause.op = fitting_op(clause, fields)
    context = {"pilot": pilot, "c": clause_widget(prefix, clause, fields)}
    return TemplateResponse(request, "exceptions/rules_edit.html#clause-widget", context)


@require_GET
def rules_version(request: HttpRequest, pilot_id: int, version: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id)
    shown = get_object_or_404(RuleTable.objects.select_related("published_by"), pilot=pilot, version=version)
    routed = dict(
        Case.objects.filter(pilot=pilot, rule_version=version)
        .values_list("rule_clause")
        .annotate(n=Count("id"))
        .order_by()
    )
    rules = list(shown.rules.select_related("reviewer").order_by("position"))
    latest = RuleTable.objects.filter(pilot=pilot).order_by("-version").values_list("version", flat=True)[:1]
    context = {
        "pilot": pilot,
        "workspace": pilot.workspace,
        "shown": shown,
        "latest": next(iter(latest), None),
        "rows": [(rule, condition_text(rule.clauses), routed.get(rule.label, 0)) for rule in rules],
        "routed": sum(routed.values()),
    }
    return TemplateResponse(request, "exceptions/rules_version.html", context)


# --- the backfill and the suggestions ---


@require_POST
def route_stored(request: HttpRequest, pilot_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id, need="edit_rules")
    version = RuleTable.objects.filter(pilot=pilot).order_by("-version").values_list("version", flat=True)
    version = next(iter(version[:1]), None)
    if version is None:
        return _done(
            request, pilot, "backfill", "Publish rules first: they decide each case's route.", ok=False
        )
    count = routing.unrouted_count(pilot)
    if not count:
        # Return early: a repeated click finds nothing left to route and enqueues nothing.
        return _done(request, pilot, "backfill", "Every stored case has a route already.")
    enqueue_on_commit(tasks.route_stored_cases, pilot.pk, request.user.pk)
    message = f"Routing {_plural(count, 'stored case')} with version {version} in the background."
    return _done(request, pilot, "backfill", message)


@require_POST
def suggestions_refresh(request: HttpRequest, pilot_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id, need="edit_rules")
    # A handful of queries: run it now rather than make the program manager wait for a worker.
    found = refinement.refresh_suggestions(pilot_id=pilot.pk)
    message = f"Suggestions refreshed from the last {refinement.WINDOW_DAYS} days' decisions: "
    message += f"{_plural(len(found), 'open suggestion')}."
    return _done(request, pilot, "suggestions", message)


def _suggestion(pilot: Pilot, suggestion_id: int) -> Suggestion:
    """The suggestion, only among this pilot's: another pilot's is a 404, even in the same workspace."""
    return get_object_or_404(Suggestion.objects.select_related("rule"), pk=suggestion_id, pilot=pilot)


@require_POST
def suggestion_apply(request: HttpRequest, pilot_id: int, suggestion_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id, need="edit_rules")
    suggestion = _suggestion(pilot, suggestion_id)
    try:
        table = refinement.apply_suggestion(suggestion_id=suggestion.pk, actor=request.user)
    except SuggestionRefused as refused:
        return _done(request, pilot, "suggestions", str(refused), ok=False)
    except RuleTableError as error:
        # The table no longer fits the current standard: the editor shows where.
        text = " ".join(error.errors.values())
        message = f"Not applied: the rules no longer fit the input standard ({text}). Edit the rules."
        return _done(request, pilot, "suggestions", message, ok=False)
    return _done(request, pilot, "suggestions", f"Published version {table.version}.", event=EVENT)


@require_POST
def suggestion_dismiss(request: HttpRequest, pilot_id: int, suggestion_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id, need="edit_rules")
    suggestion = _suggestion(pilot, suggestion_id)
    try:
        refinement.dismiss_suggestion(suggestion_id=suggestion.pk, actor=request.user)
    except SuggestionRefused as refused:
        return _done(request, pilot, "suggestions", str(refused), ok=False)
    return _done(
        request, pilot, "suggestions", "Suggestion dismissed: it is not offered again for this rule."
    )


# --- the pilot page's panel ---


@require_GET
def exceptions_panel(request: HttpRequest, pilot_id: int) -> HttpResponse:
    """Step 3 on the pilot page (loaded by htmx once the page is shown): the rules in force, the
    escalations waiting, recent decisions and open suggestions — a fixed number of queries."""
    pilot = access.pilot_for(request.user, pilot_id)
    now = timezone.now()
    since = now - timedelta(days=PANEL_DAYS)
    table = (
        RuleTable.objects.filter(pilot=pilot).annotate(rule_count=Count("rules")).order_by("-version").first()
    )
    context = {
        "pilot": pilot,
        "can": access.allowed_actions(pilot.workspace.membership, pilot),
        "table": table,
        "days": PANEL_DAYS,
    }
    if table is not None:
        context["escalations"] = Escalation.objects.filter(pilot=pilot, decided_at=None).aggregate(
            waiting=Count("id"), late=Count("id", filter=Q(due_at__lt=now))
        )
        context["reviewed"] = Decision.objects.filter(pilot=pilot, decided_at__gte=since).count()
        context["routed"] = Case.objects.filter(pilot=pilot, received_at__gte=since).exclude(route="").count()
        context["open_suggestions"] = Suggestion.objects.filter(
            pilot=pilot, state=Suggestion.State.OPEN
        ).count()
    return TemplateResponse(request, "exceptions/_panel.html#panel", context)
