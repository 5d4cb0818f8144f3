"""`generate_load`: many pilots and cases of the same kinds, written straight to the tables."""

import hashlib
import json
import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from pilots.demo.cases import (
    CASE_WINDOW,
    CORRECTION_RATE,
    COST_PER_TOUCH,
    CYCLE_HOURS,
    UNDECIDED_FOR,
    VERSION_LABELS,
    VERSION_NOTES,
)
from pilots.demo.domains import DOMAINS
from pilots.demo.fields import Domain
from pilots.demo.people import DEMO_PASSWORD, User
from pilots.demo.records import make_record
from pilots.demo.workspace import PILOTS
from pilots.models import AIVersion, Case, InputStandard, Membership, Pilot, Role, Stage, Status, Workspace
from pilots.services import audit
from pilots.services import workspaces as workspace_services
from pilots.validation import Validator

# ---------------------------------------------------------------------------------------------------
# generate_load: many pilots and cases of the same kinds, written in bulk.


@dataclass
class LoadContext:
    """What `manage.py generate_load` hands each app's `generate_load(ctx)`, the hub first.

    `write(model, fields, rows, total=None)` stores an iterable of row tuples (JSON fields as JSON text)
    the fastest way the database allows and returns the count; `say` prints a line of progress."""

    pilots: int
    cases: int
    slug: str
    write: Callable[..., int]
    say: Callable[[str], None]
    seed: int = 0
    workspace: Workspace | None = None
    people: dict[str, object] = field(default_factory=dict)
    pilot_ids: list[int] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


LOAD_STAGES = (
    [Stage.PROPOSED] * 4
    + [Stage.DEFINE_SUCCESS] * 4
    + [Stage.STANDARDIZE_INPUTS] * 4
    + [Stage.EXCEPTION_PATHS] * 3
    + [Stage.FEEDBACK_LOOPS] * 3
    + [Stage.PRODUCTION] * 2
)
CASE_WEIGHT = {
    Stage.PROPOSED: 0,
    Stage.DEFINE_SUCCESS: 0.25,
    Stage.STANDARDIZE_INPUTS: 1,
    Stage.EXCEPTION_PATHS: 1.5,
    Stage.FEEDBACK_LOOPS: 2,
    Stage.PRODUCTION: 3,
}
CASE_FIELDS = [
    "pilot_id", "external_id", "source", "received_at", "event_at", "due_at", "inputs", "outputs",
    "standard_version", "problems", "has_missing", "has_invalid", "has_contradictory", "has_late",
    "has_outside_boundary", "ai_version_id", "route", "rule_version", "rule_clause", "decided_at",
    "corrected", "touchpoints", "cost", "digest", "created_at", "updated_at",
]  # fmt: skip
POOL_SIZE = 256  # distinct case bodies per kind of pilot, with and without problems
SENTINEL = "\x00moment"  # stands in for a date or time in a body's JSON until a case's arrival is known


