"""The check registry (DESIGN.md "Contracts: Checks").

Each app's discovered `readiness.py` registers its checks with `@check(...)`. A check's function takes a
batch of pilot ids and answers for all of them with set-based queries. `evaluate()` adds what the hub
knows: attestations (0 → 0.5 for attestable checks) and "not yet due" for gates beyond the pilot's next.
"""

import functools
import operator
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from django.db.models import Aggregate, Count, Max, Min, Sum
from django.urls import reverse
from django.utils import timezone

from pilots.models import STAGE_ORDER, Attestation, Case, Pilot, next_stage, stage_index

SECTIONS: dict[str, str] = {
    "value": "Value",
    "edge_cases": "Edge cases",
    "ownership": "Ownership",
    "integration": "Integration",
    "trust": "Trust",
    "learning": "Learning",
}

VERIFIED = 1.0
ATTESTED = 0.5
MISSING = 0.0
NOT_DUE = "not_due"
Status = float | Literal["not_due"]


@dataclass(frozen=True)
class Evidence:
    text: str
    links: tuple[tuple[str, str], ...] = ()  # (label, url)

    def as_dict(self) -> dict:
        return {"text": self.text, "links": [list(link) for link in self.links]}


@dataclass(frozen=True)
class Result:
    status: Status
    evidence: Evidence
    next_action: str = ""

    @property
    def due(self) -> bool:
        return self.status != NOT_DUE

    @property
    def passes(self) -> bool:
        """Good enough for a go: verified or attested."""
        return self.status != NOT_DUE and self.status >= ATTESTED

    @property
    def label(self) -> str:
        return status_label(self.status)

    def as_dict(self) -> dict:
        return {"status": self.status, "evidence": self.evidence.as_dict(), "next_action": self.next_action}


def status_label(status: Status) -> str:
    """How a status reads: "verified", "attested", "missing" or "not yet due" (also for stored rows)."""
    return {VERIFIED: "verified", ATTESTED: "attested", MISSING: "missing"}.get(status, "not yet due")


Evaluator = Callable[[list[int]], dict[int, Result]]


@dataclass(frozen=True)
class Check:
    id: str
    section: str
    title: str
    gate: str
    attestable: bool
    evaluate: Evaluator = field(compare=False, repr=False)

    @functools.cached_property
    def gate_index(self) -> int:
        return stage_index(self.gate)


_registry: dict[str, Check] = {}
_ANY_ID = 918273645  # stands for the pilot id in a reversed URL pattern


def _url_pattern(name: str) -> str:
    return reverse(name, args=[_ANY_ID])


def pilot_url(name: str, pilot_id: int) -> str:
    """`reverse(name, args=[pilot_id])` for a URL that takes only the pilot's id, reversed once per name
    and batch (inside `shared_reads`): the evidence of ten thousand pilots would otherwise spend its time
    in the resolver."""
    cache = _shared.get()
    if cache is None:
        pattern = _url_pattern(name)
    elif (pattern := cache.get(("url", name))) is None:
        pattern = cache[("url", name)] = _url_pattern(name)
    return pattern.replace(str(_ANY_ID), str(int(pilot_id)))


def check(
    *, id: str, section: str, title: str, gate: str, attestable: bool = False
) -> Callable[[Evaluator], Evaluator]:
    """Register a check; used as a decorator on its batch function."""
    if section not in SECTIONS:
        raise ValueError(f"check {id}: unknown section {section!r}")
    if gate not in STAGE_ORDER[1:]:
        raise ValueError(f"check {id}: {gate!r} is not a gate")

    def register(function: Evaluator) -> Evaluator:
        if id in _registry and _registry[id].evaluate is not function:
            raise ValueError(f"check {id} is registered twice")
        _registry[id] = Check(
            id=id, section=section, title=title, gate=gate, attestable=attestable, evaluate=function
        )
        return function

    return register


FigureSource = Callable[[list[int]], dict[int, dict]]
_figure_sources: dict[str, FigureSource] = {}


def figures(key: str) -> Callable[[FigureSource], FigureSource]:
    """Register what an app contributes to every readiness snapshot: `function(pilot_ids)` answers
    {pilot_id: {figure: value}} for the whole batch in set-based queries (DESIGN.md "Architecture").
    The snapshot keeps them under `key`, the app's label."""

    def register(function: FigureSource) -> FigureSource:
        if key in _figure_sources and _figure_sources[key] is not function:
            raise ValueError(f"figures {key!r} are registered twice")
        _figure_sources[key] = function
        return function

    return register


def figure_sources() -> dict[str, FigureSource]:
    return dict(_figure_sources)


_shared: ContextVar[dict | None] = ContextVar("shared_batch_reads", default=None)


