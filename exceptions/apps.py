from django.apps import AppConfig


class ExceptionsConfig(AppConfig):
    """Step 3 — build exception paths: routing rules, the review queue, decisions, rule refinement."""

    name = "exceptions"
    verbose_name = "Exception paths"
