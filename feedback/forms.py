"""Forms of step 4: a correction typed on a case, the bulk incorporation of corrections, a correction's
reason, and the pilot's reason taxonomy.

The forms read what was typed and pick the widgets; the services decide what is valid (an output the
standard declares, a value of its type that differs from the AI's, a reason of the pilot's taxonomy, a
target of this pilot), and their ValidationErrors land on the fields they name."""

import json
from typing import Any

from django import forms

from feedback.models import ReasonCode, Target

VALUE_TYPES_WITH_CHOICES = ("enum", "boolean")


def shown(value: Any) -> str:
    """A stored value as a person reads and types it: true/false, JSON for lists and objects, "" for none."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def reason_choices(reasons: list[ReasonCode], *, blank: str = "") -> list[tuple[str, str]]:
    """The reasons a person may choose: the active ones (a retired reason is kept but no longer offered)."""
    choices = [(r.code, r.label) for r in reasons if r.active]
    return [("", blank), *choices] if blank else choices


class CorrectionForm(forms.Form):
    """One correction of one AI output of a case. The value's widget fits the chosen output's type: a
    select of the allowed values for an enum, true/false for a boolean, a text box otherwise."""

    field = forms.CharField(
        max_length=63, label="AI output", error_messages={"required": "Choose the AI output."}
    )
    corrected_value = forms.CharField(
        max_length=1000,
        label="Corrected value",
        error_messages={"required": "Give the value the AI should have produced."},
    )
    reason = forms.CharField(
        max_length=40,
        label="Reason",
        error_messages={"required": "Choose a reason from the pilot's taxonomy."},
    )
    note = forms.CharField(
        max_length=5000,
        required=False,
        label="Note",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What was wrong, in a sentence: it helps whoever incorporates the correction.",
    )

    def __init__(
        self,
        data=None,
        *,
        specs: dict[str, dict],
        ai_outputs: dict,
        reasons: list[ReasonCode],
        refresh_url: str = "",
        initial: dict | None = None,
    ) -> None:
        super().__init__(data, initial=initial, auto_id="correct-%s")
        self.specs = specs
        self.ai_outputs = ai_outputs
        chosen = (data if data is not None else initial or {}).get("field")
        self.chosen = chosen if chosen in specs else next(iter(specs), "")
        if data is None:
            self.initial["field"] = self.chosen
        field_attrs = {}
        if refresh_url:
            # Choosing another output re-renders the form with the value widget of that output's type,
            # keeping the reason and note typed so far.
            field_attrs = {
                "hx-get": refresh_url,
                "hx-trigger": "change",
                "hx-target": "#correct-form",
                "hx-swap": "outerHTML",
                "hx-include": "#correct-reason, #correct-note",
            }
        self.fields["field"].widget = forms.Select(
            choices=[(name, self.output_label(name)) for name in specs], attrs=field_attrs
        )
        self.fields["corrected_value"].widget = self._value_widget(specs.get(self.chosen))
        self.fields["reason"].widget = forms.Select(choices=reason_choices(reasons, blank="Choose a reason"))

    def output_label(self, name: str) -> str:
        spec = self.specs[name]
        label = spec.get("label") or name
        return f"{label} — AI: {shown(self.ai_outputs.get(name)) or '(empty)'}"

    @property
    def ai_value(self) -> str:
        """What the AI gave for the chosen output."""
        return shown(self.ai_outputs.get(self.chosen))

    @property
    def value_type(self) -> str:
        spec = self.specs.get(self.chosen)
        return spec["type"] if spec else ""

    def _value_widget(self, spec: dict | None) -> forms.Widget:
        kind = spec["type"] if spec else ""
        if kind == "enum":
            allowed = [str(a) for a in spec.get("allowed") or []]
            return forms.Select(choices=[("", "—"), *[(a, a) for a in allowed]])
        if kind == "boolean":
            return forms.Select(choices=[("", "—"), ("true", "true"), ("false", "false")])
        attrs: dict[str, str] = {"autocomplete": "off"}
        if kind in ("number", "integer"):
            attrs["inputmode"] = "decimal"
        elif kind == "date":
            attrs["placeholder"] = "YYYY-MM-DD"
        elif kind == "datetime":
            attrs["placeholder"] = "YYYY-MM-DD HH:MM"
        return forms.TextInput(attrs=attrs)


class IncorporateForm(forms.Form):
    """Mark the chosen corrections as incorporated into one target. `target` is "regression_set" or
    "<kind>:<id>" (an AI version, input-standard version or rule-table version of the pilot)."""

    target = forms.CharField(
        max_length=40, label="Incorporated into", error_messages={"required": "Choose where they went."}
    )

    def __init__(self, data=None, **kwargs) -> None:
        super().__init__(data, **kwargs)
        self.correction_ids: list[int] = []
        if data is not None:
            for value in data.getlist("correction"):
                try:
                    self.correction_ids.append(int(value))
                except (TypeError, ValueError):
                    continue

    def clean_target(self) -> tuple[str, int | None]:
        """("into", target id): the kind is checked here, the target itself by the service."""
        kind, _, raw_id = self.cleaned_data["target"].partition(":")
        if kind not in Target.values:
            raise forms.ValidationError("Choose where the corrections were incorporated.")
        if kind == Target.REGRESSION_SET:
            return kind, None
        try:
            return kind, int(raw_id)
        except ValueError:
            raise forms.ValidationError(f"Choose {Target(kind).label.lower()} of this pilot.") from None


class ClassifyForm(forms.Form):
    reason = forms.CharField(
        max_length=40,
        label="Reason",
        error_messages={"required": "Choose a reason from the pilot's taxonomy."},
    )


class ReasonAddForm(forms.Form):
    label = forms.CharField(
        max_length=80,
        label="New reason",
        error_messages={"required": "Name the reason."},
        help_text="E.g. “Outdated price list”. Its code is made from the name.",
    )


class ReasonEditForm(forms.Form):
    """Rename a reason, or retire it (it keeps its corrections and is no longer offered) or bring it back."""

    label = forms.CharField(max_length=80, label="Name", required=False)
    active = forms.TypedChoiceField(
        choices=[("1", "in use"), ("0", "retired")], coerce=lambda v: v == "1", label="In use"
    )
