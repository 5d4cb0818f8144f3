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
    failing: list[tuple[Check, Result]] = []  # due checks under 1
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
                failing.append((item, result))
    sections = [
        SectionScore(section=key, points=points[key], due=due[key], total=total[key]) for key in SECTIONS
    ]
    # Weakest first; ties go to the section listed first: the order of SECTIONS is the order people read.
    rank = {s.section: (s.share, position) for position, s in enumerate(sections) if s.due}
    if not rank:
        return Readiness(score=None, weakest="", sections=sections, failing=[])
    weakest = sections[min(rank.values())[1]]
    failing.sort(
        key=lambda pair: (rank[pair[0].section], float(pair[1].status), pair[0].gate_index, pair[0].id)
    )
    return Readiness(score=weakest.score, weakest=weakest.section, sections=sections, failing=failing)
