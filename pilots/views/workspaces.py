"""Workspaces: the home pages by role, creating and editing a workspace, and its members."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pilots import access, selectors
from pilots.forms import MemberAddForm, MemberRolesForm, ReassignForm, WorkspaceForm
from pilots.models import Membership, Pilot, Role
from pilots.services import workspaces as workspace_services
from pilots.views.errors import add_errors

User = get_user_model()


@require_GET
def root(request: HttpRequest) -> HttpResponse:
    """Send the user to the workspace they used last, or to creating their first one. A member who only
    reviews lands on their review queue: it is their home page."""
    mine = selectors.workspaces_of(request.user)
    last = request.session.get("workspace")
    workspace = mine.filter(slug=last).first() or mine.first()
    if workspace is None:
        return redirect("workspace_create")
    membership = access.membership_in(request.user, workspace.pk)
    if membership is not None and membership.roles == {Role.REVIEWER}:
        return redirect("review_queue", slug=workspace.slug)
    return redirect("workspace_home", slug=workspace.slug)


@require_GET
def workspace_home(request: HttpRequest, slug: str) -> HttpResponse:
    workspace = access.workspace_for(request.user, slug)
    membership = workspace.membership
    request.session["workspace"] = workspace.slug
    context = {"workspace": workspace, "membership": membership, "can": access.allowed_actions(membership)}
    if membership.is_program_manager or membership.is_admin:
        mine = list(
            Pilot.objects.in_workspace(workspace)
            .filter(program_manager=request.user)
            .select_related("workflow_owner")
            .order_by("name")
        )
        context["my_pilots"] = mine
        context["blockers"] = selectors.blockers(mine)
    if membership.is_workflow_owner:
        context["waiting"] = selectors.decisions_waiting_for(request.user, workspace)
        context["open_conditions"] = selectors.conditions_open_for(request.user, workspace)
    if membership.is_leader or membership.is_admin:
        context["by_stage"] = selectors.pilots_by_stage(workspace)
    if membership.is_reviewer:
        context["reviewing"] = (
            Pilot.objects.in_workspace(workspace).filter(reviewers=request.user).order_by("name")
        )
    return TemplateResponse(request, "pilots/home.html", context)


@require_http_methods(["GET", "POST"])
def workspace_create(request: HttpRequest) -> HttpResponse:
    form = WorkspaceForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            workspace = workspace_services.create_workspace(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"Workspace “{workspace}” created. You are its admin.")
            return redirect("workspace_home", slug=workspace.slug)
    status = 422 if form.errors else 200
    return TemplateResponse(
        request, "pilots/workspace_form.html", {"form": form, "creating": True}, status=status
    )


@require_http_methods(["GET", "POST"])
def workspace_edit(request: HttpRequest, slug: str) -> HttpResponse:
    workspace = access.workspace_for(request.user, slug, need="edit_workspace")
    initial = {"name": workspace.name, "timezone": workspace.timezone, "currency": workspace.currency}
    form = WorkspaceForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            workspace_services.update_workspace(workspace=workspace, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, "Workspace settings saved.")
            return redirect("workspace_home", slug=workspace.slug)
    status = 422 if form.errors else 200
    return TemplateResponse(
        request, "pilots/workspace_form.html", {"form": form, "workspace": workspace}, status=status
    )


def _members_page(request: HttpRequest, workspace, add_form=None, status: int = 200) -> HttpResponse:
    members = Membership.objects.filter(workspace=workspace).select_related("user").order_by("user__username")
    return TemplateResponse(
        request,
        "pilots/members.html",
        {
            "workspace": workspace,
            "members": members,
            "add_form": add_form or MemberAddForm(),
            "roles": Role.choices,
        },
        status=status,
    )


@require_GET
def members(request: HttpRequest, slug: str) -> HttpResponse:
    workspace = access.workspace_for(request.user, slug, need="manage_members")
    return _members_page(request, workspace)


@require_POST
def member_add(request: HttpRequest, slug: str) -> HttpResponse:
    workspace = access.workspace_for(request.user, slug, need="manage_members")
    form = MemberAddForm(request.POST)
    if form.is_valid():
        try:
            membership, created = workspace_services.add_member(
                workspace=workspace,
                actor=request.user,
                email=form.cleaned_data["email"],
                roles=form.cleaned_data["roles"],
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            note = (
                "They will get an email to set their password."
                if created
                else "They have been told by email."
            )
            messages.success(request, f"{membership.user} added. {note}")
            return redirect("members", slug=workspace.slug)
    return _members_page(request, workspace, add_form=form, status=422)


def _membership(workspace, membership_id: int) -> Membership:
    return get_object_or_404(Membership.objects.select_related("user"), pk=membership_id, workspace=workspace)


@require_POST
def member_roles(request: HttpRequest, slug: str, membership_id: int) -> HttpResponse:
    workspace = access.workspace_for(request.user, slug, need="manage_members")
    membership = _membership(workspace, membership_id)
    form = MemberRolesForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Give {membership.user} at least one role.")
        return _members_page(request, workspace, status=422)
    try:
        workspace_services.set_member_roles(
            membership=membership, actor=request.user, roles=form.cleaned_data["roles"]
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _members_page(request, workspace, status=422)
    messages.success(request, f"Roles of {membership.user} saved.")
    return redirect("members", slug=workspace.slug)


@require_http_methods(["GET", "POST"])
def member_remove(request: HttpRequest, slug: str, membership_id: int) -> HttpResponse:
    """Confirm the removal; a member who still manages or owns pilots is reassigned first on this page."""
    workspace = access.workspace_for(request.user, slug, need="manage_members")
    membership = _membership(workspace, membership_id)
    reassign = ReassignForm(workspace=workspace, leaving=membership.user)
    if request.method == "POST":
        try:
            workspace_services.remove_member(membership=membership, actor=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"{membership.user} removed from {workspace}.")
            return redirect("members", slug=workspace.slug)
    return TemplateResponse(
        request,
        "pilots/member_remove.html",
        {
            "workspace": workspace,
            "member": membership,
            "held": selectors.pilots_held_by(workspace, membership.user),
            "form": reassign,
        },
        status=422 if request.method == "POST" else 200,
    )


@require_POST
def member_reassign(request: HttpRequest, slug: str, membership_id: int) -> HttpResponse:
    workspace = access.workspace_for(request.user, slug, need="manage_members")
    membership = _membership(workspace, membership_id)
    form = ReassignForm(request.POST, workspace=workspace, leaving=membership.user)
    if form.is_valid():
        try:
            count = workspace_services.reassign_pilots(
                workspace=workspace,
                actor=request.user,
                from_user=membership.user,
                program_manager=form.cleaned_data["program_manager"],
                workflow_owner=form.cleaned_data["workflow_owner"],
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"{count} pilot role(s) reassigned.")
            return redirect("member_remove", slug=workspace.slug, membership_id=membership.pk)
    return TemplateResponse(
        request,
        "pilots/member_remove.html",
        {
            "workspace": workspace,
            "member": membership,
            "held": selectors.pilots_held_by(workspace, membership.user),
            "form": form,
        },
        status=422,
    )
