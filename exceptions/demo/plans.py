"""The demo's rule tables, one plan per pilot: its rules, when its versions were published, and how
reviewers find the cases each rule sends them (shares approved, overridden, rejected, and their words)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    """A rule of a demo table, and how reviewers find the cases it sends them."""

    name: str
    clauses: tuple[tuple, ...]  # (field, op) or (field, op, value)
    action: str = "escalate"
    hours: int | None = None
    samples: tuple[float, ...] = (0,)  # audit sampling % by table version (the last one holds on)
    override: float = 0.0  # share of reviewed cases whose AI output is corrected …
    reject: float = 0.0  # … or which are turned down
    corrects: str = ""  # the AI output a reviewer corrects
    to_owner: bool = False  # escalations go to the pilot's workflow owner by name
    since: int = 1  # the first table version with this rule

    def as_dict(self, version: int, owner_id: int) -> dict:
        return {
            "name": self.name,
            "clauses": [dict(zip(("field", "op", "value"), clause, strict=False)) for clause in self.clauses],
            "action": self.action,
            "sample_percent": self.samples[min(version, len(self.samples)) - 1],
            "service_level_hours": self.hours,
            "reviewer": owner_id if self.to_owner else None,
        }


@dataclass(frozen=True)
class Plan:
    versions: tuple[tuple[float, str], ...]  # (share of the case window gone, note) per version
    rules: tuple[Rule, ...]
    approve: tuple[str, ...]
    override: dict[str, tuple[str, ...]]  # by the output corrected; {value}: the corrected value
    reject: tuple[str, ...]


def _flag(kind: str, name: str, hours: int, override: float, reject: float, corrects: str) -> Rule:
    return Rule(name, ((f"problems.{kind}", "is_true"),), hours=hours, override=override, reject=reject,
                corrects=corrects)  # fmt: skip


# fmt: off
PLANS: dict[str, Plan] = {
    "claims": Plan(
        versions=(
            (0.0, "First rules, agreed with the claims director: broken, large, urgent and unsure notices "
                  "go to an adjuster."),
            (0.5, "Injury claims always go to an adjuster; audit sampling raised to 10% as Internal Audit "
                  "asked."),
        ),
        rules=(
            _flag("missing", "Incomplete notice", 72, 0.22, 0.12, "category"),
            _flag("invalid", "Unreadable values", 72, 0.18, 0.08, "category"),
            _flag("late", "Late notice", 72, 0.12, 0, "urgency"),
            Rule("Contradictory cover dates", (("problems.contradictory", "is_true"),), action="reject"),
            Rule("Large loss", (("inputs.claim_amount", "gt", 15000),), hours=48, override=0.14, reject=0.02,
                 corrects="urgency"),
            Rule("AI marks urgent", (("outputs.urgency", "eq", "high"),), hours=48, override=0.02,
                 corrects="urgency"),
            Rule("Injury", (("inputs.injured", "is_true"),), hours=48, override=0.1, corrects="category",
                 since=2),
            Rule("AI is unsure", (("outputs.confidence", "lt", 0.6),), hours=48, override=0.24,
                 corrects="category"),
            Rule("Routine claims", (), action="automate", samples=(5, 10), override=0.03,
                 corrects="category"),
        ),
        approve=("Checked against the notice and the policy: category and urgency are right.",
                 "Photos and notice agree with the triage.", "Correct; passed to the desk.",
                 "Triage is right; cover confirmed in the policy system."),
        override={
            "category": ("The notice describes a {value} claim, not what the AI read.",
                         "Policy wording puts this under {value}.",
                         "Adjuster's call after phoning the claimant: a {value} claim."),
            "urgency": ("Urgency is {value}: checked the claimant's situation by phone.",
                        "Adjuster's call: {value} urgency, given the damage in the photos."),
        },
        reject=("Not a claim: a duplicate of a notice already open.",
                "Policy lapsed before the incident; sent back to the broker."),
    ),
    "invoices": Plan(
        versions=(
            (0.0, "First rules: broken, late and large invoices and those without a purchase order go to "
                  "accounts payable."),
            (0.45, "Foreign-currency invoices automated, a third of them sampled for audit."),
        ),
        rules=(
            _flag("missing", "Missing invoice data", 72, 0.2, 0.15, "gl_account"),
            _flag("invalid", "Unreadable values", 72, 0.18, 0.1, "gl_account"),
            Rule("Contradictory dates or credit note", (("problems.contradictory", "is_true"),),
                 action="reject"),
            _flag("late", "Late invoice", 72, 0.1, 0, "gl_account"),
            Rule("Large invoice", (("outputs.extracted_total", "gt", 10000),), hours=48, override=0.12,
                 corrects="gl_account"),
            Rule("No purchase order", (("inputs.po_number", "is_empty"),), hours=48, override=0.02,
                 corrects="gl_account"),
            Rule("AI is unsure", (("outputs.confidence", "lt", 0.65),), hours=48, override=0.22,
                 corrects="gl_account"),
            Rule("Foreign currency", (("inputs.currency", "in", ["USD", "GBP", "CHF"]),), action="automate",
                 samples=(30,), override=0.2, corrects="gl_account", since=2),
            Rule("Routine invoices", (), action="automate", samples=(5, 10), override=0.03,
                 corrects="gl_account"),
        ),
        approve=("GL coding matches the supplier's usual account.", "Checked against the scan: correct.",
                 "Totals and coding agree with the PDF.", "Approved; cost centre confirmed with the buyer."),
        override={
            "gl_account": ("Booked to the wrong account: {value}, per the supplier master.",
                           "Freight, not materials: GL account {value}.",
                           "The total was right, the coding was not: GL account {value}."),
        },
        reject=("Duplicate of an invoice already booked.", "Not addressed to Northwind; returned to sender."),
    ),
    "email": Plan(
        versions=((0.0, "First rules: broken or late mail, cancellations, unsure routing and replies with "
                        "attachments go to the service desk."),),
        rules=(
            _flag("missing", "Incomplete message", 72, 0.2, 0.1, "team"),
            _flag("invalid", "Unreadable values", 72, 0.18, 0.08, "team"),
            _flag("late", "Late message", 72, 0.12, 0, "priority"),
            _flag("contradictory", "Reply without its thread", 72, 0.15, 0, "team"),
            Rule("Cancellations", (("inputs.subject", "contains", "kündigung"),), hours=48, override=0.1,
                 corrects="team"),
            Rule("AI is unsure", (("outputs.confidence", "lt", 0.6),), hours=48, override=0.22,
                 corrects="team"),
            Rule("Replies with attachments", (("inputs.kind", "in", ["reply", "forward"]),
                                              ("inputs.attachments", "gt", 0)), hours=48, override=0.015,
                 corrects="team"),
            Rule("Routine mail", (), action="automate", samples=(5,), override=0.03, corrects="team"),
        ),
        approve=("Right team and priority.", "Correct; no change.",
                 "Checked the customer's history: routing is right.", "Attachment read; the team is right."),
        override={
            "team": ("The customer writes about {value} matters; moved to {value}.",
                     "Wrong queue: this belongs to {value}."),
            "priority": ("Waited too long already: priority {value}.",),
        },
        reject=("Spam.", "Out-of-office reply; no action needed."),
    ),
    "underwriting": Plan(
        versions=((0.0, "First rules: broken or late submissions, large risks (to the head of underwriting), "
                        "manufacturing, poor grades and old buildings go to an underwriter; offices and "
                        "shops are automated, 40% sampled for audit."),),
        rules=(
            _flag("missing", "Incomplete submission", 24, 0.2, 0.15, "risk_grade"),
            _flag("invalid", "Unreadable values", 24, 0.18, 0.1, "risk_grade"),
            Rule("Contradictory submission", (("problems.contradictory", "is_true"),), action="reject"),
            _flag("late", "Late submission", 24, 0.1, 0, "risk_grade"),
            Rule("Large risks", (("inputs.sum_insured", "gt", 10_000_000),), hours=48, override=0.15,
                 corrects="risk_grade", to_owner=True),
            Rule("Manufacturing", (("inputs.occupancy", "eq", "manufacturing"),), hours=24, override=0.16,
                 corrects="risk_grade"),
            Rule("Poor grade", (("outputs.risk_grade", "eq", "D"),), hours=24, override=0.12,
                 corrects="risk_grade"),
            Rule("Old building", (("inputs.year_built", "lt", 1900),), hours=48, override=0.1,
                 corrects="risk_grade"),
            Rule("Offices and shops", (("inputs.occupancy", "in", ["office", "retail"]),), action="automate",
                 samples=(40,), override=0.22, corrects="risk_grade"),
            Rule("Routine risks", (), action="automate", samples=(10,), override=0.04,
                 corrects="risk_grade"),
        ),
        approve=("Note reads well; grade agrees with the survey.",
                 "Grade confirmed against the loss history.", "Approved as written.",
                 "Sprinkler certificate checked; the grade stands."),
        override={
            "risk_grade": ("The survey shows more than the broker said: grade {value}.",
                           "Loss history supports grade {value}.",
                           "Construction class misread; grade {value}."),
        },
        reject=("Broker withdrew the submission.", "Outside appetite: declined."),
    ),
}
# fmt: on
