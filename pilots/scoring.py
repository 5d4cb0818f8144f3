"""Readiness scores from check results (DESIGN.md "Readiness"): pure arithmetic, no queries.

Each due check scores 1 (verified by the pilot's own data), 0.5 (attested by a person) or 0 (missing).
A section's score is the share of the points of its due checks; a section with no due check is "not
yet due" and left out. The pilot's readiness is its weakest section: a pilot is only as ready as its
weakest part.
"""

import math
from dataclasses import dataclass

from pilots import checks
from pilots.checks import SECTIONS, Check, Result


def percent(share: float) -> int:
    """0.8333 → 83, 0.125 → 13 (half up; Python's round() would give banker's rounding)."""
    return math.floor(share * 100 + 0.5)


@dataclass(frozen=True)
class SectionScore:
    section: str
    points: float
    due: int  # due checks in the section
    total: int  # all checks in the section

    @property
    def label(self) -> str:
        return SECTIONS[self.section]

    @property
    def share(self) -> float | None:
        return self.points / self.due if self.due else None

    @property
    def score(self) -> int | None:
        share = self.share
        return None if share is None else percent(share)

    def as_dict(self) -> dict:
        return {"score": self.score, "points": self.points, "due": self.due, "checks": self.total}


@dataclass(frozen=True)
class Readiness:
    score: int | None  # None only when no check is due at all
    weakest: str  # the weakest section's key, "" when none is due
    sections: list[SectionScore]  # every section, in SECTIONS order
    failing: list[tuple[Check, Result]]  # due checks below 1: weakest section first, missing before attested


def score(results: dict[str, Result]) -> Readiness:
    """The readiness of one pilot from its results (check id → Result, as `checks.evaluate` gives).
    One pass over the checks (the readiness engine scores ten thousand pilots a night)."""
    points = dict.fromkeys(SECTIONS, 0.0)
    due = dict.fromkeys(SECTIONS, 0)
    total = dict.fromkeys(SECTIONS, 0)
    below: list[tuple[Check, Result, float]] = []  # due checks under 1, in check order
    for item in checks.all_checks():
        result = results.get(item.id)
        if result is None:
            continue
        section = item.section
        total[section] += 1
        if result.status != checks.NOT_DUE:
            status = float(result.status)
            due[section] += 1
            points[section] += status
            if status < 1:
                below.append((item, result, status))
    sections = [
        SectionScore(section=key, points=points[key], due=due[key], total=total[key]) for key in SECTIONS
    ]
    ranked = [s for s in sections if s.due]
    if not ranked:
        return Readiness(score=None, weakest="", sections=sections, failing=[])
    order = list(SECTIONS)
    # Ties go to the section listed first: the order of SECTIONS is the order people read them in.
    weakest = min(ranked, key=lambda s: (s.share, order.index(s.section)))
    rank = {s.section: (s.share, order.index(s.section)) for s in ranked}
    failing = [
        (c, r)
        for c, r, _status in sorted(
            below, key=lambda row: (rank[row[0].section], row[2], row[0].gate_index, row[0].id)
        )
    ]
    return Readiness(score=weakest.score, weakest=weakest.section, sections=sections, failing=failing)
