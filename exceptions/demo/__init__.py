"""Step 3's part of `seed_demo`: routing rules, routed cases, months of reviewer decisions, a live queue.

For every demo pilot from `exception_paths` on (claims, invoices, email, underwriting): a rule table for
its domain, published by its program manager the day before its first case arrived (claims and invoices
publish a second version midway) — problem flags escalate, contradictions are rejected, the risky classes
escalate, the routine is automated with audit sampling. Its cases are routed, escalations open, and the
pilot's reviewers and workflow owner decide them over the weeks that follow; what they had not reached
when they last worked the queue still waits (some within their service level, a few overdue). Reviewers'
verdicts are shaped per rule so that the refinement job has advice to give: on each pilot, an escalating
rule whose cases are approved almost always ("consider automating") or an automating rule whose audit
samples are often overridden ("consider escalating").

Why a replay and not the backfill: `seed_demo` runs the hub's seed first, and that stores every case, so
the rules cannot be in place when the cases arrive; `route_stored_cases` would route them all at one
moment (its `now`), which reads wrong in the decision log and the queue timers. So each version routes
the cases that arrived while it was current, as intake does on arrival: the routing service
(`route_drafts`, what `exceptions.intake.process_batch` calls) over drafts rebuilt from the stored cases;
the routing fields stored as the backfill stores them; `open_escalations` (what `after_store` calls)
opens each day's escalations on the demo clock. Cases whose outcome the pilot's own system supplied get
their escalation too (they arrived undecided, the outcome came later), and their reviewer decides at the
supplied decided_at, so case and decision agree. Every decision goes through `services.queue.decide`,
hence through the hub's case-outcome service.

`generate_load` is left alone: the hub writes its cases unrouted in bulk, and routing two million stored
cases afterwards means rewriting most of those rows — not cheap enough for a load set.
"""

import random
from collections import Counter, defaultdict
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta
from unittest import mock

from django.db.models import F
from django.utils import timezone

from exceptions.access import pool_ids
from exceptions.demo.plans import PLANS, Plan, Rule
from exceptions.models import Escalation, RuleTable
from exceptions.services import queue, refinement, routing, rules
from pilots.demo import DOMAINS, PILOTS, DemoContext
from pilots.models import Case, Pilot, Stage
from pilots.services.intake import Draft

STAGES = (Stage.EXCEPTION_PATHS, Stage.FEEDBACK_LOOPS, Stage.PRODUCTION)
REVIEWER_WEIGHTS = {"reviewer": 6, "pm2": 2}  # who works the queue most; the workflow owner helps out
OWNER_WEIGHT = 1.5
FIRST_DELAY = 0.3  # a reviewer decides after this share of the service level, typically …
DELAY_SPREAD = 0.65  # … give or take (log-normal): a few decisions in a hundred come late
SAMPLE_HOURS = routing.SAMPLE_REVIEW_HOURS
LAST_WORKED_HOURS = (8, 20)  # the reviewers last worked each pilot's queue this long ago


def seed(ctx: DemoContext) -> DemoContext:
    """Rules, routed cases, decisions and suggestions (skipped when the demo pilots have rules already)."""
    pilots = _demo_pilots(ctx)
    if RuleTable.objects.filter(pilot__in=pilots.values()).exists():
        ctx.log.append("the demo pilots have routing rules already; nothing routed or decided")
        return ctx
    now = timezone.now()
    totals: Counter = Counter()
    spans = []
    with _moving_clock() as clock:
        for key, pilot in pilots.items():
            summary = _seed_pilot(ctx, key, pilot, now, clock)
            spans.append(summary.pop("span"))
            totals.update(summary)
    if pilots:
        ctx.log.append(
            f"routing rules on {len(pilots)} pilots ({totals['versions']} versions): {totals['routed']} "
            f"cases routed, {totals['escalations']} escalated or sampled; {totals['decisions']} reviewer "
            f"decisions over {min(spans)}–{max(spans)} days; {totals['waiting']} waiting "
            f"({totals['late']} past their service level); {totals['suggestions']} refinement suggestions"
        )
    return ctx


@contextmanager
def _moving_clock():
    """The demo clock (as `pilots.demo.demo_clock`), patched once and moved to each moment — patching once
    per decision would cost more than the decision. Yields `set(at)`; only for seeding."""
    moment = [timezone.now()]
    with mock.patch("django.utils.timezone.now", new=lambda: moment[0]):
        yield lambda at: moment.__setitem__(0, at)


