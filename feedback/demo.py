"""Step 4's part of `seed_demo`: corrections with their reasons, where they were incorporated, and three
honest learning stories — what `feedback.learning.verdict` finds once the seed is done:

- claims (in production): **improving** across its three AI versions — each version's 95% interval of the
  correction rate lies wholly below the one before, on hundreds of decided cases per version;
- invoices (at feedback loops): **flat** — its last two versions' intervals overlap — at or under the 15%
  its program manager accepts (every invoice passes the three-way match, which catches a wrong GL account);
- kyc (just started): **not enough data** — the onboarding team has only begun exporting decided checks.

Why cases are added. The hub's seed gives each AI version 100–170 decided cases, and the reviewers' overrides
of step 3 fall on every version alike, so the intervals overlap — and which way they lean changes with the
day the seed runs (the demo clock is today). So each story's pilot receives, through the hub's intake like
any other feed, decided cases of its own system with their outcome (decided_at and ai_version; the
corrections themselves are recorded here, on the cases, with a reason). Each version's added cases carry
that version's own correction rate (`Feed.rates`); only their number adapts to the hub's cases: added in
steps until the intervals are a point apart (improving) or overlap by a point (flat). The thin pilot gets a
fixed handful, fewer than `learning.MIN_CASES`. Added cases are routed like every arrival; the audit
samples among them are reviewed within their service level, and an audit reviewer's override is the
case's correction.

Then: override-born corrections (reason "other") are mostly classified; older corrections are mostly
incorporated — into the AI version released after them, a few into the rule table or standard version
published after them, others into the regression set (weekly, on Fridays) — leaving a backlog with ages.
The regression set is not exported. Everything runs through the services on a demo clock.
"""

import random
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from unittest import mock

from django.utils import timezone

from exceptions.access import pool_ids
from exceptions.models import Escalation, RoutingRule, RuleTable
from exceptions.services import queue
from exceptions.stats import wilson_interval
from feedback import learning
from feedback.models import DEFAULT_REASONS, OVERRIDE_REASON, Correction, Target
from feedback.services import corrections as correction_services
from feedback.services import incorporation, taxonomy
from pilots.demo import DOMAINS, PILOTS, DemoContext, as_text, make_record
from pilots.models import AIVersion, Case, InputStandard, Pilot
from pilots.services import standards as standard_services
from pilots.services.intake import Arrival, ingest

LEARNING, FLAT, THIN = "claims", "invoices", "kyc"
STEP = 30  # cases added per version at a time, until the story is clear
MAX_ADDED = 1500  # per pilot
MARGIN = 0.01  # "clearly": intervals a point apart (improving), or overlapping by a point (flat)
ACCEPTABLE = {FLAT: 0.15}
THIN_CASES = 22  # fewer than learning.MIN_CASES, spread over …
THIN_DAYS = 16  # … the last days
BATCH_DAYS = 2  # the pilot's system sends its decided cases every other day
SERIAL = 900_000  # added cases' numbers start here (the hub's stay far below)
COST_PER_TOUCH = Decimal("14.50")
CUSTOM_REASON = {LEARNING: "Cover misread"}  # a reason the program manager added to the defaults
# Of the corrections older than this, the share incorporated (the rest is the old backlog).
OLD = timedelta(days=30)
INCORPORATED = {LEARNING: 0.9, FLAT: 0.7}  # others: DEFAULT_INCORPORATED
DEFAULT_INCORPORATED = 0.5
RECENT_INCORPORATED = 0.5  # of the younger ones, where a target came after them
LEAD = timedelta(days=2)  # a correction goes into a version released at least this long after it
INTO_RULES, INTO_STANDARD = 4, 3  # at most this many per pilot go into rules / a standard version
CLASSIFIED = 0.8  # share of override-born corrections (older than two days) given their real reason


@dataclass(frozen=True)
class Feed:
    """Decided cases a pilot's own system sends with their outcome, and how people correct them."""

    rates: tuple[float, ...]  # share of the added cases corrected, by AI version (oldest first)
    cycle_hours: tuple[float, ...]  # median hours from arrival to decision, by AI version
    problems: float  # share of the added cases with an input problem
    corrects: tuple[tuple[str, float], ...]  # the AI outputs people correct, and how often
    source: str = "api"


