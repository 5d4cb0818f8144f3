"""Step 1 — define success in business terms: metric definitions and their measurements."""

from datetime import date

from django.conf import settings
from django.db import models

from metrics.attainment import Attainment, attainment
from pilots.models import Pilot


class Kind(models.TextChoices):
    CYCLE_TIME = "cycle_time", "Cycle time"
    ERROR_RATE = "error_rate", "Error rate"
    TOUCHPOINTS = "touchpoints", "Touchpoints per case"
    EXTERNAL_SPEND = "external_spend", "External spend"
    CUSTOM = "custom", "Custom"


BUSINESS_KINDS = (Kind.CYCLE_TIME, Kind.ERROR_RATE, Kind.TOUCHPOINTS, Kind.EXTERNAL_SPEND)


class Direction(models.TextChoices):
    LOWER = "lower", "Lower is better"
    HIGHER = "higher", "Higher is better"


class Method(models.TextChoices):
    MANUAL = "manual", "Measured by hand"
    FROM_CASES = "from_cases", "Computed from the pilot's cases"


class Metric(models.Model):
    pilot = models.ForeignKey(Pilot, on_delete=models.CASCADE, related_name="metrics")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    unit = models.CharField(max_length=30)
    direction = models.CharField(max_length=6, choices=Direction.choices, default=Direction.LOWER)
    outcome = models.CharField("business outcome it moves", max_length=300, blank=True)
    baseline = models.FloatField()
    baseline_on = models.DateField("baseline as of")
    baseline_source = models.CharField(max_length=300, blank=True)
    target = models.FloatField()
    target_date = models.DateField()
    method = models.CharField(max_length=12, choices=Method.choices, default=Method.MANUAL)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_metrics"
    )
    # Set by the vanity guard when the name or unit counts activity rather than business value.
    vanity_warning = models.CharField(max_length=400, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pilot", "name", "id"]
        constraints = [models.UniqueConstraint(fields=["pilot", "name"], name="one_metric_name_per_pilot")]

    def __str__(self) -> str:
        return self.name

    def attainment(self, current: float | None, *, today: date) -> Attainment:
        """How far `current` is from the baseline toward the target, against the time elapsed."""
        return attainment(
            baseline=self.baseline,
            target=self.target,
            current=current,
            start=self.baseline_on,
            end=self.target_date,
            today=today,
        )

    @property
    def headline_rank(self) -> tuple[bool, bool]:
        """Lowest first is the metric a pilot leads with: a business metric computed from cases, else a
        business metric, else any."""
        return (self.kind not in BUSINESS_KINDS, self.method != Method.FROM_CASES)


class Measurement(models.Model):
    class Source(models.TextChoices):
        MANUAL = "manual", "Entered"
        IMPORT = "import", "Imported"
        COMPUTED = "computed", "Computed from cases"

    metric = models.ForeignKey(Metric, on_delete=models.CASCADE, related_name="measurements")
    value = models.FloatField()
    on = models.DateField("measured on")  # for computed figures: the Monday of the ISO week
    note = models.CharField(max_length=300, blank=True)
    source = models.CharField(max_length=8, choices=Source.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cases = models.PositiveIntegerField(null=True, blank=True)  # computed: how many cases the figure is from
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["metric", "on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "on"],
                condition=models.Q(source="computed"),
                name="one_computed_figure_per_metric_and_week",
            ),
        ]
        indexes = [models.Index(fields=["metric", "-on"])]

    def __str__(self) -> str:
        return f"{self.metric}: {self.value} on {self.on}"
