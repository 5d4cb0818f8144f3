"""Readiness snapshots (issue 8): mark a pilot dirty where it changes, recompute it after commit, and
sweep up whatever is still marked.

- `mark_dirty` runs inside the writer's transaction (the audit service calls it for every event that
  names a pilot), so the mark commits or rolls back with the change itself.
- After commit, `request_recompute` claims the marks that nobody has asked for yet (a conditional
  UPDATE) and publishes one task for them, `READINESS_DEBOUNCE_SECONDS` later: a burst of writes to a
  pilot ends in one recompute.
- `recompute` evaluates every check and every app's figures for a batch of pilots in a fixed number
  of queries, writes the snapshots and today's history rows, and removes a mark only if its generation
  is still the one it read first; a pilot marked again meanwhile is asked for again.
- `recompute_marked` (the sweep, every 30 s by beat) and `recompute_all` (nightly) need no message at
  all: with the broker down, marks wait in the database until the sweep runs again.

Snapshots are derived data, not changes anyone made: they leave no audit event (an event would mark
the pilot dirty again). The history is their record.
"""

import hashlib
import json
import logging
import marshal
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from pilots import checks, gcpause, portfolio, scoring
from pilots.models import Pilot, ReadinessHistory, ReadinessMark, ReadinessSnapshot
from pilots.services import bulk
from pilots.services.queue import publish

log = logging.getLogger(__name__)

BATCH = 2_000  # pilots per recompute round: IN lists stay short, memory stays flat
COVER = 10_000  # pilots whose case counts are read in one pass (a parallel scan for a nightly run)
SWEEP_GRACE = timedelta(seconds=10)  # marks younger than this belong to the debounced task
REPUBLISH_AFTER = timedelta(seconds=60)  # a claimed mark this old lost its message: ask again
CHANGED_EVENT = "readiness.changed"


def _generation() -> int:
    # Any value another mark will not repeat: a recompute compares generations for equality only.
    return time.time_ns()


_collecting: ContextVar[set[int] | None] = ContextVar("readiness_marks_collected", default=None)


@contextmanager
def collected() -> Iterator[set[int]]:
    """Collect the marks of a bulk job (the demo seed, generate_load) and write them once, at the end."""
    ids: set[int] = set()
    token = _collecting.set(ids)
    try:
        yield ids
    finally:
        _collecting.reset(token)
    mark_dirty(pilot_ids=ids)


def mark_dirty(*, pilot_ids: Iterable[int]) -> None:
    """Mark these pilots' readiness out of date, in the caller's transaction; a recompute is requested
    once it commits."""
    ids = sorted({int(i) for i in pilot_ids if i is not None})
    if not ids:
        return
    if (bulk := _collecting.get()) is not None:
        bulk.update(ids)
        return
    now = timezone.now()
    ReadinessMark.objects.bulk_create(
        [ReadinessMark(pilot_id=i, generation=_generation(), marked_at=now) for i in ids],
        update_conflicts=True,
        unique_fields=["pilot"],
        update_fields=["generation", "marked_at"],
    )
    transaction.on_commit(lambda: request_recompute(ids))


def mark_workspace_dirty(*, workspace_id: int) -> None:
    """A change that can move every pilot of a workspace (a member's roles, a member leaving)."""
    mark_dirty(pilot_ids=Pilot.objects.filter(workspace_id=workspace_id).values_list("id", flat=True))


def request_recompute(pilot_ids: list[int], *, now: datetime | None = None) -> list[int]:
    """Publish one debounced recompute for the marks among `pilot_ids` that no task is on yet."""
    from pilots import tasks

    now = now or timezone.now()
    unclaimed = Q(enqueued_at=None) | Q(enqueued_at__lt=now - REPUBLISH_AFTER)
    wanted = list(
        ReadinessMark.objects.filter(unclaimed, pilot_id__any_of=pilot_ids).values_list("pilot_id", flat=True)
    )
    if not wanted:
        return []
    # Claim by a conditional UPDATE: of two writers racing here, the loser's UPDATE changes nothing.
    claimed = ReadinessMark.objects.filter(unclaimed, pilot_id__in=wanted).update(enqueued_at=now)
    if claimed:
        publish(tasks.recompute_readiness, wanted, countdown=settings.READINESS_DEBOUNCE_SECONDS)
    return wanted if claimed else []


