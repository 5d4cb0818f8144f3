from django.urls import path

from feedback.views import corrections, learning, reasons, regression

urlpatterns = [
    path("pilots/<int:pilot_id>/corrections/", corrections.corrections, name="corrections"),
    path(
        "pilots/<int:pilot_id>/corrections/incorporate/",
        corrections.incorporate,
        name="corrections_incorporate",
    ),
    path(
        "pilots/<int:pilot_id>/corrections/<int:correction_id>/classify/",
        corrections.classify,
        name="correction_classify",
    ),
    path("pilots/<int:pilot_id>/cases/<int:case_id>/correct/", corrections.case_correct, name="case_correct"),
    path("pilots/<int:pilot_id>/regression-set/", regression.regression_set, name="regression_set"),
    path(
        "pilots/<int:pilot_id>/regression-set.jsonl",
        regression.regression_set_jsonl,
        name="regression_set_jsonl",
    ),
    path(
        "pilots/<int:pilot_id>/regression-set.csv", regression.regression_set_csv, name="regression_set_csv"
    ),
    path("pilots/<int:pilot_id>/reason-codes/", reasons.reason_codes, name="reason_codes"),
    path("pilots/<int:pilot_id>/learning/", learning.learning, name="learning"),
    path("pilots/<int:pilot_id>/learning/panel/", learning.feedback_panel, name="feedback_panel"),
    path(
        "pilots/<int:pilot_id>/acceptable-correction-rate/",
        learning.acceptable_rate,
        name="acceptable_correction_rate",
    ),
]
