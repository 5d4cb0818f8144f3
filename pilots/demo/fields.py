"""The makings of a kind of pilot: field and value makers, the rules, and `Domain` itself."""

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pilots.validation import validate_standard

# ---------------------------------------------------------------------------------------------------
# Step 2: what each kind of pilot receives. A field is a standard's field plus how to make a realistic
# value for it: `gen(rng, event_time)`, and `p`, how often an optional field is filled in.

Gen = Callable[[random.Random, datetime], Any]
FIRST_NAMES = ("anna", "ben", "carla", "deniz", "emil", "fatma", "greta", "hugo", "ines", "jonas", "lena")
LAST_NAMES = ("schmidt", "meyer", "novak", "rossi", "dubois", "jansen", "kowalski", "garcia", "weber")
COMPANIES = ("Brightline GmbH", "Nordlicht AG", "Atlas Logistics BV", "Helios Parts Ltd", "Vega Foods SA")
MAIL_DOMAINS = ("example.com", "mail.example.org", "kunden.example.de", "corp.example.net")
SUBJECTS = (
    "Rechnung 2291",
    "Change of address",
    "Complaint",
    "Kündigung",
    "Question about my claim",
    "Re: offer",
)


def _f(name: str, type: str, gen: Gen | None = None, *, req: bool = False, p: float = 0.85, **rules) -> dict:
    return {"name": name, "type": type, "required": req, "gen": gen, "p": 1.0 if req else p, **rules}


def _code(fmt: str, lo: int, hi: int) -> Gen:
    return lambda r, e: fmt.format(r.randint(lo, hi))


def _money(median: float, sigma: float = 0.9) -> Gen:
    return lambda r, e: round(median * r.lognormvariate(0, sigma), 2)


def _ints(lo: int, hi: int) -> Gen:
    return lambda r, e: r.randint(lo, hi)


def _share(lo: float, hi: float) -> Gen:
    return lambda r, e: round(r.uniform(lo, hi), 3)


def _days(lo: int, hi: int) -> Gen:
    """A date `lo`…`hi` days from the event."""
    return lambda r, e: (e.date() + timedelta(days=r.randint(lo, hi))).isoformat()


def _hours(lo: float, hi: float) -> Gen:
    """A moment `lo`…`hi` hours (elapsed: in UTC, not by the wall clock) from the event."""
    return lambda r, e: (
        (e.astimezone(UTC) + timedelta(hours=r.uniform(lo, hi)))
        .astimezone(e.tzinfo)
        .isoformat(timespec="seconds")
    )


def _pick(*values) -> Gen:
    return lambda r, e: r.choice(values)


def _email(r: random.Random, e: datetime) -> str:
    return f"{r.choice(FIRST_NAMES)}.{r.choice(LAST_NAMES)}{r.randint(1, 99)}@{r.choice(MAIL_DOMAINS)}"


def _phone(r: random.Random, e: datetime) -> str:
    return f"+49 {r.randint(30, 899)} {r.randint(100000, 9999999)}"


def _person(r: random.Random, e: datetime) -> str:
    return f"{r.choice(FIRST_NAMES).capitalize()} {r.choice(LAST_NAMES).capitalize()}"


CONFIDENCE = _f("confidence", "number", lambda r, e: round(r.betavariate(9, 2), 3), req=True, min=0, max=1)
CURRENCY = _f("currency", "enum", req=True, allowed=["EUR", "USD", "GBP", "CHF"])


@dataclass(frozen=True)
class Domain:
    """A kind of pilot: its standard (with value makers), AI name, and the stray fields its files carry."""

    key: str
    ai_name: str
    id_format: str  # external ids: id_format.format(n)
    inputs: tuple[dict, ...]
    outputs: tuple[dict, ...]
    rules: tuple[dict, ...]
    event_field: str
    max_lateness_hours: float
    extras: tuple[tuple[str, str], ...]  # (name, value): columns that turn up in files, not in the standard
    id_field: str = ""  # the input that holds the case's external id, when one does

    def fields(self, version: int = 1) -> tuple[dict, ...]:
        """Version 2 adopts the stray column that kept arriving (it stops being outside the boundary)."""
        if version < 2:
            return self.inputs
        name, value = self.extras[0]
        return (*self.inputs, _f(name, "string", _pick(value), p=0.7))

    def spec(self, version: int = 1) -> dict:
        def plain(f: dict) -> dict:
            return {k: v for k, v in f.items() if k not in ("gen", "p")}

        return validate_standard(
            {
                "inputs": [plain(f) for f in self.fields(version)],
                "outputs": [plain(f) for f in self.outputs],
                "rules": list(self.rules),
                "event_time_field": self.event_field,
                "max_lateness_hours": self.max_lateness_hours,
            }
        )


def _requires(if_field: str, equals: str, then_field: str) -> dict:
    return {"kind": "requires", "if_field": if_field, "equals": equals, "then_field": then_field}


def _compare(left: str, op: str, right: str) -> dict:
    return {"kind": "compare", "left": left, "op": op, "right": right}
