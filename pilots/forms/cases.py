"""Forms of step 2 beyond the standard: the conformance threshold, AI versions, the intake form, uploads."""

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings

from pilots.forms.standards import as_text
from pilots.models import AIVersion, InputStandard, Pilot
from pilots.services.intake import Arrival


def threshold_percent(pilot: Pilot) -> Decimal:
    """The pilot's conformance threshold in percent, as people type it (95, 97.5)."""
    return Decimal(str(round(pilot.conformance_threshold * 100, 1))).normalize()


class ThresholdForm(forms.Form):
    percent = forms.DecimalField(
        min_value=50,
        max_value=100,
        decimal_places=1,
        label="Conformance threshold (%)",
        help_text="The share of cases in 30 days that must conform (50–100%).",
        widget=forms.NumberInput(attrs={"step": "0.5", "min": "50", "max": "100"}),
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    @classmethod
    def for_pilot(cls, pilot: Pilot, *, next_url: str = "") -> "ThresholdForm":
        return cls(initial={"percent": threshold_percent(pilot), "next": next_url})


class AIVersionForm(forms.Form):
    identifier = forms.CharField(max_length=80, help_text="As your AI names it, e.g. claims-model-2.3.")
    released_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


def _input_for(field: dict) -> forms.Field:
    """A typed widget for one field of the standard. Nothing is required or typed here on purpose:
    a case is stored whatever it holds, and the standard's validation reports its problems."""
    kind = field["type"]
    common: dict[str, Any] = {
        "required": False,
        "label": field.get("label") or field["name"],
        "help_text": field.get("description", ""),
    }
    example = as_text(field.get("example"))
    if kind == "boolean":
        form_field: forms.Field = forms.BooleanField(**common)
    elif kind == "enum":
        choices = [("", "—")] + [(a, a) for a in field.get("allowed") or []]
        form_field = forms.ChoiceField(choices=choices, **common)
    else:
        widget = {
            "integer": forms.NumberInput(attrs={"step": "1"}),
            "number": forms.NumberInput(attrs={"step": "any"}),
            "date": forms.DateInput(attrs={"type": "date"}),
            "datetime": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "email": forms.EmailInput(),
        }.get(kind, forms.TextInput())
        if example and kind not in ("date", "datetime"):
            widget.attrs["placeholder"] = example
        form_field = forms.CharField(widget=widget, max_length=10_000, strip=True, **common)
    form_field.standard_required = bool(field.get("required"))
    form_field.standard_name = field["name"]
    return form_field


class CaseIntakeForm(forms.Form):
    """One case typed by hand, generated from the pilot's current standard."""

    external_id = forms.CharField(
        max_length=200, label="External id", help_text="The case's id in your own system."
    )

    def __init__(self, *args, standard: InputStandard, ai_versions: list[AIVersion], **kwargs):
        super().__init__(*args, **kwargs)
        self.standard = standard
        for field in standard.inputs:
            self.fields[f"input__{field['name']}"] = _input_for(field)
        for field in standard.outputs:
            self.fields[f"output__{field['name']}"] = _input_for(field)
        if ai_versions:
            self.fields["ai_version"] = forms.ChoiceField(
                required=False,
                label="AI version",
                choices=[("", "—")] + [(v.identifier, v.identifier) for v in ai_versions],
            )
        self.fields["due_at"] = forms.CharField(
            required=False,
            label="Due at",
            help_text="Optional: a case that arrives after it was due is flagged late.",
            widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        )

    def input_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith("input__")]

    def output_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith("output__")]

    def other_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("ai_version", "due_at") if name in self.fields]

    def arrival(self) -> Arrival:
        data = self.cleaned_data
        values: dict[str, dict[str, Any]] = {"input": {}, "output": {}}
        for key, value in data.items():
            part, _, name = key.partition("__")
            if part not in values:
                continue
            if isinstance(value, bool) or value not in (None, ""):
                values[part][name] = value
        outcome = {"ai_version": data["ai_version"]} if data.get("ai_version") else {}
        return Arrival(
            external_id=data["external_id"].strip(),
            inputs=values["input"],
            outputs=values["output"],
            due_at=data.get("due_at") or None,
            outcome=outcome,
        )


class UploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit = settings.UPLOAD_MAX_BYTES / 1024 / 1024
        self.fields["file"].help_text = (
            f"UTF-8 (with or without BOM), comma- or semicolon-separated, at most {limit:,.0f} MB. "
            "One row per case, with an external_id column; output columns start with “output.”."
        )