def generate_load(ctx: LoadContext) -> None:
    """Pilots at every stage, each with a standard and AI versions, and `ctx.cases` cases among them."""
    rng = random.Random(ctx.seed)
    now = timezone.now()
    _load_workspace(ctx)
    workspace, people = ctx.workspace, ctx.people
    pms = [people[k] for k in sorted(people) if k.startswith("pm")]
    owners = [people[k] for k in sorted(people) if k.startswith("owner")]
    titles = {key: (name, unit, workflow, problem) for key, name, unit, workflow, *_x, problem in PILOTS}
    domains = list(DOMAINS.values())
    pilots = []
    for i in range(ctx.pilots):
        stage = LOAD_STAGES[i * 7 % len(LOAD_STAGES)]
        name, unit, workflow, problem = titles[domains[i % len(domains)].key]
        started = stage != Stage.PROPOSED
        pilots.append(
            Pilot(
                workspace=workspace,
                name=f"{name} #{i + 1}",
                problem=problem,
                workflow=workflow,
                business_unit=unit,
                program_manager=pms[i % len(pms)],
                workflow_owner=owners[i % len(owners)],
                stage=stage,
                status=Status.ON_HOLD if i % 17 == 5 else Status.STOPPED if i % 23 == 11 else Status.ACTIVE,
                integration_points=["ServiceNow"] if i % 5 else [],
                started_on=(now - timedelta(weeks=rng.randint(13, 40))).date() if started else None,
                target_date=(now + timedelta(weeks=rng.randint(4, 30))).date(),
                accountability_accepted_by=owners[i % len(owners)] if started else None,
                accountability_accepted_at=now - timedelta(weeks=13) if started else None,
                stage_entered_at=now - timedelta(days=rng.randint(3, 80)),
            )
        )
    Pilot.objects.bulk_create(pilots, batch_size=1000)
    ctx.pilot_ids = [p.pk for p in pilots]
    ctx.counts["pilots"] = len(pilots)
    ctx.say(f"{len(pilots):,} pilots in workspace “{workspace.slug}”")

    specs = {d.key: d.spec(1) for d in domains}
    spec_rows = {
        key: (json.dumps(spec["inputs"]), json.dumps(spec["outputs"]), json.dumps(spec["rules"]),
              spec["event_time_field"], spec["max_lateness_hours"])
        for key, spec in specs.items()
    }  # fmt: skip
    ctx.counts["standards"] = ctx.write(
        InputStandard,
        ["pilot_id", "version", "inputs", "outputs", "rules", "event_time_field", "max_lateness_hours",
         "note", "published_by_id", "published_at"],
        ((p.pk, 1, *spec_rows[domains[i % len(domains)].key], "Generated load.", p.program_manager_id, now)
         for i, p in enumerate(pilots)),
    )  # fmt: skip
    releases = (now - CASE_WINDOW - timedelta(days=10), now - timedelta(weeks=6), now - timedelta(weeks=2))
    lineup = list(zip(VERSION_LABELS, releases, VERSION_NOTES, strict=True))
    ctx.counts["ai versions"] = ctx.write(
        AIVersion,
        ["pilot_id", "identifier", "released_on", "notes", "created_at"],
        ((p.pk, f"{domains[i % len(domains)].ai_name}-{label}", released.date(), notes, now)
         for i, p in enumerate(pilots)
         for label, released, notes in lineup[: 2 + i % 2]),
    )  # fmt: skip
    versions: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for pilot_id, released_on, pk in (
        AIVersion.objects.filter(pilot__workspace=workspace, pilot_id__gte=pilots[0].pk)
        .order_by("pilot_id", "released_on")
        .values_list("pilot_id", "released_on", "pk")
    ):
        versions[pilot_id].append((datetime.combine(released_on, datetime.min.time(), tzinfo=UTC), pk))
    ctx.say(f"{ctx.counts['standards']:,} input standards and {ctx.counts['ai versions']:,} AI versions")

    weights = [CASE_WEIGHT[p.stage] * rng.lognormvariate(0, 0.5) for p in pilots]
    if not sum(weights):
        weights = [1.0] * len(pilots)
    counts = _apportion(ctx.cases, weights)
    pools: dict[str, _Pool] = {}
    zone = workspace.zone
    plan = []
    for i, (p, n) in enumerate(zip(pilots, counts, strict=True)):
        if n:
            domain = domains[i % len(domains)]
            pool = pools.get(domain.key) or pools.setdefault(domain.key, _Pool(domain, zone, rng))
            plan.append((p, n, pool, versions[p.pk], i % 2 == 0))
    ctx.counts["cases"] = ctx.write(Case, CASE_FIELDS, _case_rows(plan, rng, now), total=ctx.cases)
    audit.record(
        workspace=workspace,
        actor=people["admin"],
        action="load.generated",
        obj=workspace,
        after={"pilots": len(pilots), "cases": ctx.counts["cases"]},
    )


