"""The bench's 12-field standard and its records: typed (as JSON arrives) or as CSV text, 10% with problems.

The problems are ones both ProdReady's validator and JSON Schema can see (missing required fields, wrong
types, values outside a range or an enum, a broken pattern or email, the cross-field rule), so both do
the same work on the same records.
"""

import csv
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pilots.validation import validate_standard

SPEC = validate_standard(
    {
        "inputs": [
            {"name": "claim_id", "type": "string", "required": True, "pattern": r"^CLM-\d{6}$"},
            {"name": "policy_number", "type": "string", "required": True, "max_length": 20},
            {"name": "amount", "type": "number", "required": True, "min": 0, "max": 250000},
            {"name": "currency", "type": "enum", "required": True, "allowed": ["EUR", "USD", "GBP", "CHF"]},
            {"name": "channel", "type": "enum", "required": True,
             "allowed": ["web", "phone", "email", "broker"]},
            {"name": "phone_number", "type": "string"},
            {"name": "incident_at", "type": "datetime", "required": True},
            {"name": "injured", "type": "boolean", "required": True},
            {"name": "claimant_email", "type": "email"},
            {"name": "vehicles", "type": "integer", "min": 0, "max": 10},
        ],
        "outputs": [
            {"name": "category", "type": "enum", "required": True,
             "allowed": ["motor", "property", "liability", "injury"]},
            {"name": "confidence", "type": "number", "required": True, "min": 0, "max": 1},
        ],
        "rules": [
            {"kind": "requires", "if_field": "channel", "equals": "phone", "then_field": "phone_number"}
        ],
    }
)  # fmt: skip
FIELDS = [f["name"] for f in SPEC["inputs"]]
OUTPUTS = [f["name"] for f in SPEC["outputs"]]
PROBLEM_SHARE = 0.10


def _spoil(r: random.Random, inputs: dict, outputs: dict) -> None:
    kind = r.randrange(9)
    if kind == 0:
        del inputs[r.choice(["policy_number", "amount", "currency", "incident_at"])]
    elif kind == 1:
        inputs["currency"] = r.choice(["eur", "Euro", "YEN"])
    elif kind == 2:
        inputs["amount"] = r.choice([-12.5, 990000.0])
    elif kind == 3:
        inputs["claim_id"] = inputs["claim_id"].replace("-", "")
    elif kind == 4:
        inputs["claimant_email"] = "jane.doe at example.com"
    elif kind == 5:
        inputs["channel"] = "phone"
        inputs.pop("phone_number", None)
    elif kind == 6:
        outputs["confidence"] = 1.7
    elif kind == 7:
        inputs["vehicles"] = 2.5
    else:
        del outputs["category"]


def records(n: int, *, seed: int = 7) -> list[dict]:
    """`n` typed records {external_id, inputs, outputs}; PROBLEM_SHARE of them have one problem."""
    r = random.Random(seed)
    base = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    out = []
    for i in range(n):
        channel = r.choice(["web", "web", "phone", "email", "broker"])
        inputs = {
            "claim_id": f"CLM-{r.randint(100000, 999999)}",
            "policy_number": f"PHL-{r.randint(1000000, 9999999)}",
            "amount": round(r.lognormvariate(7.5, 1), 2),
            "currency": r.choice(["EUR", "EUR", "EUR", "USD", "GBP", "CHF"]),
            "channel": channel,
            "incident_at": (base + timedelta(minutes=r.randint(0, 200000))).isoformat(),
            "injured": r.random() < 0.15,
            "claimant_email": f"client{r.randint(1, 99999)}@example.com",
            "vehicles": r.randint(0, 3),
        }
        if channel == "phone" or r.random() < 0.3:
            inputs["phone_number"] = f"+49 30 {r.randint(100000, 9999999)}"
        inputs["amount"] = min(inputs["amount"], 250000)
        outputs = {
            "category": r.choice(["motor", "property", "liability", "injury"]),
            "confidence": r.random(),
        }
        if r.random() < PROBLEM_SHARE:
            _spoil(r, inputs, outputs)
        out.append({"external_id": f"case-{i:07d}", "inputs": inputs, "outputs": outputs})
    return out


def _cell(value) -> str:
    if value is True or value is False:
        return "true" if value else "false"
    return "" if value is None else str(value)


def write_csv(path: Path, n: int, *, seed: int = 7) -> None:
    """A CSV file of `n` cases (the upload format), written in slices so memory stays small."""
    header = ["external_id", *FIELDS, *(f"output.{name}" for name in OUTPUTS), "received_at"]
    received = datetime(2026, 6, 1, 9, 0, tzinfo=UTC).isoformat()
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for start in range(0, n, 10_000):
            for record in records(min(10_000, n - start), seed=seed + start):
                number = int(record["external_id"].split("-")[1]) + start
                writer.writerow(
                    [f"case-{number:07d}"]
                    + [_cell(record["inputs"].get(name)) for name in FIELDS]
                    + [_cell(record["outputs"].get(name)) for name in OUTPUTS]
                    + [received]
                )
