"""Learning: the feedback.* checks of DESIGN.md's table (batch queries, never one per pilot)."""

from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone

from feedback import learning
from feedback.models import Correction
from pilots.checks import MISSING, VERIFIED, Evidence, Result, check, pilot_facts, pilot_url

CORRECTIONS_NEEDED = 20
INCORPORATED_SHARE = 0.80
AGE = timedelta(days=30)


def _link(name: str, pilot_id: int, label: str) -> tuple[str, str]:
    return (label, pilot_url(name, pilot_id))


@check(
    id="feedback.corrections_captured",
    section="learning",
    title="At least 20 corrections captured",
    gate="production",
)
def corrections_captured(pilot_ids: list[int]) -> dict[int, Result]:
    counts = dict(
        Correction.objects.filter(pilot_id__any_of=pilot_ids)
        .values_list("pilot_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    results = {}
    for pilot_id in pilot_ids:
        n = counts.get(pilot_id, 0)
        evidence = Evidence(f"{n} correction(s) captured.", (_link("corrections", pilot_id, "Corrections"),))
        if n >= CORRECTIONS_NEEDED:
            results[pilot_id] = Result(VERIFIED, evidence)
        else:
            results[pilot_id] = Result(
                MISSING,
                evidence,
                f"Capture {CORRECTIONS_NEEDED - n} more correction(s): "
                "record them on cases, or override in the review queue.",
            )
    return results


@check(
    id="feedback.incorporated",
    section="learning",
    title="80% of corrections older than 30 days incorporated",
    gate="production",
)
def incorporated(pilot_ids: list[int]) -> dict[int, Result]:
    cutoff = timezone.now() - AGE
    rows = (
        Correction.objects.filter(pilot_id__any_of=pilot_ids, at__lt=cutoff)
        .values_list("pilot_id")
        .annotate(total=Count("id"), done=Count("id", filter=~Q(incorporated_into="")))
        .order_by()
    )
    counts = {pilot_id: (total, done) for pilot_id, total, done in rows}
    results = {}
    for pilot_id in pilot_ids:
        total, done = counts.get(pilot_id, (0, 0))
        links = (_link("corrections", pilot_id, "Unincorporated backlog"),)
        if not total:
            results[pilot_id] = Result(
                MISSING,
                Evidence("No correction is older than 30 days yet.", links),
                "Keep capturing corrections; incorporate them within 30 days.",
            )
            continue
        share = done / total
        evidence = Evidence(
            f"{done} of {total} corrections older than 30 days incorporated ({share:.0%}).", links
        )
        if share >= INCORPORATED_SHARE:
            results[pilot_id] = Result(VERIFIED, evidence)
        else:
            results[pilot_id] = Result(
                MISSING,
                evidence,
                "Incorporate the backlog (AI version, standard, rules or regression set).",
            )
    return results


@check(
    id="feedback.learning_verdict",
    section="learning",
    title="The pilot learns: fewer corrections over time, or few enough",
    gate="production",
)
def learning_verdict(pilot_ids: list[int]) -> dict[int, Result]:
    found = learning.verdicts(pilot_ids)
    acceptable = {
        pilot_id: row["acceptable_correction_rate"] for pilot_id, row in pilot_facts(pilot_ids).items()
    }
    results = {}
    for pilot_id in pilot_ids:
        verdict, latest = found.get(pilot_id, (None, None))
        links = (_link("learning", pilot_id, "Learning"),)
        limit = acceptable.get(pilot_id, 0.05)
        if verdict is None:
            results[pilot_id] = Result(MISSING, Evidence("No decided cases yet.", links), "Decide cases.")
            continue
        text = f"{verdict.label}. {verdict.explanation()}"
        if verdict.kind == learning.IMPROVING:
            results[pilot_id] = Result(VERIFIED, Evidence(text, links))
        elif verdict.kind == learning.FLAT and latest is not None and latest <= limit:
            results[pilot_id] = Result(
                VERIFIED, Evidence(f"{text} Flat at or under the acceptable rate ({limit:.1%}).", links)
            )
        elif verdict.kind == learning.NOT_ENOUGH:
            results[pilot_id] = Result(
                MISSING,
                Evidence(text, links),
                f"Decide at least {learning.MIN_CASES} cases on each side of the comparison.",
            )
        else:
            results[pilot_id] = Result(
                MISSING,
                Evidence(f"{text} The acceptable correction rate is {limit:.1%}.", links),
                "Incorporate corrections into a new AI version and show the rate falling.",
            )
    return results
