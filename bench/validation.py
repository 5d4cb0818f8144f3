"""Part a: records per second through ProdReady's compiled validator vs jsonschema, on the same records."""

import importlib.util

from jsonschema import Draft202012Validator

from bench.measure import median_time, row, say, verdict
from bench.records import SPEC, records
from pilots.models import InputStandard, Pilot
from pilots.standards import json_schema
from pilots.validation import Validator

TARGET_RATE = 200_000
TARGET_RATIO = 15


def schema() -> dict:
    """The standard as other systems get it (pilots.standards.json_schema), plus the cross-field rule,
    which JSON Schema can say with if/then (lateness and comparisons it cannot)."""
    standard = InputStandard(pilot=Pilot(name="Bench"), version=1, **SPEC)
    document = json_schema(standard)
    for rule in SPEC["rules"]:
        document["properties"]["inputs"].setdefault("allOf", []).append(
            {
                "if": {
                    "properties": {rule["if_field"]: {"const": rule["equals"]}},
                    "required": [rule["if_field"]],
                },
                "then": {"required": [rule["then_field"]]},
            }
        )
    return document


def _count_prodready(validator: Validator, batch: list[dict]) -> int:
    """Check every record; each problem carries its field path. Returns how many problems were found."""
    check, found = validator.check, 0
    for record in batch:
        found += len(check(record["inputs"], record["outputs"]).problems)
    return found


def _count_jsonschema(validator: Draft202012Validator, batch: list[dict]) -> int:
    """The same with jsonschema: every error of every record, with its path."""
    found = 0
    for record in batch:
        for error in validator.iter_errors(record):
            found += error.absolute_path is not None
    return found


def _paths_prodready(validator: Validator, batch: list[dict]) -> list[set[str]]:
    return [
        {path for path, _kind, _text in validator.check(r["inputs"], r["outputs"]).problems} for r in batch
    ]


def _paths_jsonschema(validator: Draft202012Validator, batch: list[dict]) -> list[set[str]]:
    out = []
    for record in batch:
        paths = set()
        for error in validator.iter_errors(record):
            path = [str(p) for p in error.absolute_path]
            if error.validator == "required":  # the missing field is named by the error, not by its path
                path += [name for name in error.validator_value if name not in error.instance][:1]
            paths.add(".".join(path))
        out.append(paths)
    return out


def run(*, quick: bool, repetitions: int) -> dict:
    n_fast, n_slow = (20_000, 2_000) if quick else (100_000, 10_000)
    batch = records(n_fast)
    reference_batch = batch[:n_slow]
    ours = Validator(SPEC)
    theirs = Draft202012Validator(schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)
    ours_time, found = median_time(lambda: _count_prodready(ours, batch), repetitions)
    theirs_time, _found = median_time(lambda: _count_jsonschema(theirs, reference_batch), repetitions)
    rate, reference = n_fast / ours_time, n_slow / theirs_time
    ratio = rate / reference
    # Untimed: both find the same problems at the same field paths, on the records both checked.
    ours_paths = _paths_prodready(ours, batch)
    theirs_paths = _paths_jsonschema(theirs, reference_batch)
    agree = sum(a == b for a, b in zip(ours_paths, theirs_paths, strict=False)) / n_slow
    flagged = sum(bool(paths) for paths in ours_paths) / n_fast
    say(f"a. Validation: 12-field standard, {n_fast:,} typed records ({flagged:.1%} with problems), "
        f"median of {repetitions} runs")  # fmt: skip
    row(
        "ProdReady Validator",
        f"{rate:,.0f} records/s",
        f"target ≥ {TARGET_RATE:,}/s: {verdict(rate >= TARGET_RATE)}",
    )
    row(
        "jsonschema Draft202012",
        f"{reference:,.0f} records/s",
        f"reference, on {n_slow:,} of the same records",
    )
    row("ratio", f"{ratio:.1f}× jsonschema", f"target ≥ {TARGET_RATIO}×: {verdict(ratio >= TARGET_RATIO)}")
    row("field paths", f"{found[0]:,} problems", f"each with its path; both agree on {agree:.1%} of records")
    if importlib.util.find_spec("rfc3339_validator") is None:
        say("   note: without rfc3339-validator (not installed) jsonschema skips the date-time format check "
            "that ProdReady makes")  # fmt: skip
    return {"rate": rate, "reference": reference, "ratio": ratio, "agree": agree}
