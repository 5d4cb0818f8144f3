"""Step 2 of each seeded pilot: its standard, AI versions and cases, as actions on the demo clock."""

import random
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from pilots.demo.domains import DOMAINS
from pilots.demo.fields import Domain
from pilots.demo.records import as_text, make_record
from pilots.models import Outcome, Pilot
from pilots.services import standards as standard_services
from pilots.services.intake import Arrival, ingest

# Step 2 of each pilot that has started: (domain, cases, problem share at first → now, the pilot's own
# system records outcomes, AI versions). Pilots that never passed "standardize inputs" get few cases.
STEP2 = {
    "claims": ("claims", 420, (0.16, 0.04), True, 3),
    "invoices": ("invoices", 460, (0.14, 0.06), True, 3),
    "email": ("email", 380, (0.08, 0.07), True, 2),
    "underwriting": ("underwriting", 260, (0.13, 0.09), False, 2),
    "contracts": ("contracts", 220, (0.10, 0.10), False, 2),
    "disputes": ("disputes", 320, (0.15, 0.11), True, 2),
    "kyc": ("kyc", 70, (0.12, 0.12), False, 2),
    "subrogation": ("subrogation", 200, (0.17, 0.15), False, 2),
    "calls": ("calls", 60, (0.09, 0.09), False, 2),
    "suppliers": ("suppliers", 210, (0.18, 0.15), True, 2),
}
REVISED = {"claims", "invoices"}  # publish a second version of the standard midway
CASE_WINDOW = timedelta(weeks=12)


def _window_start(now: datetime, zone: ZoneInfo) -> datetime:
    """Monday 00:00 (workspace time) of the week CASE_WINDOW ago: twelve whole ISO weeks of cases before
    the current one, whatever the weekday the demo is seeded on. In UTC: arithmetic on a datetime in the
    workspace's zone is wall-clock arithmetic, an hour off across a change to or from summer time."""
    day = (now - CASE_WINDOW).astimezone(zone).date()
    monday = datetime.combine(day - timedelta(days=day.weekday()), datetime.min.time(), tzinfo=zone)
    return monday.astimezone(UTC)


UNDECIDED_FOR = timedelta(days=3)  # cases younger than this have no outcome yet
VERSION_LABELS = ("1.0", "1.1", "2.0")
VERSION_NOTES = (
    "Baseline model from the proof of concept.",
    "Retrained on the first corrections.",
    "New prompt; retrieves the policy wording.",
)
CORRECTION_RATE = (0.16, 0.10, 0.06)  # by AI version: the learning the pilots show
CYCLE_HOURS = (30, 16, 9)  # median hours from arrival to decision, by AI version
COST_PER_TOUCH = Decimal("14.50")

GOES = (Outcome.GO, Outcome.CONDITIONAL_GO)


Action = tuple[datetime, Callable[[Pilot], object]]