def is_pending(pilot_id: int) -> bool:
    """Whether a recompute of this pilot is due (the page shows "recomputing…" and polls)."""
    return ReadinessMark.objects.filter(pilot_id=pilot_id).exists()


def recompute(*, pilot_ids: Iterable[int], now: datetime | None = None) -> list[int]:
    """Recompute the snapshots of these pilots. Returns the ids whose score or weakest section changed.
    Safe to run twice, and concurrently: a run only removes the marks it has seen."""
    ids = sorted(set(pilot_ids))
    changed: list[int] = []
    for cover in range(0, len(ids), COVER):
        group = ids[cover : cover + COVER]
        with checks.covering(group):  # one pass over the cases for the group's batches
            for start in range(0, len(group), BATCH):
                with gcpause.paused():  # a batch's results all live until its snapshots are written
                    changed += _recompute_batch(group[start : start + BATCH], now=now or timezone.now())
    return changed


def recompute_marked(*, now: datetime | None = None, limit: int = 20_000) -> int:
    """The sweep: every pilot still marked after the grace period (a lost message, a broker that was
    down, a worker that died), in batches. Returns how many were recomputed."""
    now = now or timezone.now()
    ids = list(
        ReadinessMark.objects.filter(marked_at__lt=now - SWEEP_GRACE)
        .order_by("marked_at")
        .values_list("pilot_id", flat=True)[:limit]
    )
    recompute(pilot_ids=ids, now=now)
    return len(ids)


def recompute_all(*, now: datetime | None = None) -> int:
    """Every pilot (nightly: checks with a time window change without any write)."""
    ids = list(Pilot.objects.order_by("id").values_list("id", flat=True))
    recompute(pilot_ids=ids, now=now)
    return len(ids)


def _recompute_batch(ids: list[int], *, now: datetime) -> list[int]:
    # The marks first: a write that commits after this read bumps the generation and keeps its mark.
    seen = dict(ReadinessMark.objects.filter(pilot_id__any_of=ids).values_list("pilot_id", "generation"))
    with checks.shared_reads():
        pilots = checks.pilot_facts(sorted(ids))
        ids = sorted(pilots)
        results = checks.evaluate(ids)
        contributed = {key: source(ids) for key, source in checks.figure_sources().items()}
    before = {
        row[0]: row[1:]
        for row in ReadinessSnapshot.objects.filter(pilot_id__any_of=ids).values_list(
            "pilot_id", "score", "weakest_section", "digest"
        )
    }
    snapshots, history, changed = [], [], []
    registered = checks.all_checks()
    for pilot_id, pilot in pilots.items():
        readiness = scoring.score(results.get(pilot_id, {}))
        sections = {s.section: s.as_dict() for s in readiness.sections}
        figures = {key: values.get(pilot_id, {}) for key, values in contributed.items()}
        snapshots.append(
            ReadinessSnapshot(
                pilot_id=pilot_id,
                workspace_id=pilot["workspace_id"],
                score=readiness.score,
                weakest_section=readiness.weakest,
                sections=sections,
                checks=_check_rows(results.get(pilot_id, {}), registered),
                failing=[
                    {
                        "id": c.id,
                        "section": c.section,
                        "title": c.title,
                        "status": r.status,
                        "next_action": r.next_action,
                        "attestable": c.attestable,
                    }
                    for c, r in readiness.failing
                ],
                figures=figures,
                stage=pilot["stage"],
                status=pilot["status"],
                business_unit=pilot["business_unit"],
                program_manager_id=pilot["program_manager_id"],
                workflow_owner_id=pilot["workflow_owner_id"],
                computed_at=now,
                **portfolio.snapshot_columns(figures),
            )
        )
        snapshots[-1].digest = _digest(snapshots[-1])
        history.append(
            ReadinessHistory(
                pilot_id=pilot_id,
                workspace_id=pilot["workspace_id"],
                on=now.astimezone(ZoneInfo(pilot["workspace__timezone"])).date(),
                score=readiness.score,
                weakest_section=readiness.weakest,
                sections={key: value["score"] for key, value in sections.items()},
                computed_at=now,
            )
        )
        if pilot_id in before and before[pilot_id][:2] != (readiness.score, readiness.weakest):
            changed.append(pilot_id)
    same = [s.pilot_id for s in snapshots if s.pilot_id in before and before[s.pilot_id][2] == s.digest]
    with transaction.atomic():
        ReadinessSnapshot.objects.filter(pilot_id__any_of=same).update(computed_at=now)
        unsame = set(same)
        bulk.upsert(
            [s for s in snapshots if s.pilot_id not in unsame],
            unique_fields=["pilot"],
            update_fields=[f.name for f in ReadinessSnapshot._meta.concrete_fields if f.name != "pilot"],
        )
        bulk.upsert(
            history,
            unique_fields=["pilot", "on"],
            update_fields=["score", "weakest_section", "sections", "computed_at"],
        )
        _announce(changed, pilots, before, {s.pilot_id: s for s in snapshots}, now)
        _settle_marks(seen)
    return changed


