"""The routing-rules editor: a decision table typed in the browser, turned into what `publish_rules` takes.

The table is nested (rules, each with clauses), so it is not a Django formset but a small draft object.
Its inputs are named `rule-<i>-name`, `rule-<i>-action` …, and `rule-<i>-clause-<j>-field|op|value`.
The draft parses a POST back into rules in the order shown, applies the editor's edit buttons (add or
remove a rule or a clause, move a rule) without publishing anything, and puts the service's errors
(keys like "rules[2].clauses[0].value") back on the rule and clause they name, so nothing typed is lost.
"""

import re
from dataclasses import dataclass
from dataclasses import field as attribute
from decimal import Decimal
from typing import Any

from django.http import QueryDict

from exceptions.models import Action
from exceptions.rules import LIST_VALUE, NO_VALUE, OPERATORS, FieldInfo
from pilots.forms.standards import as_text

RULE_FIELDS = ("name", "action", "sample_percent", "service_level_hours", "reviewer")
CLAUSE_PARTS = ("field", "op", "value")
RULE_KEY = re.compile(r"^rule-(\d{1,3})-(name|action|sample_percent|service_level_hours|reviewer)$")
CLAUSE_KEY = re.compile(r"^rule-(\d{1,3})-clause-(\d{1,3})-(field|op|value)$")
CLAUSE_PREFIX = re.compile(r"^rule-\d{1,3}-clause-\d{1,3}$")
ERROR_KEY = re.compile(r"^rules\[(\d+)\]\.(?:clauses\[(\d+)\]\.(\w+)|(\w+))$")
EDIT = re.compile(r"^(add-rule|refresh|(remove-rule|up|down|add-clause)-(\d+)|remove-clause-(\d+)-(\d+))$")
GROUPS = (("inputs", "Inputs"), ("outputs", "AI outputs"), ("problems", "Problems"))
MAX_VALUE_LENGTH = 2000


# A table to start from when a pilot has none: malformed or late cases go to a person within a day, the
# rest are automated with an audit sample.
def _escalate_flagged(kind: str, name: str) -> dict:
    clause = {"field": f"problems.{kind}", "op": "is_true", "value": None}
    return {"name": name, "clauses": [clause], "action": "escalate", "service_level_hours": 24}


STARTER: list[dict] = [
    _escalate_flagged("missing", "Missing inputs"),
    _escalate_flagged("invalid", "Invalid inputs"),
    _escalate_flagged("late", "Late inputs"),
    {"name": "Routine", "clauses": [], "action": "automate", "sample_percent": 5},
]


def value_text(value: Any) -> str:
    """A stored clause value as the editor shows it: lists comma-separated, 72.0 as 72."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(value_text(item) for item in value)
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return as_text(value)


@dataclass
class ClauseDraft:
    field: str = ""
    op: str = ""
    value: str = ""
    errors: dict[str, str] = attribute(default_factory=dict)

    @property
    def counts(self) -> bool:
        """Whether the clause is part of the table (the service ignores one without field and operator)."""
        return bool(self.field or self.op)


@dataclass
class RuleDraft:
    name: str = ""
    clauses: list[ClauseDraft] = attribute(default_factory=list)
    action: str = "escalate"
    sample_percent: str = ""
    service_level_hours: str = ""
    reviewer: str = ""
    errors: dict[str, str] = attribute(default_factory=dict)

    @classmethod
    def blank(cls) -> "RuleDraft":
        return cls(clauses=[ClauseDraft()], action="escalate", service_level_hours="24")

    @classmethod
    def default(cls) -> "RuleDraft":
        return cls(name="Every other case", action="automate")

    @property
    def is_default(self) -> bool:
        return not any(clause.counts for clause in self.clauses)


@dataclass
class Option:
    value: str
    label: str
    selected: bool


@dataclass
class ClauseWidget:
    """What the editor shows for one clause: the field select, the operators that fit, the value input."""

    prefix: str
    clause: ClauseDraft
    groups: list[tuple[str, list[Option]]]
    ops: list[Option]
    value_kind: str  # "none", "select", "list" or "text"
    choices: list[Option]
    placeholder: str
    hint: str

    @property
    def remove_edit(self) -> str:
        """The edit button's value that removes this clause (prefix rule-<i>-clause-<j>)."""
        _, i, _, j = self.prefix.split("-")
        return f"remove-clause-{i}-{j}"

    @property
    def error_list(self) -> list[str]:
        return [self.clause.errors[part] for part in (*CLAUSE_PARTS, "") if part in self.clause.errors]


def _option_label(info: FieldInfo) -> str:
    label = info.label.split(": ", 1)[-1]
    name = info.path.split(".", 1)[1]
    if info.type == "flag":
        return label[:1].upper() + label[1:]
    return label if label == name else f"{label} ({name})"