def _step2_actions(
    key: str, pm, timeline, *, now: datetime, zone: ZoneInfo, integrated: bool
) -> list[Action]:
    """What happens in step 2 of this pilot, in time order: publish its standard, register its AI
    versions, and receive its cases in weekly batches (uploads, the API, the intake form)."""
    if key not in STEP2 or not timeline or timeline[0][2] not in GOES:
        return []
    domain_key, count, (share_from, share_to), records_outcomes, n_versions = STEP2[key]
    domain = DOMAINS[domain_key]
    rng = random.Random(f"demo-{key}")
    defined_at = timeline[0][1]
    standardized_at = timeline[1][1] if len(timeline) > 1 and timeline[1][2] in GOES else None
    end = next((d for _r, d, o in timeline if o in (Outcome.HOLD, Outcome.STOP)), now)
    standard_at = defined_at + timedelta(days=5)
    first = max(
        standardized_at or standard_at + timedelta(days=2),
        _window_start(now, zone),
        standard_at + timedelta(days=1),
    )
    span = end - first
    revised_at = first + span * 0.55 if key in REVISED else None
    releases = [max(first - timedelta(days=10), defined_at + timedelta(days=1))]
    releases += [first + span * (0.45 if n_versions == 2 else (0.4, 0.75)[i]) for i in range(n_versions - 1)]
    identifiers = [f"{domain.ai_name}-{v}" for v in VERSION_LABELS[:n_versions]]

    actions: list[Action] = [
        (standard_at, _publish(pm, domain, 1, "First version, agreed with the workflow owner.")),
    ]
    if revised_at:
        actions.append(
            (revised_at, _publish(pm, domain, 2, f"Adopts {domain.extras[0][0]}, which every file carries."))
        )
    for identifier, released, notes in zip(identifiers, releases, VERSION_NOTES, strict=False):
        actions.append((released, _register(pm, identifier, released.date(), notes)))

    times = _arrival_times(rng, count, first, end, zone)
    batches: dict[tuple[str, int], list[dict]] = defaultdict(list)
    sources = (
        (["upload", "api", "form"], [0.72, 0.22, 0.06])
        if integrated and standardized_at
        else (["upload", "form"], [0.85, 0.15])
    )
    serial = rng.randint(10001, 40000)
    for n, at in enumerate(times):  # volume grows over time (the ** 0.8 above)
        progress = (at - first) / span
        version = 2 if revised_at and at >= revised_at else 1
        record = make_record(
            rng,
            domain,
            received_at=at,
            zone=zone,
            version=version,
            problem_share=share_from + (share_to - share_from) * progress,
            external_id=domain.id_format.format(serial + n),
        )
        if records_outcomes and at < now - UNDECIDED_FOR:
            record["outcome"] = _outcome(rng, record, sum(r <= at for r in releases) - 1, identifiers)
            if record["outcome"]["decided_at"] > now:
                del record["outcome"]
        batches[(rng.choices(*sources)[0], (at - first).days // 7)].append(record)
    for (source, _week), records in batches.items():
        # A batch is sent once its cases are decided (the pilot's system exports them with their outcome).
        delay = timedelta(days=1, hours=rng.uniform(0, 8)) if source == "upload" else timedelta(minutes=30)
        last = max(r["outcome"]["decided_at"] if "outcome" in r else r["received_at"] for r in records)
        batch_at = min(last + delay, now - timedelta(minutes=1))
        actions.append((batch_at, _receive(pm, source, records, batch_at)))
    return sorted(actions, key=lambda action: action[0])


def _arrival_times(
    rng: random.Random, count: int, first: datetime, end: datetime, zone: ZoneInfo
) -> list[datetime]:
    """`count` arrival times between `first` and `end`, in time order; volume grows over time."""
    span = end - first
    drawn = (first + span * rng.random() ** 0.8 for _ in range(count))
    return sorted(_working_hours(rng, at, zone, first, end) for at in drawn)


def _working_hours(
    rng: random.Random, at: datetime, zone: ZoneInfo, first: datetime, end: datetime
) -> datetime:
    """Most cases arrive on weekdays in office hours, between `first` and `end`."""
    local = at.astimezone(zone).replace(hour=rng.randint(7, 18), minute=rng.randint(0, 59))
    if local.weekday() >= 5 and rng.random() < 0.85:
        local -= timedelta(days=local.weekday() - 4)  # most weekend arrivals are really Friday's
    moved = local.astimezone(UTC)
    return moved if first <= moved < end else at


def _outcome(rng: random.Random, record: dict, version: int, identifiers: list[str]) -> dict:
    """What the pilot's own system records once a case is decided; better with each AI version."""
    troubled = bool(record["kinds"])
    hours = min(CYCLE_HOURS[version] * rng.lognormvariate(0, 0.6) * (1.8 if troubled else 1), 96)
    corrected = rng.random() < CORRECTION_RATE[version] + (0.1 if troubled else 0)
    touchpoints = int(troubled or rng.random() < 0.75 - 0.2 * version) + int(corrected)
    return {
        "decided_at": record["received_at"] + timedelta(hours=hours),
        "corrected": corrected,
        "touchpoints": touchpoints,
        "cost": COST_PER_TOUCH * touchpoints + Decimal("0.40"),
        "ai_version": identifiers[max(version, 0)],
    }


def _publish(pm, domain: Domain, version: int, note: str) -> Callable[[Pilot], object]:
    return lambda pilot: standard_services.publish_standard(
        pilot=pilot, actor=pm, spec=domain.spec(version), note=note
    )


def _register(pm, identifier: str, released_on: date, notes: str) -> Callable[[Pilot], object]:
    return lambda pilot: standard_services.register_ai_version(
        pilot=pilot, actor=pm, identifier=identifier, released_on=released_on, notes=notes
    )


def _receive(pm, source: str, records: list[dict], batch_at: datetime) -> Callable[[Pilot], object]:
    """One batch of cases: an uploaded file (every value text) or JSON from the API or the form."""
    text = source == "upload"

    def cells(values: dict) -> dict:
        return {k: as_text(v) for k, v in values.items()} if text else values

    def receive(pilot: Pilot):
        arrivals = []
        for n, record in enumerate(sorted(records, key=lambda r: r["received_at"])):
            outcome = record.get("outcome") or {}
            if outcome and outcome["decided_at"] > batch_at:
                outcome = {}  # not decided yet when this batch was sent
            arrivals.append(
                Arrival(
                    external_id=record["external_id"],
                    inputs=cells(record["inputs"]),
                    outputs=cells(record["outputs"]),
                    received_at=record["received_at"].isoformat() if text else record["received_at"],
                    outcome=cells(outcome),
                    row=n + 2 if text else None,  # the line in the file, after the header
                )
            )
        return ingest(pilot=pilot, arrivals=arrivals, source=source, actor=pm, audit_event=True)

    return receive