DIGESTED = [  # attnames: workspace_id, not the workspace
    f.attname
    for f in ReadinessSnapshot._meta.concrete_fields
    if f.name not in {"pilot", "computed_at", "digest"}
]


def _digest(snapshot: ReadinessSnapshot) -> str:
    """Equal content, equal digest (marshal: a tenth of json.dumps's time). A dict built in another order
    only costs one rewrite; so does a new Python version."""
    content = [getattr(snapshot, name) for name in DIGESTED]
    content = [value.timestamp() if isinstance(value, datetime) else value for value in content]
    try:
        data = marshal.dumps(content)
    except ValueError:  # something marshal cannot write (a Decimal in a figure): JSON's text
        data = json.dumps(content, sort_keys=True, default=str).encode()
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _check_rows(results: dict[str, checks.Result], registered: list[checks.Check]) -> list[dict]:
    rows = []
    for c in registered:
        if (result := results.get(c.id)) is not None:
            evidence = result.evidence
            rows.append(
                {
                    "id": c.id,
                    "section": c.section,
                    "title": c.title,
                    "gate": c.gate,
                    "attestable": c.attestable,
                    "status": result.status,
                    "evidence": {"text": evidence.text, "links": [list(link) for link in evidence.links]},
                    "next_action": result.next_action,
                }
            )
    return rows


def _announce(changed: list[int], pilots: dict, before: dict, snapshots: dict, now: datetime) -> None:
    """The "readiness changed" webhook event, for pilots whose score or weakest section moved."""
    if not changed:
        return
    from pilots.models import Workspace
    from pilots.services import webhooks

    by_workspace: dict[int, list[dict]] = {}
    for pilot_id in changed:
        pilot, snapshot = pilots[pilot_id], snapshots[pilot_id]
        score, weakest = before[pilot_id][:2]
        by_workspace.setdefault(pilot["workspace_id"], []).append(
            {
                "pilot": {"id": pilot_id, "name": pilot["name"]},
                "score": snapshot.score,
                "weakest_section": snapshot.weakest_section,
                "previous": {"score": score, "weakest_section": weakest},
                "sections": {k: v["score"] for k, v in snapshot.sections.items()},
            }
        )
    # One read of the endpoints per workspace, however many of its pilots moved (the nightly run).
    for workspace in Workspace.objects.filter(id__in=list(by_workspace)):
        webhooks.emit_events(
            workspace=workspace, event=CHANGED_EVENT, payloads=by_workspace[workspace.pk], now=now
        )


def _settle_marks(seen: dict[int, int]) -> None:
    """Remove the marks this run has answered; ask again for pilots marked while it ran."""
    if not seen:
        return
    items = list(seen.items())
    for start in range(0, len(items), 500):  # a bounded OR per statement
        chunk = Q()
        for pilot_id, generation in items[start : start + 500]:
            chunk |= Q(pilot_id=pilot_id, generation=generation)
        ReadinessMark.objects.filter(chunk).delete()
    again = list(ReadinessMark.objects.filter(pilot_id__in=list(seen)).values_list("pilot_id", flat=True))
    if again:
        ReadinessMark.objects.filter(pilot_id__in=again).update(enqueued_at=None)
        transaction.on_commit(lambda: request_recompute(again))