def clause_widget(prefix: str, clause: ClauseDraft, fields: dict[str, FieldInfo]) -> ClauseWidget:
    info = fields.get(clause.field)
    groups: list[tuple[str, list[Option]]] = []
    for part, title in GROUPS:
        options = [
            Option(path, _option_label(item), path == clause.field)
            for path, item in fields.items()
            if path.startswith(part + ".")
        ]
        if options:
            groups.append((title, options))
    if clause.field and info is None:
        # Keep what was typed (or what an older standard declared): the error says why it cannot stay.
        groups.append(("Not in the current standard", [Option(clause.field, clause.field, True)]))
    codes = list(info.operators) if info else [""] + list(OPERATORS)
    ops = [Option(code, OPERATORS.get(code, "—"), code == clause.op) for code in codes]
    if clause.op and clause.op not in codes:
        ops.append(Option(clause.op, f"{OPERATORS.get(clause.op, clause.op)} (does not fit)", True))
    choices: list[Option] = []
    placeholder = hint = ""
    if clause.op in NO_VALUE:
        kind = "none"
    elif clause.op in LIST_VALUE:
        kind = "list"
        placeholder = "a, b, c"
        hint = f"one or more of: {', '.join(info.allowed)}" if info and info.allowed else "separate by commas"
    elif info is not None and info.type == "enum":
        kind = "select"
        choices = [Option("", "—", not clause.value)] + [
            Option(allowed, allowed, allowed == clause.value) for allowed in info.allowed
        ]
        if clause.value and clause.value not in info.allowed:
            choices.append(Option(clause.value, f"{clause.value} (not allowed)", True))
    else:
        kind = "text"
        kind_of = info.type if info else ""
        placeholder = {
            "integer": "e.g. 10000",
            "number": "e.g. 0.8",
            "date": "YYYY-MM-DD",
            "datetime": "YYYY-MM-DD HH:MM",
        }.get(kind_of, "")
    return ClauseWidget(prefix, clause, groups, ops, kind, choices, placeholder, hint)


def fitting_op(clause: ClauseDraft, fields: dict[str, FieldInfo]) -> str:
    """The clause's operator if it fits its field; else the field's first (a newly chosen field)."""
    info = fields.get(clause.field)
    if info is None or clause.op in info.operators:
        return clause.op
    return info.operators[0]


@dataclass
class RuleRow:
    """One rule as the editor renders it."""

    index: int
    rule: RuleDraft
    clauses: list[ClauseWidget]
    is_last: bool
    may_move_up: bool
    may_move_down: bool
    actions: list[Option]
    reviewers: list[Option]

    @property
    def prefix(self) -> str:
        return f"rule-{self.index}"

    @property
    def position(self) -> int:
        return self.index + 1

    @property
    def shows_clauses(self) -> bool:
        """The default (last, no clauses) says so instead of offering clauses."""
        return not (self.is_last and self.rule.is_default)