FEEDS = {
    LEARNING: Feed((0.28, 0.12, 0.015), (30, 16, 9), 0.06, (("category", 0.7), ("urgency", 0.3))),
    FLAT: Feed((0.2, 0.11, 0.11), (40, 28, 24), 0.08, (("gl_account", 1.0),)),
    THIN: Feed((0.15, 0.12), (20, 12), 0.1, (("verdict", 1.0),), source="upload"),
}
# Why people corrected the AI, by the AI version's place (oldest first; the last holds on). "custom": the
# pilot's own reason, where it added one.
REASONS = (
    {"wrong_extraction": 5, "missing_context": 3, "input_defect": 2, "other": 1},
    {"missing_context": 4, "policy_changed": 3, "wrong_extraction": 2, "input_defect": 2, "custom": 2},
    {"input_defect": 4, "policy_changed": 2, "missing_context": 2, "wrong_extraction": 1, "custom": 2},
)
NOTES = {
    "wrong_extraction": ("Read the file again: {field} is {value}.", "The AI misread the form; {value}."),
    "missing_context": (
        "The customer's earlier call, which the AI cannot see, makes it {value}.",
        "Known history with this customer: {value}.",
    ),
    "policy_changed": (
        "Since this month's guideline change it is {value}.",
        "New policy from the business: {value}.",
    ),
    "input_defect": ("The upload garbled the values; from the original it is {value}.",),
    "custom": ("The cover terms were misread: {value}.",),
    "other": ("Changed to {value} after a call.",),
}


def seed(ctx: DemoContext) -> DemoContext:
    """Stories, corrections and incorporation (skipped when the demo pilots have direct corrections)."""
    pilots = _demo_pilots(ctx)
    if not pilots:
        return ctx
    if Correction.objects.filter(pilot__in=pilots.values(), decision=None).exists():
        ctx.log.append("the demo pilots have corrections already; no case added, nothing incorporated")
        return ctx
    now = timezone.now()
    totals: Counter = Counter()
    with _moving_clock() as clock:
        for key, pilot in pilots.items():
            if key in FEEDS and pilot.standards.exists() and len(_versions(pilot)) >= len(FEEDS[key].rates):
                totals.update(_story(ctx, key, pilot, now, clock))
        for key, pilot in pilots.items():
            totals.update(_classify(pilot, random.Random(f"demo-feedback-classify-{key}"), now, clock))
            totals.update(_incorporate(key, pilot, random.Random(f"demo-feedback-into-{key}"), now, clock))
        for key, rate in ACCEPTABLE.items():
            if key in pilots:
                clock(now - timedelta(days=12))
                standard_services.set_acceptable_correction_rate(
                    pilot=pilots[key], actor=pilots[key].program_manager, rate=rate
                )
    verdicts = ", ".join(
        f"{key} {learning.verdict(pilots[key]).label.lower()}" for key in FEEDS if key in pilots
    )
    ctx.log.append(
        f"feedback: {totals['added']} decided cases from the pilots' own systems; {totals['direct']} "
        f"corrections recorded on cases, {totals['reviewed']} audit samples reviewed, {totals['classified']} "
        f"override corrections classified; {totals['incorporated']} incorporated "
        f"({totals[Target.AI_VERSION]} into AI versions, {totals[Target.REGRESSION_SET]} into regression "
        f"sets, {totals[Target.RULES]} into rules, {totals[Target.STANDARD]} into standards); "
        f"learning: {verdicts}"
    )
    return ctx


@contextmanager
def _moving_clock():
    """The demo clock, patched once and moved to each moment (as step 3's demo does); only for seeding."""
    moment = [timezone.now()]
    with mock.patch("django.utils.timezone.now", new=lambda: moment[0]):
        yield lambda at: moment.__setitem__(0, at)


