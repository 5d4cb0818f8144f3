from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    """Step 4 — add feedback loops: corrections, their incorporation, and whether the pilot learns."""

    name = "feedback"
    verbose_name = "Feedback loops"
