from django.urls import path

from exceptions.views import log, queue, review, rules

urlpatterns = [
    # routing rules (program managers) and the step's panel on the pilot page
    path("pilots/<int:pilot_id>/rules/", rules.rules, name="rules"),
    path("pilots/<int:pilot_id>/rules/edit/", rules.rules_edit, name="rules_edit"),
    path("pilots/<int:pilot_id>/rules/clause/", rules.rules_clause, name="rules_clause"),
    path("pilots/<int:pilot_id>/rules/v<int:version>/", rules.rules_version, name="rules_version"),
    path("pilots/<int:pilot_id>/rules/route-stored/", rules.route_stored, name="rules_route_stored"),
    path(
        "pilots/<int:pilot_id>/rules/suggestions/refresh/",
        rules.suggestions_refresh,
        name="suggestions_refresh",
    ),
    path(
        "pilots/<int:pilot_id>/rules/suggestions/<int:suggestion_id>/apply/",
        rules.suggestion_apply,
        name="suggestion_apply",
    ),
    path(
        "pilots/<int:pilot_id>/rules/suggestions/<int:suggestion_id>/dismiss/",
        rules.suggestion_dismiss,
        name="suggestion_dismiss",
    ),
    path("pilots/<int:pilot_id>/exceptions/panel/", rules.exceptions_panel, name="exceptions_panel"),
    # the review queue (reviewers' home)
    path("w/<slug:slug>/review/", queue.review_queue, name="review_queue"),
    path("review/<int:escalation_id>/", review.review_case, name="review_case"),
    path("review/<int:escalation_id>/claim/", review.review_claim, name="review_claim"),
    path("review/<int:escalation_id>/release/", review.review_release, name="review_release"),
    path("review/<int:escalation_id>/decide/", review.review_decide, name="review_decide"),
    # the decision log
    path("pilots/<int:pilot_id>/decisions/", log.decision_log, name="decision_log"),
    path("pilots/<int:pilot_id>/decisions.csv", log.decision_log_csv, name="decision_log_csv"),
]