class RulesEditor:
    """The draft of the next rule version."""

    def __init__(
        self,
        rules: list[RuleDraft],
        *,
        fields: dict[str, FieldInfo],
        reviewers: list,
        note: str = "",
    ):
        self.rules = rules
        self.fields = fields
        self.reviewers = reviewers
        self.note = note
        self.errors: list[str] = []  # errors of the whole table
        self._clause_of: dict[tuple[int, int], int] = {}

    @classmethod
    def from_rules(cls, rules: list[dict], **kwargs) -> "RulesEditor":
        """A published table (`table_as_rules`) or the starter, as a draft."""
        drafts = [
            RuleDraft(
                name=rule.get("name") or "",
                clauses=[
                    ClauseDraft(c.get("field") or "", c.get("op") or "", value_text(c.get("value")))
                    for c in rule.get("clauses") or []
                ],
                action=rule.get("action") or "",
                sample_percent=value_text(rule.get("sample_percent")) if rule.get("sample_percent") else "",
                service_level_hours=value_text(rule.get("service_level_hours")),
                reviewer=value_text(rule.get("reviewer")),
            )
            for rule in rules
        ]
        return cls(drafts, **kwargs)

    @classmethod
    def from_post(cls, data: QueryDict, **kwargs) -> "RulesEditor":
        """The table as posted, in the order of its rule numbers (which the page renders in order)."""
        rules: dict[int, RuleDraft] = {}
        clauses: dict[int, dict[int, ClauseDraft]] = {}
        for key in data:
            if match := RULE_KEY.match(key):
                rule = rules.setdefault(int(match[1]), RuleDraft(action=""))
                text = data.get(key, "")
                setattr(rule, match[2], text.strip()[:80] if match[2] == "name" else text.strip()[:40])
            elif match := CLAUSE_KEY.match(key):
                rules.setdefault(int(match[1]), RuleDraft(action=""))
                clause = clauses.setdefault(int(match[1]), {}).setdefault(int(match[2]), ClauseDraft())
                text = data.get(key, "")
                setattr(clause, match[3], text[:MAX_VALUE_LENGTH] if match[3] == "value" else text.strip())
        drafts = []
        for index in sorted(rules):
            rule = rules[index]
            rule.clauses = [clauses.get(index, {})[j] for j in sorted(clauses.get(index, {}))]
            drafts.append(rule)
        return cls(drafts, note=data.get("note", "").strip()[:300], **kwargs)

    # --- the edit buttons (without JavaScript; htmx posts the same buttons) ---

    def apply_edit(self, edit: str) -> None:
        """Change the draft as the button says; an unknown or out-of-range edit changes nothing."""
        match = EDIT.match(edit)
        if match is None:
            return
        rules = self.rules
        if match[1] == "add-rule":
            if rules and rules[-1].is_default:
                rules.insert(len(rules) - 1, RuleDraft.blank())
            else:
                rules.append(RuleDraft.default())
            return
        if match[1] == "refresh":
            return
        if match[4] is not None:
            i, j = int(match[4]), int(match[5])
            if i < len(rules) and j < len(rules[i].clauses):
                del rules[i].clauses[j]
            return
        i = int(match[3])
        if i >= len(rules):
            return
        if match[2] == "remove-rule" and len(rules) > 1:
            del rules[i]
        elif match[2] == "up" and i > 0:
            rules[i - 1], rules[i] = rules[i], rules[i - 1]
        elif match[2] == "down" and i + 1 < len(rules):
            rules[i], rules[i + 1] = rules[i + 1], rules[i]
        elif match[2] == "add-clause":
            rules[i].clauses.append(ClauseDraft())

    # --- publishing ---

    def rules_to_publish(self) -> list[dict]:
        """The table in the shape `publish_rules` takes; remembers which clause each position came from.

        A clause with a value but neither field nor operator would be dropped by the service: it is
        flagged here instead, so nothing typed disappears silently."""
        table = []
        self._clause_of = {}
        for i, rule in enumerate(self.rules):
            clauses = []
            for k, clause in enumerate(rule.clauses):
                if not clause.counts:
                    if clause.value.strip():
                        clause.errors["field"] = "Choose a field and an operator for this value, or clear it."
                    continue
                self._clause_of[(i, len(clauses))] = k
                clauses.append({"field": clause.field, "op": clause.op, "value": clause.value})
            table.append(
                {
                    "name": rule.name,
                    "clauses": clauses,
                    "action": rule.action,
                    "sample_percent": rule.sample_percent,
                    "service_level_hours": rule.service_level_hours,
                    "reviewer": rule.reviewer or None,
                }
            )
        return table

    def add_errors(self, errors: dict[str, str]) -> None:
        """Put each of the service's messages on the rule and clause it names."""
        for key, message in errors.items():
            match = ERROR_KEY.match(key)
            rule = self.rules[int(match[1])] if match and int(match[1]) < len(self.rules) else None
            if rule is None:
                self.errors.append(message)
            elif match[2] is not None:
                k = self._clause_of.get((int(match[1]), int(match[2])))
                if k is None:
                    rule.errors["clauses"] = message
                else:
                    part = match[3] if match[3] in CLAUSE_PARTS else ""
                    rule.clauses[k].errors[part] = message
            elif match[4] in RULE_FIELDS or match[4] == "clauses":
                rule.errors[match[4]] = message
            else:
                rule.errors["clauses"] = message

    def error_count(self) -> int:
        return len(self.errors) + sum(
            len(rule.errors) + sum(len(clause.errors) for clause in rule.clauses) for rule in self.rules
        )

    # --- rendering ---

    def rows(self) -> list[RuleRow]:
        last = len(self.rules) - 1
        return [
            RuleRow(
                index=i,
                rule=rule,
                clauses=[
                    clause_widget(f"rule-{i}-clause-{j}", clause, self.fields)
                    for j, clause in enumerate(rule.clauses)
                ],
                is_last=i == last,
                # The default stays at the bottom: only the rules above it move, among themselves.
                may_move_up=0 < i < last,
                may_move_down=i < last - 1,
                actions=self.action_options(rule.action),
                reviewers=self.reviewer_options(rule.reviewer),
            )
            for i, rule in enumerate(self.rules)
        ]

    @staticmethod
    def action_options(chosen: str) -> list[Option]:
        options = [Option(value, label, value == chosen) for value, label in Action.choices]
        if chosen not in Action.values:
            options.insert(0, Option(chosen, "— choose —", True))
        return options

    def reviewer_options(self, chosen: str) -> list[Option]:
        options = [Option("", "The pilot's reviewers", not chosen)]
        options += [Option(str(user.pk), _person(user), str(user.pk) == chosen) for user in self.reviewers]
        if chosen and chosen not in {o.value for o in options}:
            options.append(Option(chosen, "(no longer a reviewer)", True))
        return options


def _person(user) -> str:
    return user.get_full_name() or user.username
