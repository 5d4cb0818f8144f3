from django.urls import path

from pilots.views import gates, health, pilots, workspaces

urlpatterns = [
    path("", workspaces.root, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("workspaces/new/", workspaces.workspace_create, name="workspace_create"),
    path("w/<slug:slug>/", workspaces.workspace_home, name="workspace_home"),
    path("w/<slug:slug>/settings/", workspaces.workspace_edit, name="workspace_edit"),
    path("w/<slug:slug>/members/", workspaces.members, name="members"),
    path("w/<slug:slug>/members/add/", workspaces.member_add, name="member_add"),
    path("w/<slug:slug>/members/<int:membership_id>/roles/", workspaces.member_roles, name="member_roles"),
    path("w/<slug:slug>/members/<int:membership_id>/remove/", workspaces.member_remove, name="member_remove"),
    path(
        "w/<slug:slug>/members/<int:membership_id>/reassign/",
        workspaces.member_reassign,
        name="member_reassign",
    ),
    path("w/<slug:slug>/pilots/", pilots.pilot_list, name="pilot_list"),
    path("w/<slug:slug>/pilots/new/", pilots.pilot_create, name="pilot_create"),
    path("pilots/<int:pilot_id>/", pilots.pilot_detail, name="pilot_detail"),
    path("pilots/<int:pilot_id>/edit/", pilots.pilot_edit, name="pilot_edit"),
    path("pilots/<int:pilot_id>/copy/", pilots.pilot_copy, name="pilot_copy"),
    path("pilots/<int:pilot_id>/activity/", pilots.pilot_activity, name="pilot_activity"),
    path("pilots/<int:pilot_id>/gates/", pilots.pilot_gate_record, name="pilot_gate_record"),
    path("pilots/<int:pilot_id>/accept/", pilots.accept_accountability, name="accept_accountability"),
    path("pilots/<int:pilot_id>/resume/", pilots.pilot_resume, name="pilot_resume"),
    path("pilots/<int:pilot_id>/attest/", pilots.attest, name="attest"),
    path("pilots/<int:pilot_id>/gate/request/", gates.gate_request, name="gate_request"),
    path("pilots/<int:pilot_id>/gate/<int:request_id>/withdraw/", gates.gate_withdraw, name="gate_withdraw"),
    path("pilots/<int:pilot_id>/gate/<int:request_id>/decide/", gates.gate_decide, name="gate_decide"),
    path(
        "pilots/<int:pilot_id>/conditions/<int:condition_id>/close/",
        gates.condition_close,
        name="condition_close",
    ),
]
