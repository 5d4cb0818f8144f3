"""Forms of step 1: a metric's definition, a measurement typed by hand, a CSV of measurements."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from metrics.models import BUSINESS_KINDS, Direction, Kind, Method, Metric
from metrics.services import DEFAULT_UNITS, MetricDetails, default_unit
from pilots.forms import MemberChoiceField
from pilots.models import Pilot

User = get_user_model()
MAX_IMPORT_BYTES = 2 * 1024 * 1024


def _number(**kwargs) -> forms.FloatField:
    return forms.FloatField(widget=forms.NumberInput(attrs={"step": "any"}), **kwargs)


def _date(**kwargs) -> forms.DateField:
    return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **kwargs)


def kind_defaults(kind: str, currency: str, *, unit: str = "", direction: str = "", method: str = "") -> dict:
    """What choosing a kind fills in: its usual unit (unless the user typed one of their own) and
    "lower is better" for the four business kinds; a custom metric is measured by hand."""
    usual = {default_unit(k, currency) for k in (*DEFAULT_UNITS, Kind.EXTERNAL_SPEND)}
    values = {"kind": kind, "unit": unit, "direction": direction or Direction.LOWER, "method": method}
    if kind in BUSINESS_KINDS:
        if not unit.strip() or unit.strip() in usual:
            values["unit"] = default_unit(kind, currency)
        values["direction"] = Direction.LOWER
    elif unit.strip() in usual:
        values["unit"] = ""
    if kind not in BUSINESS_KINDS:
        values["method"] = Method.MANUAL
    values["method"] = values["method"] or Method.MANUAL
    return values


class MetricForm(forms.Form):
    kind = forms.ChoiceField(choices=Kind.choices, initial=Kind.CYCLE_TIME)
    name = forms.CharField(
        max_length=120, help_text="In business terms, e.g. “Claim cycle time” or “Invoice error rate”."
    )
    unit = forms.CharField(
        max_length=30,
        required=False,
        help_text="Leave blank for the kind's usual unit (days, %, touchpoints per case, spend per month).",
    )
    direction = forms.ChoiceField(
        choices=Direction.choices, initial=Direction.LOWER, widget=forms.RadioSelect, label="Better is"
    )
    outcome = forms.CharField(
        max_length=300,
        required=False,
        label="Business outcome it moves",
        help_text="Required for a custom metric: which time, errors, effort or money it changes.",
    )
    baseline = _number(help_text="Where the workflow stands before the pilot.")
    baseline_on = _date(label="Baseline as of")
    baseline_source = forms.CharField(
        max_length=300,
        required=False,
        label="Baseline source",
        help_text="Where the figure comes from, e.g. “ERP report, Q4 2025”.",
    )
    target = _number(help_text="Where the pilot should bring it.")
    target_date = _date(label="Target date")
    method = forms.ChoiceField(
        choices=Method.choices,
        initial=Method.MANUAL,
        widget=forms.RadioSelect,
        help_text="Cycle time, error rate, touchpoints and spend can be computed weekly from decided cases.",
    )
    owner = MemberChoiceField(queryset=User.objects.none(), help_text="Answers for this figure.")

    def __init__(self, *args, pilot: Pilot, **kwargs):
        super().__init__(*args, **kwargs)
        self.pilot = pilot
        self.fields["owner"].queryset = User.objects.filter(
            memberships__workspace_id=pilot.workspace_id, is_active=True
        ).order_by("first_name", "username")

    @classmethod
    def for_metric(cls, metric: Metric, data=None) -> "MetricForm":
        initial = {
            name: getattr(metric, name)
            for name in (
                "kind", "name", "unit", "direction", "outcome", "baseline", "baseline_on",
                "baseline_source", "target", "target_date", "method",
            )
        }  # fmt: skip
        initial["owner"] = metric.owner_id
        return cls(data, pilot=metric.pilot, initial=initial)

    def details(self) -> MetricDetails:
        data = self.cleaned_data
        return MetricDetails(
            name=data["name"],
            kind=data["kind"],
            unit=data["unit"],
            direction=data["direction"],
            outcome=data["outcome"],
            baseline=data["baseline"],
            baseline_on=data["baseline_on"],
            baseline_source=data["baseline_source"],
            target=data["target"],
            target_date=data["target_date"],
            method=data["method"],
            owner=data["owner"],
        )


class MeasurementForm(forms.Form):
    on = _date(label="Date")
    value = _number(label="Value")
    note = forms.CharField(max_length=300, required=False, label="Note")

    def clean_on(self):
        on = self.cleaned_data["on"]
        if on > timezone.localdate():
            raise forms.ValidationError("A measurement cannot be dated in the future.")
        return on


class ImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file", help_text="Columns date,value,note (note optional); dates as YYYY-MM-DD."
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError("The file is larger than 2 MB; split it into several imports.")
        try:
            self.text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError("The file is not UTF-8 text; save it as “CSV UTF-8”.") from None
        return upload