def _demo_pilots(ctx: DemoContext) -> dict[str, Pilot]:
    names = {name: key for key, name, *_rest in PILOTS}
    found = Pilot.objects.filter(workspace=ctx.workspace, name__in=names).select_related(
        "workspace", "program_manager", "workflow_owner"
    )
    return {names[p.name]: p for p in sorted(found, key=lambda p: p.pk)}


def _versions(pilot: Pilot) -> list[AIVersion]:
    return list(AIVersion.objects.filter(pilot=pilot).order_by("released_on", "id"))


def _local(day: date, at: time, zone) -> datetime:
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


# ---------------------------------------------------------------------------------------------------
# The stories: how many decided cases each version needs, then the cases, their reviews and corrections.


def _with(counts: list[tuple[int, int]], added: list[int], rates: tuple[float, ...], i: int):
    """(corrected, decided) of version i once `added[i]` cases at its rate have arrived."""
    decided, corrected = counts[i]
    return corrected + round(rates[i] * added[i]), decided + added[i]


def _learning_volumes(counts: list[tuple[int, int]], rates: tuple[float, ...]) -> list[int]:
    """Cases to add per version so that each version's interval lies a point below the one before. Each
    step adds to the side of the first unclear pair that widens its gap most."""
    added = [0] * len(counts)

    def gap(trial: list[int], i: int) -> float:
        return (
            wilson_interval(*_with(counts, trial, rates, i - 1))[0]
            - wilson_interval(*_with(counts, trial, rates, i))[1]
        )

    while sum(added) < MAX_ADDED:
        unclear = [i for i in range(1, len(counts)) if gap(added, i) < MARGIN]
        if not unclear:
            break
        i = unclear[0]
        options = []
        for j in (i, i - 1):
            trial = added.copy()
            trial[j] += STEP
            options.append((gap(trial, i), trial))
        added = max(options, key=lambda option: option[0])[1]
    return added


def _flat_volumes(counts: list[tuple[int, int]], rates: tuple[float, ...], acceptable: float) -> list[int]:
    """Cases to add to the last two versions (at the same rate) until their intervals overlap by a point
    and the latest rate is under the acceptable one."""
    added = [0] * len(counts)
    a, b = len(counts) - 2, len(counts) - 1
    while sum(added) < MAX_ADDED:
        (e_low, e_high), (l_low, l_high) = (wilson_interval(*_with(counts, added, rates, i)) for i in (a, b))
        hits, n = _with(counts, added, rates, b)
        if l_high - e_low >= MARGIN and e_high - l_low >= MARGIN and n and hits / n <= acceptable - MARGIN:
            break
        added[a] += STEP
        added[b] += STEP
    return added


def _story(ctx: DemoContext, key: str, pilot: Pilot, now: datetime, clock) -> Counter:
    feed, domain = FEEDS[key], DOMAINS[key]
    rng = random.Random(f"demo-feedback-{key}")
    zone = pilot.workspace.zone
    versions = _versions(pilot)[-len(feed.rates) :]
    rates = learning.by_version(pilot)[-len(feed.rates) :]
    counts = [(r.decided, r.corrected) for r in rates]
    first = (
        Case.objects.filter(pilot=pilot).order_by("received_at").values_list("received_at", flat=True).first()
    )
    start = first if key != THIN and first else now - timedelta(days=THIN_DAYS)
    starts = [max(_local(v.released_on + timedelta(days=1), time(0), zone), start) for v in versions]
    ends = [_local(v.released_on, time(0), zone) for v in versions[1:]] + [now - timedelta(days=1)]
    if key == LEARNING:
        added = _learning_volumes(counts, feed.rates)
    elif key == FLAT:
        added = _flat_volumes(counts, feed.rates, ACCEPTABLE[key])
    else:  # a handful, spread over the versions by how long each has been out in the window
        spans = [max((end - begin).total_seconds(), 0) for begin, end in zip(starts, ends, strict=True)]
        added = [round(THIN_CASES * s / sum(spans)) for s in spans]
    standards = list(InputStandard.objects.filter(pilot=pilot).order_by("version"))
    if key == LEARNING:
        clock(_local(versions[1].released_on, time(9), zone))
        taxonomy.add_reason(pilot=pilot, label=CUSTOM_REASON[key], actor=pilot.program_manager)
    records = []
    for i, (version, count, begin, end) in enumerate(zip(versions, added, starts, ends, strict=True)):
        for _n in range(count if end > begin else 0):
            records.append(
                _record(rng, domain, feed, i, version, begin, end, standards, zone, now, len(records))
            )
    batches: dict[tuple[int, int], list[dict]] = defaultdict(list)
    for record in records:  # every other day, the system sends what was decided since its last batch
        day = record["decided_at"].astimezone(zone).date().toordinal() // BATCH_DAYS
        batches[(day, record["standard"].pk)].append(record)
    for batch in batches.values():
        batch_at = min(max(r["decided_at"] for r in batch) + timedelta(minutes=30), now)
        clock(batch_at)
        for record in batch:
            record["arrived_at"] = batch_at
        ingest(
            pilot=pilot,
            arrivals=[_arrival(record, feed.source, row) for row, record in enumerate(batch, 2)],
            source=feed.source,
            actor=pilot.program_manager,
            standard=batch[0]["standard"],
        )
    done = _review_and_correct(ctx, key, pilot, records, rng, now, clock)
    return Counter(added=len(records), **done)