@contextmanager
def shared_reads() -> Iterator[None]:
    """Within this block, a batch read marked `@shared` runs once per batch of pilots, however many
    checks and figure sources ask for it (the readiness engine wraps each recompute in one)."""
    token = _shared.set({})
    try:
        yield
    finally:
        _shared.reset(token)


def shared(function: Callable[[list[int]], dict]) -> Callable[[list[int]], dict]:
    @functools.wraps(function)
    def once_per_batch(pilot_ids: list[int]) -> dict:
        cache = _shared.get()
        if cache is None:
            return function(pilot_ids)
        key = (function.__module__, function.__qualname__, tuple(pilot_ids))
        if key not in cache:
            cache[key] = function(pilot_ids)
        return cache[key]

    return once_per_batch


CaseCounts = Callable[[datetime], dict[str, Aggregate]]
_case_counts: dict[str, CaseCounts] = {}


def case_counts(function: CaseCounts) -> CaseCounts:
    """Register aggregates over a pilot's cases: `function(now)` answers {name: Count(…, filter=…)}.
    `case_facts` computes every registered one in a single GROUP BY (the cases are the large table: one
    pass over them, whatever the number of checks that count something). Counts, sums, maxima and minima
    only: the pass groups by pilot and AI version, and a pilot's figure combines its versions'."""
    _case_counts[f"{function.__module__}.{function.__qualname__}"] = function
    return function


def _combiner(name: str, aggregate: Aggregate) -> Callable:
    """How a pilot's figure combines its AI versions' (a version without a value leaves the other)."""
    if isinstance(aggregate, Count | Sum) and not aggregate.distinct:
        op = operator.add
    elif isinstance(aggregate, Max):
        op = max
    elif isinstance(aggregate, Min):
        op = min
    else:
        raise ValueError(f"case count {name!r}: only Count, Sum, Max and Min combine across AI versions")
    return lambda a, b: a if b is None else b if a is None else op(a, b)


def _registered_case_counts(now: datetime) -> tuple[dict[str, Aggregate], dict[str, Callable]]:
    """Every registered case count by name, and how each combines across AI versions."""
    aggregates: dict[str, Aggregate] = {}
    for function in _case_counts.values():
        named = function(now)
        if clash := aggregates.keys() & named.keys():
            raise ValueError(f"case counts {sorted(clash)} are registered twice")
        aggregates.update(named)
    return aggregates, {name: _combiner(name, aggregate) for name, aggregate in aggregates.items()}


_covering: ContextVar[dict | None] = ContextVar("covering_case_reads", default=None)


@contextmanager
def covering(pilot_ids: list[int]) -> Iterator[None]:
    """Within this block, the pass over the cases (`case_facts_by_version`) reads all these pilots at
    once and each batch takes its share: one pass over the large table instead of one per batch, and a
    parallel scan when the pilots are most of it (the nightly recompute). Its rows stay in memory until
    the block ends: cover thousands of pilots, not millions."""
    token = _covering.set({"ids": frozenset(pilot_ids), "order": sorted(set(pilot_ids)), "rows": None})
    try:
        yield
    finally:
        _covering.reset(token)


@shared
def case_facts_by_version(pilot_ids: list[int]) -> dict[tuple[int, int | None], dict]:
    """(pilot id, AI version id or None) → {aggregate name: value} for every registered case count: the
    one pass over the cases (the learning check reads its per-version counts here)."""
    cover = _covering.get()
    if cover is None or not cover["ids"].issuperset(pilot_ids):
        return _case_rows(pilot_ids)
    if cover["rows"] is None:
        cover["rows"] = {}
        for key, row in _case_rows(cover["order"]).items():
            cover["rows"].setdefault(key[0], []).append((key, row))
    return {key: row for pilot_id in pilot_ids for key, row in cover["rows"].get(pilot_id, ())}


def _case_rows(pilot_ids: list[int]) -> dict[tuple[int, int | None], dict]:
    aggregates, _ = _registered_case_counts(timezone.now())  # refused here if one cannot combine
    if not aggregates:
        return {}
    rows = (
        Case.objects.filter(pilot_id__any_of=pilot_ids)
        .values("pilot_id", "ai_version_id")
        .annotate(**aggregates)
        .order_by()
    )
    return {(row.pop("pilot_id"), row.pop("ai_version_id")): row for row in rows}


@shared
def case_facts(pilot_ids: list[int]) -> dict[int, dict]:
    """pilot id → {aggregate name: value} for every registered case count (pilots without cases are
    left out: read with `.get(name, 0)`); the pilot's versions' figures combined."""
    combine: dict[str, Callable] | None = None
    facts: dict[int, dict] = {}
    for (pilot_id, _), row in case_facts_by_version(pilot_ids).items():
        if (into := facts.get(pilot_id)) is None:
            facts[pilot_id] = dict(row)
            continue
        if combine is None:
            _, combine = _registered_case_counts(timezone.now())
        for name, value in row.items():
            into[name] = combine[name](into[name], value)
    return facts