def _demo_pilots(ctx: DemoContext) -> dict[str, Pilot]:
    """The seeded pilots from exception_paths on that have a plan and a standard, by key."""
    names = {name: key for key, name, *_rest in PILOTS}
    found = (
        Pilot.objects.filter(workspace=ctx.workspace, name__in=names, stage__in=STAGES)
        .exclude(standards=None)
        .select_related("workspace", "program_manager", "workflow_owner")
        .distinct()
        .order_by("pk")
    )
    return {names[p.name]: p for p in found if names[p.name] in PLANS}


def _seed_pilot(ctx: DemoContext, key: str, pilot: Pilot, now: datetime, clock) -> dict:
    plan = PLANS[key]
    rng = random.Random(f"demo-exceptions-{key}")
    zone = ctx.workspace.zone
    cases = list(
        Case.objects.filter(pilot=pilot)
        .order_by("received_at", "id")
        .only("id", "external_id", "inputs", "outputs", "problems", "received_at", "decided_at")
    )
    if not cases:
        return {"span": 0}
    # The first version the day before the first case arrived; later ones a share of the way through.
    start = _local(cases[0].received_at - timedelta(days=1), time(10), zone)
    span = cases[-1].received_at - start
    published = [_local(start + span * share, time(10), zone) for share, _note in plan.versions]
    for version, (at, (_share, note)) in enumerate(zip(published, plan.versions, strict=True), start=1):
        clock(at)
        rows = [
            rule.as_dict(version, pilot.workflow_owner_id) for rule in plan.rules if rule.since <= version
        ]
        rules.publish_rules(pilot=pilot, rules=rows, actor=pilot.program_manager, note=note, now=at)
        until = published[version] if version < len(published) else now
        _route(
            pilot,
            [c for c in cases if (version == 1 or c.received_at >= at) and c.received_at < until],
            clock,
        )
    decisions, waiting, late, days = _decide(ctx, key, pilot, plan, rng, now, clock)
    clock(now)
    suggestions = refinement.refresh_suggestions(pilot_id=pilot.pk, now=now)
    return {
        "versions": len(published),
        "routed": len(cases),
        "escalations": Escalation.objects.filter(pilot=pilot).count(),
        "decisions": decisions,
        "waiting": waiting,
        "late": late,
        "suggestions": len(suggestions),
        "span": days,
    }


def _local(moment: datetime, at: time, zone) -> datetime:
    return datetime.combine(moment.astimezone(zone).date(), at, tzinfo=zone).astimezone(UTC)


def _route(pilot: Pilot, cases: list[Case], clock) -> None:
    """Route the cases as intake routed them on arrival (see the module's docstring): the routing service
    over drafts rebuilt from the cases, the routing fields stored as the backfill stores them (an UPDATE per
    route and clause), and each day's escalations opened at the end of that day's arrivals."""
    drafts = [
        Draft(
            arrival=None,
            values={
                "external_id": case.external_id,
                "inputs": case.inputs,
                "outputs": case.outputs,
                "received_at": case.received_at,
            },
            problems=[(p["field"], p["kind"], p["message"]) for p in case.problems],
            case_id=case.pk,
        )
        for case in cases
    ]
    routing.route_drafts(pilot.pk, routing.current_compiled(pilot), drafts)
    routed: dict[tuple, list[int]] = defaultdict(list)
    by_day: dict[object, list[Draft]] = defaultdict(list)
    for case, draft in zip(cases, drafts, strict=True):
        values = draft.values
        routed[(values["route"], values["rule_version"], values["rule_clause"])].append(case.pk)
        by_day[case.received_at.date()].append(draft)
    for (route, version, clause), ids in routed.items():
        Case.objects.filter(pk__in=ids).update(route=route, rule_version=version, rule_clause=clause)
        if route != routing.ESCALATED:  # routing is instant, unless the pilot's system supplied decided_at
            Case.objects.filter(pk__in=ids, decided_at=None).update(decided_at=F("received_at"))
    for day in by_day.values():
        clock(day[-1].values["received_at"])
        routing.open_escalations(pilot, day, {draft.external_id: "created" for draft in day})


