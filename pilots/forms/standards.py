"""The input standard editor.

The editor is a few formsets (input fields, output fields, comparisons, "if … then …
required" rules) plus the lateness settings. It only turns what was typed into the spec that
`services.standards.publish_standard` checks; the service's errors (keys like "inputs[2].pattern")
are put back on the row and field they name, so nothing typed is lost.
"""

import contextlib
import math
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from pilots.models import InputStandard
from pilots.validation import COMPARE_OPS, FIELD_TYPES

PARTS = ("inputs", "outputs", "compare", "requires")
ERROR_KEY = re.compile(r"^(inputs|outputs|rules)\[(\d+)\](?:\.(\w+))?$")


def parse_number(text: str) -> int | float | None:
    """'5' → 5, '2.5' → 2.5, '' → None; anything else raises ValidationError."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        raise ValidationError("Give a number.") from None
    if math.isnan(number) or math.isinf(number):
        raise ValidationError("Give a number.")
    return number


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 72.0 hours reads as 72
    return str(value)


def _compact(widget: forms.Widget, label: str) -> forms.Widget:
    widget.attrs.update({"aria-label": label})
    return widget


class FieldRowForm(forms.Form):
    """One input or output field of the standard: a row of the editor's table."""

    name = forms.CharField(max_length=63, required=False)
    label = forms.CharField(max_length=120, required=False)
    type = forms.ChoiceField(choices=[(t, t) for t in FIELD_TYPES], initial="string")
    required = forms.BooleanField(required=False)
    allowed = forms.CharField(required=False, max_length=2000, help_text="Comma-separated.")
    min = forms.CharField(required=False, max_length=40)
    max = forms.CharField(required=False, max_length=40)
    min_length = forms.IntegerField(required=False, min_value=0)
    max_length = forms.IntegerField(required=False, min_value=0)
    pattern = forms.CharField(required=False, max_length=500)
    description = forms.CharField(required=False, max_length=500)
    example = forms.CharField(required=False, max_length=200)

    LABELS = {
        "name": "Name",
        "label": "Label",
        "type": "Type",
        "required": "Required",
        "allowed": "Allowed values",
        "min": "Minimum",
        "max": "Maximum",
        "min_length": "Minimum length",
        "max_length": "Maximum length",
        "pattern": "Pattern",
        "description": "Description",
        "example": "Example",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            _compact(field.widget, self.LABELS.get(name, "Remove this row"))
        self.fields["name"].widget.attrs.update({"placeholder": "e.g. amount", "spellcheck": "false"})
        self.fields["allowed"].widget.attrs["placeholder"] = "a, b, c"
        self.fields["pattern"].widget.attrs["spellcheck"] = "false"

    def clean_min(self):
        return parse_number(self.cleaned_data["min"])

    def clean_max(self):
        return parse_number(self.cleaned_data["max"])

    def spec(self) -> dict:
        data = self.cleaned_data
        allowed = [a.strip() for a in data["allowed"].split(",") if a.strip()]
        return {
            "name": data["name"].strip(),
            "label": data["label"].strip(),
            "type": data["type"],
            "required": data["required"],
            "allowed": allowed,
            "min": data["min"],
            "max": data["max"],
            "min_length": data["min_length"],
            "max_length": data["max_length"],
            "pattern": data["pattern"],
            "description": data["description"].strip(),
            "example": _typed_example(data["type"], data["example"].strip()),
        }

    @staticmethod
    def initial_for(field: dict) -> dict:
        return {
            "name": field["name"],
            "label": field.get("label", ""),
            "type": field.get("type", "string"),
            "required": bool(field.get("required")),
            "allowed": ", ".join(map(str, field.get("allowed") or [])),
            "min": as_text(field.get("min")),
            "max": as_text(field.get("max")),
            "min_length": field.get("min_length"),
            "max_length": field.get("max_length"),
            "pattern": field.get("pattern", ""),
            "description": field.get("description", ""),
            "example": as_text(field.get("example")),
        }


def _typed_example(kind: str, example: str) -> Any:
    """An example of a number or boolean field is kept as one, so the JSON Schema's example fits."""
    if example == "":
        return ""
    if kind in ("integer", "number"):
        try:
            number = parse_number(example)
        except ValidationError:
            return example
        if kind == "integer" and isinstance(number, float) and number.is_integer():
            return int(number)
        return number
    if kind == "boolean" and example.lower() in ("true", "false"):
        return example.lower() == "true"
    return example


class NameSelect(forms.Select):
    """A select of the standard's input field names that also keeps a name typed earlier."""


def _name_field(label: str) -> forms.CharField:
    return forms.CharField(required=False, widget=NameSelect, label=label)


class RuleRowForm(forms.Form):
    """Base of the two kinds of cross-field rule; the field selects list the standard's input names."""

    NAME_FIELDS: tuple[str, ...] = ()

    def __init__(self, *args, names: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        names = list(names or [])
        for name in self.NAME_FIELDS:
            current = self[name].value() or ""
            options = names + ([current] if current and current not in names else [])
            self.fields[name].widget.choices = [("", "—")] + [(n, n) for n in options]
        for name, field in self.fields.items():
            _compact(field.widget, field.label or name.replace("_", " ").capitalize())


class CompareRuleForm(RuleRowForm):
    NAME_FIELDS = ("left", "right")
    left = _name_field("First field")
    op = forms.ChoiceField(choices=[(op, op) for op in COMPARE_OPS], initial="<=", label="Comparison")
    right = _name_field("Second field")
    message = forms.CharField(required=False, max_length=300, label="Message")

    def spec(self) -> dict:
        data = self.cleaned_data
        return {
            "kind": "compare",
            "left": data["left"],
            "op": data["op"],
            "right": data["right"],
            "message": data["message"].strip(),
        }

    @staticmethod
    def initial_for(rule: dict) -> dict:
        return {k: rule.get(k, "") for k in ("left", "op", "right", "message")}


class RequiresRuleForm(RuleRowForm):
    NAME_FIELDS = ("if_field", "then_field")
    if_field = _name_field("If field")
    equals = forms.CharField(required=False, max_length=200, label="Equals")
    then_field = _name_field("Then required")
    message = forms.CharField(required=False, max_length=300, label="Message")

    def spec(self) -> dict:
        data = self.cleaned_data
        return {
            "kind": "requires",
            "if_field": data["if_field"],
            "equals": data["equals"].strip(),
            "then_field": data["then_field"],
            "message": data["message"].strip(),
        }

    @staticmethod
    def initial_for(rule: dict) -> dict:
        return {k: as_text(rule.get(k, "")) for k in ("if_field", "equals", "then_field", "message")}


class LatenessForm(forms.Form):
    event_time_field = forms.CharField(
        required=False,
        widget=NameSelect,
        label="Event time field",
        help_text="An input field of type date or datetime: when the event happened.",
    )
    max_lateness_hours = forms.CharField(
        required=False,
        max_length=20,
        label="Maximum age at arrival (hours)",
        help_text="A case that arrives later is flagged late.",
    )
    note = forms.CharField(
        required=False,
        max_length=300,
        label="Note for this version",
        help_text="What changed, for the version list.",
    )

    def __init__(self, *args, names: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        current = self["event_time_field"].value() or ""
        options = list(names or [])
        if current and current not in options:
            options.append(current)
        self.fields["event_time_field"].widget.choices = [("", "— none —")] + [(n, n) for n in options]
        self.fields["max_lateness_hours"].widget.attrs["inputmode"] = "decimal"

    def clean_max_lateness_hours(self):
        return parse_number(self.cleaned_data["max_lateness_hours"])


FieldRows = forms.formset_factory(FieldRowForm, extra=2, can_delete=True)
CompareRows = forms.formset_factory(CompareRuleForm, extra=1, can_delete=True)
RequiresRows = forms.formset_factory(RequiresRuleForm, extra=1, can_delete=True)
FORMSETS = {"inputs": FieldRows, "outputs": FieldRows, "compare": CompareRows, "requires": RequiresRows}


def blank_row(part: str, index: int, names: list[str]) -> forms.Form:
    """The empty row `index` of a part, for "add a row" (htmx)."""
    form_class = FORMSETS[part].form
    kwargs: dict[str, Any] = {
        "prefix": f"{part}-{index}",
        "empty_permitted": True,
        "use_required_attribute": False,
    }
    if part in ("compare", "requires"):
        kwargs["names"] = names
    form = form_class(**kwargs)
    FORMSETS[part](prefix=part).add_fields(form, index)  # the "remove" checkbox, as in the formset
    return form


class StandardEditor:
    """The draft of the next version: what the editor shows and what a publish sends to the service."""

    def __init__(self, data=None, *, standard: InputStandard | None = None, add: str = ""):
        if data is not None and add in FORMSETS:
            # "Add a row" without JavaScript: the same draft, one more blank row in that table.
            data = data.copy()
            key = f"{add}-TOTAL_FORMS"
            with contextlib.suppress(ValueError):
                data[key] = str(int(data.get(key, "0")) + 1)
        self.data = data
        spec = standard.spec() if standard else {"inputs": [], "outputs": [], "rules": []}
        initial = {
            "inputs": [FieldRowForm.initial_for(f) for f in spec["inputs"]],
            "outputs": [FieldRowForm.initial_for(f) for f in spec["outputs"]],
            "compare": [CompareRuleForm.initial_for(r) for r in spec["rules"] if r["kind"] == "compare"],
            "requires": [RequiresRuleForm.initial_for(r) for r in spec["rules"] if r["kind"] == "requires"],
        }
        bound = data is not None
        self.inputs = FieldRows(data, prefix="inputs", initial=None if bound else initial["inputs"])
        self.outputs = FieldRows(data, prefix="outputs", initial=None if bound else initial["outputs"])
        self.names = self._input_names(spec)
        self.date_names = self._input_names(spec, kinds=("date", "datetime"))
        rule_kwargs = {"form_kwargs": {"names": self.names}}
        self.compare = CompareRows(
            data, prefix="compare", initial=None if bound else initial["compare"], **rule_kwargs
        )
        self.requires = RequiresRows(
            data, prefix="requires", initial=None if bound else initial["requires"], **rule_kwargs
        )
        self.lateness = LatenessForm(
            data,
            names=self.date_names,
            initial={
                "event_time_field": spec.get("event_time_field", ""),
                "max_lateness_hours": as_text(spec.get("max_lateness_hours")),
            },
        )
        self.errors: list[str] = []  # errors of the whole draft
        self._rows: dict[tuple[str, int], forms.Form] = {}

    def _input_names(self, spec: dict, kinds: tuple[str, ...] = ()) -> list[str]:
        """The input names the rule and event-time selects offer: those typed in the draft, if any."""
        if self.data is None:
            return [f["name"] for f in spec["inputs"] if not kinds or f["type"] in kinds]
        names = []
        for form in self.inputs.forms:
            name = (form["name"].value() or "").strip()
            kind = form["type"].value()
            if name and name not in names and (not kinds or kind in kinds):
                names.append(name)
        return names

    def name_selects(self) -> list[forms.BoundField]:
        """The selects that list the draft's input names (rule fields, event time field)."""
        selects = [
            row[name]
            for formset in (self.compare, self.requires)
            for row in formset
            for name in row.NAME_FIELDS
        ]
        return selects + [self.lateness["event_time_field"]]

    def formsets(self) -> list[forms.BaseFormSet]:
        return [self.inputs, self.outputs, self.compare, self.requires]

    def is_valid(self) -> bool:
        valid = all(fs.is_valid() for fs in self.formsets()) and self.lateness.is_valid()
        if valid and not any(self._kept(self.inputs)):
            self.errors.append("Declare at least one input field.")
            valid = False
        return valid

    @staticmethod
    def _kept(formset) -> list[forms.Form]:
        """The rows that count: filled in and not marked for removal."""
        return [f for f in formset.forms if f.has_changed() and not formset._should_delete_form(f)]

    def spec(self) -> dict:
        """The spec to publish; remembers which row each list position came from, for the errors."""
        spec: dict[str, Any] = {"inputs": [], "outputs": [], "rules": []}
        for part, formset in (("inputs", self.inputs), ("outputs", self.outputs)):
            for form in self._kept(formset):
                self._rows[(part, len(spec[part]))] = form
                spec[part].append(form.spec())
        for formset in (self.compare, self.requires):
            for form in self._kept(formset):
                self._rows[("rules", len(spec["rules"]))] = form
                spec["rules"].append(form.spec())
        spec["event_time_field"] = self.lateness.cleaned_data["event_time_field"]
        spec["max_lateness_hours"] = self.lateness.cleaned_data["max_lateness_hours"]
        return spec

    @property
    def note(self) -> str:
        return self.lateness.cleaned_data.get("note", "")

    def add_errors(self, error: ValidationError) -> None:
        """Put the service's errors next to the row and field they concern."""
        if not hasattr(error, "error_dict"):
            self.errors += error.messages
            return
        for key, messages in error.message_dict.items():
            match = ERROR_KEY.match(key)
            form = self._rows.get((match[1], int(match[2]))) if match else None
            if form is not None:
                field = match[3] if match[3] in form.fields else None
                form.add_error(field, messages)
            elif key in self.lateness.fields:
                self.lateness.add_error(key, messages)
            else:
                self.errors += messages

    def error_count(self) -> int:
        count = len(self.errors) + len(self.lateness.errors)
        for formset in self.formsets():
            count += len(formset.non_form_errors()) + sum(len(f.errors) for f in formset.forms)
        return count