def _record(rng, domain, feed: Feed, i: int, version, begin, end, standards, zone, now, n: int) -> dict:
    at = begin + (end - begin) * rng.random() ** 0.8  # volume grows over time
    local = at.astimezone(zone).replace(hour=rng.randint(7, 18), minute=rng.randint(0, 59))
    if local.weekday() >= 5 and rng.random() < 0.85:
        local -= timedelta(days=local.weekday() - 4)  # most weekend arrivals are really Friday's
    at = local.astimezone(UTC) if begin <= local < end else at
    standard = next((s for s in reversed(standards) if s.published_at <= at), standards[0])
    record = make_record(
        rng,
        domain,
        received_at=at,
        zone=zone,
        version=standard.version,
        problem_share=feed.problems,
        external_id=domain.id_format.format(SERIAL + n),
    )
    troubled = bool(record["kinds"])
    hours = min(feed.cycle_hours[i] * rng.lognormvariate(0, 0.6) * (1.8 if troubled else 1), 96)
    touchpoints = int(troubled or rng.random() < 0.75 - 0.2 * i)  # a correction adds its own
    record.update(
        standard=standard,
        index=i,
        decided_at=min(at + timedelta(hours=hours), now - timedelta(hours=1)),
        outcome={
            "corrected": False,  # set by the correction recorded here
            "touchpoints": touchpoints,
            "cost": COST_PER_TOUCH * touchpoints + Decimal("0.40"),
            "ai_version": version.identifier,
        },
    )
    record["outcome"]["decided_at"] = record["decided_at"]
    return record


def _arrival(record: dict, source: str, row: int) -> Arrival:
    """One case as the pilot's system sends it: JSON through the API, or a row of an uploaded file."""
    if source != "upload":
        return Arrival(
            external_id=record["external_id"],
            inputs=record["inputs"],
            outputs=record["outputs"],
            received_at=record["received_at"],
            outcome=record["outcome"],
        )
    return Arrival(
        external_id=record["external_id"],
        inputs=_cells(record["inputs"]),
        outputs=_cells(record["outputs"]),
        received_at=record["received_at"].isoformat(),
        outcome=_cells(record["outcome"]),
        row=row,
    )


def _cells(values: dict) -> dict:
    return {name: as_text(value) for name, value in values.items()}