PILOT_FACTS = (
    "id", "name", "workspace_id", "workspace__slug", "workspace__timezone", "workspace__currency",
    "stage", "stage_entered_at", "status", "business_unit", "program_manager_id", "workflow_owner_id",
    "accountability_accepted_by_id", "accountability_accepted_at", "integration_points",
    "conformance_threshold", "acceptable_correction_rate",
)  # fmt: skip


@shared
def pilot_facts(pilot_ids: list[int]) -> dict[int, dict]:
    """pilot id → the pilot's own columns that checks and figures read (PILOT_FACTS), in one query per
    batch instead of one per check."""
    return {row["id"]: row for row in Pilot.objects.filter(id__any_of=pilot_ids).values(*PILOT_FACTS)}


def unregister(check_id: str) -> None:
    _registry.pop(check_id, None)


def get(check_id: str) -> Check | None:
    return _registry.get(check_id)


_ordered: dict = {}  # all_checks(), kept while the registry holds the same checks


def all_checks() -> list[Check]:
    key = (id(_registry), tuple(_registry))
    if _ordered.get("key") != key:
        order = list(SECTIONS)
        _ordered["checks"] = sorted(
            _registry.values(), key=lambda c: (c.gate_index, order.index(c.section), c.id)
        )
        _ordered["key"] = key
    return list(_ordered["checks"])


def required_at(gate: str) -> list[Check]:
    """Checks that must hold to pass `gate`: those of that gate and every earlier one."""
    limit = stage_index(gate)
    return [c for c in all_checks() if c.gate_index <= limit]


def evaluate(pilot_ids: Iterable[int], *, gate: str | None = None) -> dict[int, dict[str, Result]]:
    """Every registered check for every pilot, in a fixed number of queries.

    Without `gate`, a check whose gate lies beyond the pilot's next gate is "not yet due". With `gate`,
    only the checks required at that gate are evaluated, all of them due.
    """
    ids = list(dict.fromkeys(pilot_ids))
    if not ids:
        return {}
    checks = required_at(gate) if gate else all_checks()
    if _shared.get() is None:
        with shared_reads():  # one pass per shared read, even for a single pilot at a gate
            return evaluate(ids, gate=gate)
    stages = {pilot_id: row["stage"] for pilot_id, row in pilot_facts(sorted(ids)).items()}
    attested = _valid_attestations(ids, [c.id for c in checks if c.attestable])
    results: dict[int, dict[str, Result]] = {pilot_id: {} for pilot_id in stages}
    batch = sorted(stages)  # one order for every check: `@shared` reads are keyed by it
    for item in checks:
        raw = item.evaluate(batch)
        due = {stage: _is_due(item, stage) for stage in STAGE_ORDER}
        for pilot_id, stage in stages.items():
            result = raw.get(pilot_id) or Result(MISSING, Evidence("No evidence yet."))
            if result.status == MISSING and item.attestable and (pilot_id, item.id) in attested:
                attestation = attested[(pilot_id, item.id)]
                who = attestation.attested_by.get_full_name() or attestation.attested_by.username
                result = Result(
                    ATTESTED,
                    Evidence(
                        f"Attested by {who} until {attestation.expires_on:%Y-%m-%d}: {attestation.note}",
                        ((f"Evidence for {item.title}", attestation.evidence_url),),
                    ),
                    result.next_action,
                )
            if gate is None and not due[stage]:
                result = Result(NOT_DUE, result.evidence, result.next_action)
            results[pilot_id][item.id] = result
    return results


def _is_due(item: Check, stage: str) -> bool:
    upcoming = next_stage(stage)
    return upcoming is None or item.gate_index <= stage_index(upcoming)


def _valid_attestations(pilot_ids: list[int], check_ids: list[str]) -> dict[tuple[int, str], Attestation]:
    if not check_ids:
        return {}
    rows = (
        Attestation.objects.filter(
            pilot_id__any_of=pilot_ids, check_id__in=check_ids, expires_on__gte=timezone.localdate()
        )
        .select_related("attested_by")
        .order_by("created_at")
    )
    return {(row.pilot_id, row.check_id): row for row in rows}  # the latest wins


def missing_for_gate(pilot_id: int, gate: str) -> list[tuple[Check, Result]]:
    """The checks required at `gate` that score below 0.5 for this pilot, with their next actions."""
    results = evaluate([pilot_id], gate=gate).get(pilot_id, {})
    return [(c, results[c.id]) for c in required_at(gate) if not results[c.id].passes]