def _load_workspace(ctx: LoadContext) -> None:
    """The load workspace and its people (created once; a second run adds pilots and cases)."""
    password = make_password(DEMO_PASSWORD)
    names = [
        "admin",
        "leader",
        "reviewer",
        *(f"pm{k}" for k in range(1, 6)),
        *(f"owner{k}" for k in range(1, 6)),
    ]
    for name in names:
        username = f"{ctx.slug}-{name}"
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create(
                username=username,
                email=f"{username}@load.example",
                password=password,
                first_name="Load",
                last_name=name,
            )
        ctx.people[name] = user
    workspace = Workspace.objects.filter(slug=ctx.slug).first()
    if workspace is None:
        workspace = workspace_services.create_workspace(
            actor=ctx.people["admin"], name=f"Load test {ctx.slug}", timezone="Europe/Berlin", currency="EUR"
        )
        Workspace.objects.filter(pk=workspace.pk).update(slug=ctx.slug)
        workspace.slug = ctx.slug
    roles = {
        "admin": {Role.ADMIN},
        "leader": {Role.LEADER},
        "reviewer": {Role.REVIEWER},
        "pm": {Role.PROGRAM_MANAGER, Role.REVIEWER},
        "owner": {Role.WORKFLOW_OWNER},
    }
    held = set(Membership.objects.filter(workspace=workspace).values_list("user_id", flat=True))
    for name, user in ctx.people.items():
        if user.pk not in held:
            membership = Membership(workspace=workspace, user=user, welcomed_at=timezone.now())
            membership.set_roles(roles[name.rstrip("0123456789")])
            membership.save()
    ctx.workspace = workspace


def _apportion(total: int, weights: list[float]) -> list[int]:
    """Split `total` in proportion to `weights`, exactly (largest remainders)."""
    whole = sum(weights)
    shares = [total * w / whole for w in weights]
    counts = [int(s) for s in shares]
    by_remainder = sorted(range(len(shares)), key=lambda i: shares[i] - counts[i], reverse=True)
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


@dataclass
class _Body:
    """A validated case body, serialised once. Its dates and times move with each case's arrival time:
    `parts` is the JSON text around them, `moments` their values when the body arrived at `received`."""

    parts: list[str]
    moments: list[date | datetime]
    outputs: str
    problems: str
    flags: tuple[bool, ...]
    event_at: datetime | None
    event_index: int | None  # which of `moments` is the event time


class _Pool:
    """Case bodies of one kind of pilot, half clean and half with problems, checked by the real validator."""

    def __init__(self, domain: Domain, zone: ZoneInfo, rng: random.Random):
        self.domain = domain
        self.zone = zone
        self.received = timezone.now() - timedelta(weeks=6)
        self.moment_types = {f["name"]: f["type"] for f in domain.inputs if f["type"] in ("date", "datetime")}
        validator = Validator(domain.spec(1), zone=zone)
        self.clean: list[_Body] = []
        self.troubled: list[_Body] = []
        while len(self.clean) < POOL_SIZE or len(self.troubled) < POOL_SIZE:
            wanted = 1.0 if len(self.clean) >= POOL_SIZE else 0.0 if len(self.troubled) >= POOL_SIZE else 0.5
            record = make_record(rng, domain, received_at=self.received, zone=zone, problem_share=wanted)
            checked = validator.check(record["inputs"], record["outputs"], received_at=self.received)
            (self.troubled if checked.problems else self.clean).append(self._body(checked))
        self.clean, self.troubled = self.clean[:POOL_SIZE], self.troubled[:POOL_SIZE]

    def _body(self, checked) -> _Body:
        inputs = dict(checked.inputs)
        moments: list[date | datetime] = []
        event_index = None
        for name, kind in self.moment_types.items():
            value = _moment(inputs.get(name), kind)
            if value is not None:
                if name == self.domain.event_field:
                    event_index = len(moments)
                inputs[name] = f"{SENTINEL}{len(moments)}"
                moments.append(value)
        text = json.dumps(inputs)
        parts = []
        for n in range(len(moments)):
            before, text = text.split(json.dumps(f"{SENTINEL}{n}"), 1)
            parts.append(before + '"')
            text = '"' + text
        parts.append(text)
        kinds = {kind for _f, kind, _m in checked.problems}
        return _Body(
            parts=parts,
            moments=moments,
            outputs=json.dumps(checked.outputs),
            problems=json.dumps([{"field": f, "kind": k, "message": m} for f, k, m in checked.problems]),
            flags=tuple(kind in kinds for kind in Case.PROBLEM_FLAGS),
            event_at=checked.event_at,
            event_index=event_index,
        )

    def inputs_and_event(self, body: _Body, received: datetime) -> tuple[str, datetime | None]:
        """The body's inputs as JSON for a case arriving at `received`, and its event time."""
        shift = received - self.received
        days = timedelta(days=shift.days)
        moved = [(m + shift).astimezone(self.zone) if type(m) is datetime else m + days for m in body.moments]
        texts = [m.isoformat() for m in moved]
        if body.event_at is None:
            event_at = None
        elif type(body.moments[body.event_index]) is datetime:
            event_at = body.event_at + shift
        else:
            event_at = body.event_at + days
        return "".join(part + text for part, text in zip(body.parts, [*texts, ""], strict=True)), event_at