def _review_and_correct(ctx, key: str, pilot: Pilot, records: list[dict], rng, now, clock) -> dict:
    """Each version's share of the added cases is corrected: an audit sample by its reviewer's override,
    any other case by a correction recorded on it, with a reason. The other audit samples are approved."""
    feed, zone = FEEDS[key], pilot.workspace.zone
    by_id = {r["external_id"]: r for r in records}
    cases = {
        c.external_id: c
        for c in Case.objects.filter(pilot=pilot, external_id__in=by_id).select_related("pilot__workspace")
    }
    samples = dict(
        Escalation.objects.filter(case__in=cases.values(), decided_at=None).values_list("case_id", "pk")
    )
    chosen: set[str] = set()
    for i, rate in enumerate(feed.rates):
        of_version = [x for x, r in by_id.items() if r["index"] == i and cases[x].route != "rejected"]
        count = round(rate * sum(r["index"] == i for r in records))
        chosen.update(rng.sample(of_version, min(count, len(of_version))))
    pool = pool_ids(pilot)
    team = [u for u in ctx.people.values() if u.pk in pool] or [pilot.program_manager]
    reviewers = [*team, pilot.workflow_owner]
    outputs = {f["name"]: f for f in DOMAINS[key].outputs}
    codes = {r.code for r in taxonomy.ensure_taxonomy(pilot)}
    custom = next((c for c in codes if c not in dict(DEFAULT_REASONS)), None)
    done = Counter()
    for external_id, record in by_id.items():
        case = cases[external_id]
        corrected = external_id in chosen
        if case.pk not in samples and not corrected:
            continue
        name = rng.choices([n for n, _w in feed.corrects], [w for _n, w in feed.corrects])[0]
        value = rng.choice([v for v in outputs[name]["allowed"] if v != case.outputs.get(name)])
        at = _working(record["arrived_at"] + timedelta(hours=rng.uniform(0.5, 20)), zone, rng, now)
        clock(at)
        if case.pk in samples:
            queue.decide(
                escalation_id=samples[case.pk],
                reviewer=rng.choice(reviewers),
                outcome="override" if corrected else "approve",
                rationale=(
                    f"Audit sample: {name} is {value}, not what the AI gave."
                    if corrected
                    else "Audit sample checked against the file: correct."
                ),
                corrected_outputs={name: value} if corrected else {},
                now=at,
            )
            done["reviewed"] += 1
            continue
        weights = REASONS[min(record["index"], len(REASONS) - 1)]
        options = [(custom if c == "custom" else c, w) for c, w in weights.items()]
        options = [(c, w) for c, w in options if c in codes]
        code = rng.choices([c for c, _w in options], [w for _c, w in options])[0]
        if custom in dict(options) and not done["custom"]:
            code = custom  # the reason the program manager added is used at least once, whatever the draw
        done["custom"] += code == custom
        note = rng.choice(NOTES["custom" if code == custom else code]).format(field=name, value=value)
        correction_services.record_correction(
            case=case, field=name, corrected_value=value, reason_code=code, note=note,
            actor=rng.choice(team + [pilot.program_manager]), now=at,
        )  # fmt: skip
        done["direct"] += 1
    return done


def _working(at: datetime, zone, rng, now: datetime) -> datetime:
    """`at`, or the next working morning when it falls at night; never later than just before now."""
    local = at.astimezone(zone)
    if not 8 <= local.hour < 19:
        day = local.date() + timedelta(days=1 if local.hour >= 8 else 0)
        local = datetime.combine(day, time(8), tzinfo=zone) + timedelta(minutes=rng.randint(0, 150))
    return min(max(local.astimezone(UTC), at), now - timedelta(minutes=10))


# ---------------------------------------------------------------------------------------------------
# Classification of override-born corrections, and incorporation.


def _classify(pilot: Pilot, rng, now: datetime, clock) -> Counter:
    """Most corrections that came from an override get their real reason a few days later."""
    found = (
        Correction.objects.filter(pilot=pilot, decision__isnull=False, reason__code=OVERRIDE_REASON)
        .select_related("decision__rule")
        .order_by("at", "id")
    )
    rules: dict[int, str] = {}
    done = 0
    for correction in found:
        if correction.at > now - timedelta(days=2) or rng.random() >= CLASSIFIED:
            continue  # still waiting for someone to say why
        rule = correction.decision.rule
        if rule.pk not in rules:
            rules[rule.pk] = _reason_for(rule, rng)
        at = min(correction.at + timedelta(hours=rng.uniform(3, 40)), now - timedelta(minutes=30))
        clock(at)
        correction_services.classify(
            correction=correction, reason_code=rules[rule.pk], actor=pilot.program_manager
        )
        done += 1
    return Counter(classified=done)


