"""One realistic case of a kind of pilot, with the problems real feeds have."""

import random
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pilots.demo.fields import Domain, _email

# How often each kind of problem appears among the cases that have one (a case may have two).
PROBLEM_MIX = {
    "missing": 0.34,
    "invalid": 0.30,
    "contradictory": 0.12,
    "late": 0.14,
    "outside_boundary": 0.10,
}


def _enum_value(r: random.Random, allowed: list[str]) -> str:
    # The first allowed value is the most common, as in real workflows.
    return r.choices(allowed, weights=[1 / (i + 1) ** 0.8 for i in range(len(allowed))])[0]


def _moment_text(field: dict, moment: datetime) -> str:
    return moment.date().isoformat() if field["type"] == "date" else moment.isoformat(timespec="seconds")


def _value(r: random.Random, field: dict, event: datetime) -> Any:
    gen, kind = field["gen"], field["type"]
    if gen is not None:
        value = gen(r, event)
    elif kind == "enum":
        value = _enum_value(r, field["allowed"])
    elif kind == "email":
        value = _email(r, event)
    elif kind == "boolean":
        value = r.random() < 0.25
    else:  # the event field itself
        return _moment_text(field, event)
    if kind in ("number", "integer"):
        low, high = field.get("min"), field.get("max")
        value = max(value, low) if low is not None else value
        value = min(value, high) if high is not None else value
    return value


def _lag(r: random.Random, domain: Domain, kind: str) -> timedelta:
    """How long after its event a case arrives: mostly well inside the standard's limit."""
    limit = domain.max_lateness_hours
    room = max(limit * 0.8 - (24 if kind == "date" else 0), limit * 0.1)
    return timedelta(hours=min(r.lognormvariate(0, 1) * limit / 8, room))


def _bad(r: random.Random, field: dict, value: Any) -> Any:
    """A wrong value of the kind real feeds send for this field, or None when there is none."""
    kind = field["type"]
    if kind in ("number", "integer"):
        number = value if type(value) in (int, float) and value else 1250.0
        text = f"{number:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
        options = [text]  # a European decimal comma
        if field.get("max") is not None:
            options.append(field["max"] * 10 if field["max"] else 1000)
        if field.get("min") is not None and field["min"] >= 0:
            options.append(-abs(number))
        return r.choice(options)
    if kind == "enum":
        return r.choice(
            [
                str(value).upper() if str(value).upper() != str(value) else str(value).lower() + "s",
                "other",
                "n/a",
                "unknown",
            ]
        )
    if kind == "email":
        return r.choice([str(value).replace("@", " at "), str(value).split("@")[0], str(value) + ";"])
    if kind in ("date", "datetime"):
        try:
            moment = datetime.fromisoformat(value)
        except (TypeError, ValueError):
            moment = datetime(2026, 2, 14, 9, 30)
        if kind == "date":
            return r.choice([moment.strftime("%d.%m.%Y"), moment.strftime("%m/%d/%Y"), "TBD"])
        return r.choice(
            [moment.strftime("%d.%m.%Y %H:%M"), moment.strftime("%b %d %Y %I:%M %p"), "yesterday"]
        )
    if kind == "boolean":
        return r.choice(["maybe", "unknown", "2"])
    if field.get("pattern") and value:
        bad = r.choice([str(value).replace("-", ""), str(value).lower(), " " + str(value), "TBD"])
        return bad if bad != value else "TBD"
    if field.get("max_length"):
        return "x" * (field["max_length"] + 5)
    return None


def _shift(field: dict, value: Any, r: random.Random, sign: int) -> Any:
    if field["type"] == "date":
        return (date.fromisoformat(value) + timedelta(days=sign * r.randint(1, 90))).isoformat()
    if field["type"] == "datetime":
        return (datetime.fromisoformat(value) + timedelta(hours=sign * r.uniform(1, 48))).isoformat(
            timespec="seconds"
        )
    return value + sign * max(abs(value), 1) * r.uniform(0.1, 1)