def _decide(ctx: DemoContext, key: str, pilot: Pilot, plan: Plan, rng: random.Random, now: datetime, clock):
    """Reviewers' decisions, each at a plausible time; what they had not reached when they last worked the
    queue waits. Per rule, exactly its share of overrides and rejections, spread at random over its cases."""
    by_name = {rule.name: rule for rule in plan.rules}
    escalations = list(
        Escalation.objects.filter(pilot=pilot).select_related("case", "rule").order_by("received_at", "id")
    )
    team = _reviewers(ctx, pilot)
    zone = pilot.workspace.zone
    last_worked = now - timedelta(hours=rng.uniform(*LAST_WORKED_HOURS))
    planned: list[tuple[Escalation, Rule, datetime | None]] = []
    late_candidate = None
    for escalation in escalations:
        rule = by_name[escalation.rule.name]
        case = escalation.case
        if escalation.reason == Escalation.Reason.ESCALATED and case.decided_at is not None:
            at = case.decided_at  # the pilot's own system recorded when the reviewer decided
        else:
            at = _decision_time(escalation, rule, rng, zone)
            if at > last_worked:
                at = None  # not reached yet: waiting in the queue
            elif escalation.due_at < now:
                late_candidate = len(planned)
        planned.append((escalation, rule, at))
    # The queue shows an overdue case and an audit sample: when no waiting case is one, the latest such
    # case is left waiting too.
    waiting = [e for e, _rule, at in planned if at is None]
    samples = [i for i, (e, _r, at) in enumerate(planned) if at and e.reason == Escalation.Reason.SAMPLED]
    if late_candidate is not None and not any(e.due_at < now for e in waiting):
        planned[late_candidate] = (*planned[late_candidate][:2], None)
    if samples and not any(e.reason == Escalation.Reason.SAMPLED for e in waiting):
        planned[samples[-1]] = (*planned[samples[-1]][:2], None)
    verdicts = _verdicts(planned, rng)
    outputs = {f["name"]: f for f in DOMAINS[key].outputs}
    decided = []
    for escalation, rule, at in planned:
        if at is None:
            continue
        outcome = verdicts[escalation.pk]
        reviewer = pilot.workflow_owner if escalation.reviewer_id else rng.choices(*team)[0]
        corrected = {}
        if outcome == "override":
            field = outputs[rule.corrects]
            value = rng.choice(
                [v for v in field["allowed"] if v != escalation.case.outputs.get(field["name"])]
            )
            corrected = {field["name"]: value}
            text = rng.choice(plan.override[field["name"]]).format(value=value)
        else:
            text = rng.choice(getattr(plan, outcome))
        clock(at)
        queue.decide(
            escalation_id=escalation.pk,
            reviewer=reviewer,
            outcome=outcome,
            rationale=text,
            corrected_outputs=corrected,
            now=at,
        )
        decided.append(at)
    waiting = [e for e, _rule, at in planned if at is None]
    late = sum(e.due_at < now for e in waiting)
    days = (max(decided) - min(decided)).days if decided else 0
    return len(decided), len(waiting), late, days


def _verdicts(planned: list, rng: random.Random) -> dict[int, str]:
    """Per rule, exactly its share of overrides and rejections among the decided cases, at random."""
    by_rule: dict[str, list[Escalation]] = defaultdict(list)
    rules_by_name = {}
    for escalation, rule, at in planned:
        if at is not None:
            by_rule[rule.name].append(escalation)
            rules_by_name[rule.name] = rule
    verdicts = {}
    for name, escalations in by_rule.items():
        rule = rules_by_name[name]
        rng.shuffle(escalations)
        overrides, rejects = round(len(escalations) * rule.override), round(len(escalations) * rule.reject)
        for n, escalation in enumerate(escalations):
            if n < overrides or (n < overrides + rejects and escalation.reason == Escalation.Reason.SAMPLED):
                verdicts[escalation.pk] = "override"  # an audit sample is corrected, not turned down
            elif n < overrides + rejects:
                verdicts[escalation.pk] = "reject"
            else:
                verdicts[escalation.pk] = "approve"
    return verdicts


def _reviewers(ctx: DemoContext, pilot: Pilot) -> tuple[list, list[float]]:
    """Who decides the pilot's cases (its reviewer pool and its workflow owner), and how often."""
    pool = pool_ids(pilot)
    people = [(user, REVIEWER_WEIGHTS.get(name, 1)) for name, user in ctx.people.items() if user.pk in pool]
    people.append((pilot.workflow_owner, OWNER_WEIGHT))
    return [user for user, _w in people], [weight for _u, weight in people]


def _decision_time(escalation: Escalation, rule: Rule, rng: random.Random, zone) -> datetime:
    """A while into the service level, in the working day (the queue is staffed on a rota, weekends too)."""
    hours = rule.hours or SAMPLE_HOURS
    delay = timedelta(hours=hours * FIRST_DELAY * rng.lognormvariate(0, DELAY_SPREAD))
    at = (escalation.received_at + delay).astimezone(zone)
    if not 8 <= at.hour < 19:  # overnight: first thing the next morning
        day = at.date() + timedelta(days=1 if at.hour >= 8 else 0)
        at = datetime.combine(day, time(8), tzinfo=zone) + timedelta(minutes=rng.randint(0, 150))
    return max(at.astimezone(UTC), escalation.received_at + timedelta(minutes=5))