def _moment(value: Any, kind: str) -> date | datetime | None:
    """A stored date or date-time value, parsed (None when the value is not one)."""
    try:
        moment = datetime.fromisoformat(value) if kind == "datetime" else date.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return None if kind == "datetime" and moment.tzinfo is None else moment


def _case_rows(plan: list, rng: random.Random, now: datetime) -> Iterator[tuple]:
    """Row tuples in CASE_FIELDS order, made one at a time so memory stays flat whatever the count."""
    pick = rng.random
    sources = ["upload"] * 72 + ["api"] * 22 + ["form"] * 6
    no_flags = (False,) * 5
    undecided_after = now - UNDECIDED_FOR
    costs = [COST_PER_TOUCH * t + Decimal("0.40") for t in range(4)]
    for pilot, count, pool, versions, records_outcomes in plan:
        window = CASE_WINDOW if pilot.stage != Stage.DEFINE_SUCCESS else timedelta(weeks=3)
        start, span = now - window, window.total_seconds() - 600
        share = rng.uniform(0.05, 0.15)
        slope = -0.09 if rng.random() < 0.35 else 0.0  # some pilots get better over the window
        share += 0.045 if slope else 0
        id_format, clean, troubled = pool.domain.id_format, pool.clean, pool.troubled
        for n in range(count):
            u = pick()
            received = start + timedelta(seconds=span * u)
            if pick() < share + slope * u:
                body = troubled[int(pick() * POOL_SIZE)]
            else:
                body = clean[int(pick() * POOL_SIZE)]
            inputs, event_at = pool.inputs_and_event(body, received)
            external_id = id_format.format(n + 1)
            decided_at, corrected, touchpoints, cost, ai_version = None, False, 0, None, None
            if records_outcomes and received < undecided_after:
                version = sum(released <= received for released, _id in versions) - 1
                ai_version = versions[max(version, 0)][1]
                troubled_case = body.flags != no_flags
                decided_at = received + timedelta(hours=CYCLE_HOURS[version] * (0.4 + 1.5 * pick()))
                corrected = pick() < CORRECTION_RATE[version] + (0.1 if troubled_case else 0)
                touchpoints = int(troubled_case or pick() < 0.75 - 0.2 * version) + corrected
                cost = costs[touchpoints]
            digest = hashlib.md5((external_id + inputs).encode(), usedforsecurity=False).hexdigest()
            yield (
                pilot.pk, external_id, sources[int(u * 1e6) % 100], received, event_at, None, inputs,
                body.outputs, 1, body.problems, *body.flags, ai_version, "", None, "", decided_at, corrected,
                touchpoints, cost, digest, received, received,
            )  # fmt: skip