def _spoil(r: random.Random, domain: Domain, fields: tuple[dict, ...], record: dict, kind: str) -> None:
    """Give a clean record one problem of `kind`, the way it happens in real feeds."""
    inputs, outputs = record["inputs"], record["outputs"]
    by_name = {f["name"]: f for f in fields}
    if kind == "missing":
        if r.random() < 0.15:
            name = r.choice([f["name"] for f in domain.outputs if f["required"]])
            outputs.pop(name, None)
        else:
            name = r.choice([f["name"] for f in fields if f["required"] and f["name"] != domain.event_field])
            if r.random() < 0.5:
                inputs.pop(name, None)
            else:
                inputs[name] = ""
    elif kind == "invalid":
        for _attempt in range(5):
            spec = r.choice(fields)
            bad = _bad(r, spec, inputs.get(spec["name"]))
            if bad is not None:
                inputs[spec["name"]] = bad
                return
    elif kind == "contradictory":
        rule = r.choice(domain.rules)
        if rule["kind"] == "requires":
            inputs[rule["if_field"]] = rule["equals"]
            inputs.pop(rule["then_field"], None)
        else:
            left, right = by_name[rule["left"]], by_name[rule["right"]]
            sign = -1 if rule["op"] in (">", ">=") else 1
            try:
                inputs[left["name"]] = _shift(left, inputs[right["name"]], r, sign)
            except (KeyError, TypeError, ValueError):  # the right side is missing or spoilt already
                inputs[right["name"]] = _value(r, right, record["event"])
                inputs[left["name"]] = _shift(left, inputs[right["name"]], r, sign)
    elif kind == "late":
        event_field = by_name[domain.event_field]
        hours = domain.max_lateness_hours * r.uniform(1.3, 5) + (24 if event_field["type"] == "date" else 0)
        record["event"] = record["received_at"] - timedelta(hours=hours)
        inputs[domain.event_field] = _moment_text(event_field, record["event"].astimezone(record["zone"]))
    else:  # outside_boundary: a column the standard does not have
        names = set(by_name)
        name, value = r.choice([x for x in domain.extras if x[0] not in names])
        inputs[name] = value


def make_record(
    r: random.Random,
    domain: Domain,
    *,
    received_at: datetime,
    zone: ZoneInfo,
    problem_share: float,
    version: int = 1,
    external_id: str = "",
) -> dict:
    """A realistic case of `domain` arriving at `received_at`: inputs, outputs and the intended problems."""
    fields = domain.fields(version)
    by_name = {f["name"]: f for f in fields}
    event = (received_at - _lag(r, domain, by_name[domain.event_field]["type"])).astimezone(zone)
    inputs = {f["name"]: _value(r, f, event) for f in fields if f["required"] or r.random() < f["p"]}
    if external_id and domain.id_field:
        inputs[domain.id_field] = external_id
    for rule in domain.rules:
        if rule["kind"] == "requires" and inputs.get(rule["if_field"]) == rule["equals"]:
            inputs.setdefault(rule["then_field"], _value(r, by_name[rule["then_field"]], event))
    outputs = {f["name"]: _value(r, f, event) for f in domain.outputs}
    record = {"inputs": inputs, "outputs": outputs, "event": event, "received_at": received_at, "zone": zone}
    kinds: list[str] = []
    if r.random() < problem_share:
        kinds = r.choices(
            list(PROBLEM_MIX), weights=list(PROBLEM_MIX.values()), k=2 if r.random() < 0.15 else 1
        )
        for kind in dict.fromkeys(kinds):
            _spoil(r, domain, fields, record, kind)
    record["kinds"] = kinds
    record["external_id"] = external_id
    return record


def as_text(value: Any) -> str:
    """A value as a CSV cell."""
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    return str(value)
