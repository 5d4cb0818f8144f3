"""Routing compiled: a published rule table becomes one generated Python function.

Routing runs on every arriving case (hundreds of thousands a second in an upload), so a table is
compiled once per version into straight-line source — one `if` per rule, each clause an inline
expression — with the semantics of `exceptions.rules.clause_holds`, which the tests hold it to.
"""

import zlib
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from exceptions.rules import NUMBER_TYPES, fields_of

SAMPLE_SCALE = 10000  # sampling resolution: 0.01 %


def sample_bucket(pilot_id: int, external_id: str) -> int:
    """A case's place in 0…9999, fixed by its identity: the same case is always (or never) sampled."""
    return zlib.crc32(f"{pilot_id}:{external_id}".encode()) % SAMPLE_SCALE


def _date(value):
    if type(value) is not str:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _datetime(value):
    if type(value) is not str:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


PY_OPS = {"lt": "<", "le": "<=", "eq": "==", "ne": "!=", "ge": ">=", "gt": ">"}


def _clause_source(clause: dict, kind: str, n: int, consts: dict[str, Any]) -> str:
    """One clause as an expression over `i` (inputs), `o` (outputs) and `k` (problem kinds)."""
    field, op, expected = clause["field"], clause["op"], clause.get("value")
    part, name = field.split(".", 1)
    if part == "problems":
        return f"({name!r} in k)" if op == "is_true" else f"({name!r} not in k)"
    source = "i" if part == "inputs" else "o"
    v = f"v{n}"
    get = f"({v} := {source}.get({name!r}))"
    if op == "is_empty":
        return f"({get} is None or {v} == '')"
    if op == "is_present":
        return f"({get} is not None and {v} != '')"
    if kind == "boolean":
        return f"({get} is {op == 'is_true'})"
    const = f"c{n}"
    if op in ("in", "not_in"):
        consts[const] = frozenset(expected)
        test = f"{v} {'in' if op == 'in' else 'not in'} {const}"
    elif op == "contains":
        consts[const] = expected.casefold()
        test = f"{const} in {v}.casefold()"
    elif op == "starts_with":
        consts[const] = expected.casefold()
        test = f"{v}.casefold().startswith({const})"
    else:
        consts[const] = expected
        test = f"{v} {PY_OPS[op]} {const}"
    if kind in ("integer", "number"):
        return f"(type({get}) in NUMBER and {test})"
    if kind in ("date", "datetime"):
        parse = "_date" if kind == "date" else "_datetime"
        consts[const] = _date(expected) if kind == "date" else _datetime(expected)
        return f"(({v} := {parse}({source}.get({name!r}))) is not None and {test})"
    if op in ("ne", "not_in"):  # "" is empty, like an absent value: it meets no comparison
        return f"(type({get}) is str and {v} != '' and {test})"
    return f"(type({get}) is str and {test})"


@dataclass(frozen=True)
class RuleInfo:
    """What routing needs of a rule, detached from the database row."""

    id: int
    position: int
    action: str
    route: str
    label: str
    sample_threshold: int  # buckets below this are sampled (sample_percent × 100)
    service_level_hours: int | None
    reviewer_id: int | None


class Router:
    """A compiled table. `match(inputs, outputs, kinds)` → the index of the first matching rule."""

    def __init__(self, clause_lists: list[list[dict]], types: dict[str, str]):
        consts: dict[str, Any] = {}
        lines = ["def match(i, o, k):"]
        n = 0
        for index, clauses in enumerate(clause_lists):
            if not clauses:
                lines.append(f"    return {index}")
                break
            tests = []
            for clause in clauses:
                tests.append(_clause_source(clause, types.get(clause["field"], "flag"), n, consts))
                n += 1
            lines.append(f"    if {' and '.join(tests)}:")
            lines.append(f"        return {index}")
        else:
            lines.append(f"    return {len(clause_lists) - 1}")
        self.source = "\n".join(lines)
        namespace: dict[str, Any] = {
            "NUMBER": frozenset(NUMBER_TYPES),
            "_date": _date,
            "_datetime": _datetime,
        }
        namespace.update(consts)
        exec(compile(self.source, "<routing rules>", "exec"), namespace)  # noqa: S102 — our own generated code
        self.match = namespace["match"]
        self.uses_flags = any(c["field"].startswith("problems.") for cl in clause_lists for c in cl)


@dataclass(frozen=True)
class CompiledTable:
    table_id: int
    version: int
    rules: tuple[RuleInfo, ...]
    router: Router


@lru_cache(maxsize=256)
def compiled(table_id: int, published_at: datetime | None = None) -> CompiledTable:
    """The compiled table, built once per published version (tables are immutable).

    Routing passes the table's publication time too: an id alone names different tables over time
    (SQLite hands a rolled-back transaction's ids out again; a flushed database starts over)."""
    from exceptions.models import RuleTable  # the models import this module's helpers

    table = RuleTable.objects.select_related("pilot").get(pk=table_id)
    rows = list(table.rules.order_by("position"))
    standard = (
        table.pilot.standards.filter(version=table.standard_version).first()
        if table.standard_version
        else None
    )
    types = {path: info.type for path, info in fields_of(standard.spec() if standard else None).items()}
    rules = tuple(
        RuleInfo(
            id=row.pk,
            position=row.position,
            action=row.action,
            route=row.route,
            label=row.label,
            sample_threshold=int(row.sample_percent * 100),
            service_level_hours=row.service_level_hours,
            reviewer_id=row.reviewer_id,
        )
        for row in rows
    )
    return CompiledTable(table.pk, table.version, rules, Router([row.clauses for row in rows], types))
