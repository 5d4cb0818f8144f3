import zoneinfo
from datetime import timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from pilots import checks
from pilots.currencies import ISO_4217
from pilots.models import Membership, Outcome, Pilot, Role, Stage, Workspace, stage_index
from pilots.services.pilots import PilotDetails

User = get_user_model()


__all__ = [
    "AttestationForm",
    "ConditionCloseForm",
    "GateDecisionForm",
    "GateRequestForm",
    "MemberAddForm",
    "MemberChoiceField",
    "MemberRolesForm",
    "MembersChoiceField",
    "PilotForm",
    "ReassignForm",
    "WorkspaceForm",
    "users_with_role",
]


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        full = obj.get_full_name()
        return f"{full} ({obj.username})" if full else obj.username


class MembersChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        full = obj.get_full_name()
        return f"{full} ({obj.username})" if full else obj.username


def users_with_role(workspace: Workspace, role: str):
    return User.objects.filter(
        memberships__workspace=workspace, **{f"memberships__{Membership.ROLE_FIELDS[role]}": True}
    ).order_by("username")


class WorkspaceForm(forms.Form):
    name = forms.CharField(max_length=120)
    timezone = forms.ChoiceField(
        choices=[(tz, tz) for tz in sorted(zoneinfo.available_timezones())], initial="UTC"
    )
    currency = forms.ChoiceField(
        choices=[(c, c) for c in sorted(ISO_4217)],
        initial="EUR",
        help_text="ISO 4217 code; value figures are shown in this currency.",
    )


class MemberAddForm(forms.Form):
    email = forms.EmailField(
        help_text="An existing user is added; anyone else gets an email to set a password."
    )
    roles = forms.MultipleChoiceField(choices=Role.choices, widget=forms.CheckboxSelectMultiple)


class MemberRolesForm(forms.Form):
    roles = forms.MultipleChoiceField(choices=Role.choices, widget=forms.CheckboxSelectMultiple)


class ReassignForm(forms.Form):
    program_manager = MemberChoiceField(
        queryset=User.objects.none(), required=False, label="New program manager for their pilots"
    )
    workflow_owner = MemberChoiceField(
        queryset=User.objects.none(), required=False, label="New workflow owner for their pilots"
    )

    def __init__(self, *args, workspace: Workspace, leaving, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program_manager"].queryset = users_with_role(workspace, Role.PROGRAM_MANAGER).exclude(
            pk=leaving.pk
        )
        self.fields["workflow_owner"].queryset = users_with_role(workspace, Role.WORKFLOW_OWNER).exclude(
            pk=leaving.pk
        )


class PilotForm(forms.Form):
    name = forms.CharField(max_length=200)
    problem = forms.CharField(label="Problem statement", widget=forms.Textarea(attrs={"rows": 3}))
    workflow = forms.CharField(label="Workflow it changes", max_length=200)
    business_unit = forms.CharField(max_length=120, required=False)
    program_manager = MemberChoiceField(queryset=User.objects.none())
    workflow_owner = MemberChoiceField(
        queryset=User.objects.none(), help_text="Accountable for the workflow; decides the stage gates."
    )
    reviewers = MembersChoiceField(
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave empty to use every reviewer of the workspace.",
    )
    integration_points = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="The systems it plugs into, one per line (e.g. ServiceNow, SAP claims).",
    )
    started_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    target_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, workspace: Workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program_manager"].queryset = users_with_role(workspace, Role.PROGRAM_MANAGER)
        self.fields["workflow_owner"].queryset = users_with_role(workspace, Role.WORKFLOW_OWNER)
        self.fields["reviewers"].queryset = users_with_role(workspace, Role.REVIEWER)

    @staticmethod
    def initial_for(pilot: Pilot) -> dict:
        return {
            "name": pilot.name,
            "problem": pilot.problem,
            "workflow": pilot.workflow,
            "business_unit": pilot.business_unit,
            "program_manager": pilot.program_manager_id,
            "workflow_owner": pilot.workflow_owner_id,
            "reviewers": list(pilot.reviewers.all()),
            "integration_points": "\n".join(pilot.integration_points),
            "started_on": pilot.started_on,
            "target_date": pilot.target_date,
        }

    def details(self) -> PilotDetails:
        data = self.cleaned_data
        return PilotDetails(
            name=data["name"],
            problem=data["problem"],
            workflow=data["workflow"],
            business_unit=data["business_unit"],
            program_manager=data["program_manager"],
            workflow_owner=data["workflow_owner"],
            reviewers=list(data["reviewers"]),
            integration_points=data["integration_points"].splitlines(),
            started_on=data["started_on"],
            target_date=data["target_date"],
        )


class GateRequestForm(forms.Form):
    note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What the workflow owner should look at.",
    )


class GateDecisionForm(forms.Form):
    outcome = forms.ChoiceField(choices=Outcome.choices, widget=forms.RadioSelect)
    comment = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required for hold, recycle and stop.",
    )
    recycle_to = forms.ChoiceField(required=False, label="Recycle back to")
    conditions = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="For a conditional go: one condition per line. Missing checks are added automatically.",
    )
    conditions_owner = MemberChoiceField(
        queryset=User.objects.none(), required=False, label="Owner of these conditions"
    )
    conditions_due_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, pilot: Pilot, **kwargs):
        super().__init__(*args, **kwargs)
        current = stage_index(pilot.stage)
        self.fields["recycle_to"].choices = [("", "—")] + [
            (value, label) for value, label in Stage.choices if stage_index(value) < current
        ]
        self.fields["conditions_owner"].queryset = User.objects.filter(
            memberships__workspace=pilot.workspace_id
        )
        self.fields["conditions_owner"].initial = pilot.program_manager_id
        self.fields["conditions_due_on"].initial = timezone.localdate() + timedelta(days=30)

    def clean(self):
        data = super().clean()
        lines = [line.strip() for line in data.get("conditions", "").splitlines() if line.strip()]
        if lines and not data.get("conditions_owner"):
            self.add_error("conditions_owner", "Choose who owns these conditions.")
        if lines and not data.get("conditions_due_on"):
            self.add_error("conditions_due_on", "Give the conditions a due date.")
        data["condition_lines"] = lines
        return data


class AttestationForm(forms.Form):
    check_id = forms.ChoiceField(label="Check")
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), help_text="What you vouch for, and why.")
    evidence_url = forms.URLField(label="Link to the evidence", assume_scheme="https")
    expires_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["check_id"].choices = [
            (c.id, f"{c.title} ({c.id})") for c in checks.all_checks() if c.attestable
        ]
        self.fields["expires_on"].initial = timezone.localdate() + timedelta(days=90)


class ConditionCloseForm(forms.Form):
    note = forms.CharField(required=False, max_length=500)