def _reason_for(rule: RoutingRule, rng) -> str:
    """What the overrides of a rule's cases mostly come down to."""
    if any(str(c.get("field", "")).startswith("problems.") for c in rule.clauses):
        return "input_defect"
    if "unsure" in rule.name.lower():
        return "wrong_extraction"
    return rng.choices(["missing_context", "wrong_extraction", "policy_changed"], [3, 2, 1])[0]


def _incorporate(key: str, pilot: Pilot, rng, now: datetime, clock) -> Counter:
    """Of the corrections older than OLD, exactly the pilot's share is incorporated; of the younger ones,
    about half of those a target came after. Into: the standard version or rule table published after
    them (a few), else mostly the next AI version, else the regression set."""
    zone = pilot.workspace.zone
    corrections = list(Correction.objects.filter(pilot=pilot).select_related("reason").order_by("at", "id"))
    if not corrections:
        return Counter()
    releases = [(_local(v.released_on, time(11), zone), v.pk) for v in _versions(pilot)]
    tables = [(t.published_at, t.pk) for t in RuleTable.objects.filter(pilot=pilot).order_by("version")][1:]
    standards = [
        (s.published_at, s.pk) for s in InputStandard.objects.filter(pilot=pilot).order_by("version")
    ]
    old = [c for c in corrections if c.at < now - OLD]
    leave = set(
        rng.sample(
            [c.pk for c in old], len(old) - round(len(old) * INCORPORATED.get(key, DEFAULT_INCORPORATED))
        )
    )
    quota = {Target.RULES: INTO_RULES, Target.STANDARD: INTO_STANDARD}
    plan: dict[tuple[str, int | None, datetime], list[int]] = defaultdict(list)
    for c in corrections:
        if c.pk in leave or (c.at >= now - OLD and rng.random() >= RECENT_INCORPORATED):
            continue
        after = {
            Target.RULES: next(((at, pk) for at, pk in tables if at >= c.at + LEAD), None),
            Target.STANDARD: next(((at, pk) for at, pk in standards[1:] if at >= c.at + LEAD), None),
            Target.AI_VERSION: next(((at, pk) for at, pk in releases if c.at + LEAD <= at <= now), None),
        }
        # An input defect is fixed in the standard; a policy change, or an override of what a rule sent to
        # review, in the next rule table.
        wanted = Target.STANDARD if c.reason.code == "input_defect" else None
        if wanted is None and (c.reason.code == "policy_changed" or c.decision_id):
            wanted = Target.RULES
        if wanted and after[wanted] and quota[wanted]:
            quota[wanted] -= 1
            at, pk = after[wanted]
            plan[(wanted, pk, at + timedelta(hours=2))].append(c.pk)
        elif after[Target.AI_VERSION] and rng.random() < 0.85:
            at, pk = after[Target.AI_VERSION]
            plan[(Target.AI_VERSION, pk, at)].append(c.pk)
        else:  # the AI team adds the week's corrections to the regression set on Friday afternoon
            day = (c.at + LEAD).astimezone(zone).date()
            friday = _local(day + timedelta(days=(4 - day.weekday()) % 7), time(15), zone)
            if friday <= now - timedelta(hours=1) or c.at < now - OLD:
                plan[(Target.REGRESSION_SET, None, min(friday, now - timedelta(hours=1)))].append(c.pk)
    done: Counter = Counter()
    for (into, target_id, at), ids in sorted(plan.items(), key=lambda item: item[0][2]):
        clock(at)
        marked = incorporation.incorporate(
            pilot=pilot,
            correction_ids=ids,
            into=into,
            target_id=target_id,
            actor=pilot.program_manager,
            now=at,
        )
        done[into] += marked
        done["incorporated"] += marked
    return done
