from django.urls import path

from pilots.views import (
    cases,
    gates,
    health,
    integrations,
    pilots,
    portfolio,
    readiness,
    standards,
    uploads,
    workspaces,
)

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
    # issue 7: API keys and webhook endpoints, for workspace admins
    path("w/<slug:slug>/integrations/", integrations.integrations, name="integrations"),
    path("w/<slug:slug>/integrations/keys/", integrations.api_key_create, name="api_key_create"),
    path(
        "w/<slug:slug>/integrations/keys/<int:key_id>/revoke/",
        integrations.api_key_revoke,
        name="api_key_revoke",
    ),
    path("w/<slug:slug>/integrations/webhooks/", integrations.webhook_create, name="webhook_create"),
    path(
        "w/<slug:slug>/integrations/webhooks/<int:endpoint_id>/",
        integrations.webhook_deliveries,
        name="webhook_deliveries",
    ),
    path(
        "w/<slug:slug>/integrations/webhooks/<int:endpoint_id>/active/",
        integrations.webhook_active,
        name="webhook_active",
    ),
    path(
        "w/<slug:slug>/integrations/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/replay/",
        integrations.webhook_replay,
        name="webhook_replay",
    ),
    path("w/<slug:slug>/portfolio/", portfolio.portfolio_dashboard, name="portfolio"),
    path("w/<slug:slug>/portfolio/export.csv", portfolio.portfolio_export, name="portfolio_export"),
    path("w/<slug:slug>/pilots/", pilots.pilot_list, name="pilot_list"),
    path("w/<slug:slug>/pilots/new/", pilots.pilot_create, name="pilot_create"),
    path("pilots/<int:pilot_id>/", pilots.pilot_detail, name="pilot_detail"),
    path("pilots/<int:pilot_id>/edit/", pilots.pilot_edit, name="pilot_edit"),
    path("pilots/<int:pilot_id>/copy/", pilots.pilot_copy, name="pilot_copy"),
    path("pilots/<int:pilot_id>/activity/", pilots.pilot_activity, name="pilot_activity"),
    path("pilots/<int:pilot_id>/gates/", pilots.pilot_gate_record, name="pilot_gate_record"),
    path("pilots/<int:pilot_id>/gate-checks/", pilots.pilot_gate_checks, name="pilot_gate_checks"),
    path("pilots/<int:pilot_id>/readiness/", readiness.readiness_panel, name="readiness_panel"),
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
    # step 2: standardize inputs
    path("pilots/<int:pilot_id>/standard/", standards.standard, name="standard"),
    path("pilots/<int:pilot_id>/standard/rows/<slug:part>/", standards.standard_row, name="standard_row"),
    path("pilots/<int:pilot_id>/standard/names/", standards.standard_names, name="standard_names"),
    path(
        "pilots/<int:pilot_id>/standard/v<int:version>/", standards.standard_version, name="standard_version"
    ),
    path("pilots/<int:pilot_id>/standard/schema.json", standards.standard_schema, name="standard_schema"),
    path(
        "pilots/<int:pilot_id>/standard/template.csv", standards.standard_template, name="standard_template"
    ),
    path(
        "pilots/<int:pilot_id>/conformance-threshold/",
        standards.conformance_threshold,
        name="conformance_threshold",
    ),
    path("pilots/<int:pilot_id>/ai-versions/", standards.ai_versions, name="ai_versions"),
    path("pilots/<int:pilot_id>/inputs-panel/", cases.inputs_panel, name="inputs_panel"),
    path("pilots/<int:pilot_id>/cases/", cases.case_list, name="case_list"),
    path("pilots/<int:pilot_id>/cases/new/", cases.case_create, name="case_create"),
    path("pilots/<int:pilot_id>/cases/<int:case_id>/", cases.case_detail, name="case_detail"),
    path("pilots/<int:pilot_id>/uploads/", uploads.uploads, name="uploads"),
    path("pilots/<int:pilot_id>/uploads/<int:upload_id>/", uploads.upload_detail, name="upload_detail"),
    path(
        "pilots/<int:pilot_id>/uploads/<int:upload_id>/problems.csv",
        uploads.upload_problems,
        name="upload_problems",
    ),
]
