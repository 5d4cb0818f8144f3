"""Edge cases, step 2: a standard for inputs, rules for contradictions and lateness, conformance."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q

from pilots.checks import (
    MISSING,
    VERIFIED,
    Evidence,
    Result,
    case_counts,
    case_facts,
    check,
    pilot_facts,
    pilot_url,
    shared,
)
from pilots.models import CONFORMING, InputStandard

MIN_VALIDATED = 50
WINDOW = timedelta(days=30)


@case_counts
def _inputs_counts(now) -> dict:
    since = now - WINDOW
    return {
        "validated_30d": Count("id", filter=Q(standard_version__isnull=False, received_at__gte=since)),
        "conforming_30d": Count("id", filter=CONFORMING & Q(received_at__gte=since)),
        "contradictory": Count("id", filter=Q(has_contradictory=True)),
        "late": Count("id", filter=Q(has_late=True)),
    }


@dataclass(frozen=True)
class StandardSummary:
    """What the checks read of a pilot's latest standard."""

    version: int
    required: int  # how many input fields are required
    has_rules: bool
    has_lateness: bool


# Standards are never edited (a change publishes the next version), so a version's summary is computed
# once per process: a full recompute then reads four columns of each pilot's standards instead of
# decoding every standard's JSON (a fifth of a second per 2,000 pilots). Keyed like the compiled rule
# tables, by id and publication time: an id alone can name different rows over time (a flushed or
# rolled-back database hands ids out again).
_SUMMARIES: dict[tuple[int, datetime], StandardSummary] = {}
MAX_SUMMARIES = 50_000


def _summaries_of(keys: list[tuple[int, datetime]]) -> dict[tuple[int, datetime], StandardSummary]:
    missing = [key for key in keys if key not in _SUMMARIES]
    if missing:
        if len(_SUMMARIES) + len(missing) > MAX_SUMMARIES:
            _SUMMARIES.clear()
        rows = InputStandard.objects.filter(pk__any_of=[pk for pk, _ in missing]).values_list(
            "pk", "published_at", "version", "inputs", "rules", "event_time_field", "max_lateness_hours"
        )
        for pk, published_at, version, inputs, rules, event_time_field, max_lateness_hours in rows:
            _SUMMARIES[(pk, published_at)] = StandardSummary(
                version=version,
                required=sum(1 for f in inputs if f.get("required")),
                has_rules=bool(rules),
                has_lateness=bool(event_time_field and max_lateness_hours),
            )
    return {key: _SUMMARIES[key] for key in keys if key in _SUMMARIES}


@shared
def _latest_standards(pilot_ids: list[int]) -> dict[int, StandardSummary]:
    latest: dict[int, tuple[int, datetime]] = {}
    rows = (
        InputStandard.objects.filter(pilot_id__any_of=pilot_ids)
        .order_by("pilot_id", "version")
        .values_list("pilot_id", "pk", "published_at")
    )
    for pilot_id, pk, published_at in rows:
        latest[pilot_id] = (pk, published_at)
    summaries = _summaries_of(list(latest.values()))
    return {pilot_id: summaries[key] for pilot_id, key in latest.items() if key in summaries}


def _standard_link(pilot_id: int) -> tuple[str, str]:
    return ("Input standard", pilot_url("standard", pilot_id))


@check(
    id="inputs.standard",
    section="edge_cases",
    title="Input standard in use",
    gate="exception_paths",
    attestable=True,
)
def standard_in_use(pilot_ids: list[int]) -> dict[int, Result]:
    standards = _latest_standards(pilot_ids)
    facts = case_facts(pilot_ids)
    results = {}
    for pilot_id in pilot_ids:
        standard = standards.get(pilot_id)
        required = standard.required if standard else 0
        count = facts.get(pilot_id, {}).get("validated_30d", 0)
        if standard is None or not required:
            results[pilot_id] = Result(
                MISSING,
                Evidence("No input standard with required fields is published.", (_standard_link(pilot_id),)),
                "Publish an input standard that names the fields every case must carry.",
            )
        elif count < MIN_VALIDATED:
            results[pilot_id] = Result(
                MISSING,
                Evidence(
                    f"Standard v{standard.version} requires {required} field(s); {count} case(s) "
                    f"were validated against it in 30 days (needs {MIN_VALIDATED}).",
                    (_standard_link(pilot_id),),
                ),
                f"Send the pilot's cases to ProdReady: {MIN_VALIDATED - count} more within 30 days.",
            )
        else:
            results[pilot_id] = Result(
                VERIFIED,
                Evidence(
                    f"Standard v{standard.version} ({required} required fields); {count} cases "
                    "validated against it in 30 days.",
                    (_standard_link(pilot_id),),
                ),
            )
    return results


@check(
    id="inputs.edge_rules",
    section="edge_cases",
    title="Contradiction and lateness rules fire on real cases",
    gate="exception_paths",
    attestable=True,
)
def edge_rules(pilot_ids: list[int]) -> dict[int, Result]:
    standards = _latest_standards(pilot_ids)
    fired = case_facts(pilot_ids)
    results = {}
    for pilot_id in pilot_ids:
        standard = standards.get(pilot_id)
        has_rules = bool(standard and standard.has_rules)
        has_lateness = bool(standard and standard.has_lateness)
        row = fired.get(pilot_id, {"contradictory": 0, "late": 0})
        if not (has_rules and has_lateness):
            missing = [
                w for w, ok in (("cross-field rule", has_rules), ("lateness limit", has_lateness)) if not ok
            ]
            results[pilot_id] = Result(
                MISSING,
                Evidence(f"The standard has no {' and no '.join(missing)}.", (_standard_link(pilot_id),)),
                "Add a cross-field rule for contradictory inputs and the maximum age of a case at arrival.",
            )
        elif not (row["contradictory"] and row["late"]):
            results[pilot_id] = Result(
                MISSING,
                Evidence(
                    f"The rules exist but have caught {row['contradictory']} contradictory and "
                    f"{row['late']} late case(s) so far."
                ),
                "Feed real cases, including messy ones, so the rules show they catch what they should.",
            )
        else:
            results[pilot_id] = Result(
                VERIFIED,
                Evidence(f"Caught {row['contradictory']} contradictory and {row['late']} late case(s)."),
            )
    return results


@check(
    id="inputs.conformance",
    section="edge_cases",
    title="Inputs conform to the standard",
    gate="production",
)
def conformance(pilot_ids: list[int]) -> dict[int, Result]:
    thresholds = {pilot_id: row["conformance_threshold"] for pilot_id, row in pilot_facts(pilot_ids).items()}
    facts = case_facts(pilot_ids)
    results = {}
    for pilot_id in pilot_ids:
        threshold = thresholds.get(pilot_id, 0.95)
        row = facts.get(pilot_id, {})
        total, conforming = row.get("received_30d", 0), row.get("conforming_30d", 0)  # received: the hub's
        if not total:
            results[pilot_id] = Result(
                MISSING,
                Evidence("No cases arrived in the last 30 days."),
                "Send the pilot's cases to ProdReady.",
            )
            continue
        share = conforming / total
        text = (
            f"{share:.1%} of {total} cases in 30 days conformed to the standard (threshold {threshold:.0%})."
        )
        if share >= threshold:
            results[pilot_id] = Result(VERIFIED, Evidence(text))
        else:
            results[pilot_id] = Result(
                MISSING,
                Evidence(text, (("Cases with problems", pilot_url("case_list", pilot_id) + "?conforms=no"),)),
                "Fix the most frequent problems at their source (see the conformance breakdown).",
            )
    return results
