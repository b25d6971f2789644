import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, F, Min, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from programs import readiness
from programs.dates import sane_date
from programs.history import tracked
from programs.models import BusinessUnit, Person, Program, pct_check, scoped_queryset
from programs.scoping import carry_organization

from .choices import LEVEL_RANK, Cadence, Direction, Health, Kind, Level, MetricStatus
from .health import health, health_expression

VALUE_DIGITS = {"max_digits": 20, "decimal_places": 4}


class MetricQuerySet(scoped_queryset("program__organization")):
    def active(self) -> "MetricQuerySet":
        return self.filter(status=MetricStatus.ACTIVE)

    def with_latest(self, as_of=None) -> "MetricQuerySet":
        """Annotate the latest measurement (value and period_end): one query for any list.

        With `as_of`, the latest with `period_end` on or before that day (a metric as it stood then)."""
        latest = Measurement.objects.filter(metric=OuterRef("pk")).order_by("-period_end")
        if as_of is not None:
            latest = latest.filter(period_end__lte=as_of)
        return self.annotate(
            latest_value=Subquery(latest.values("value")[:1]),
            latest_period_end=Subquery(latest.values("period_end")[:1]),
        )

    def with_health(self, as_of=None) -> "MetricQuerySet":
        """Annotate `latest_health`: `health` decided by the database, on the latest measurement
        (with `as_of`, the latest with `period_end` on or before that day), for the metric's
        fields as they are now. One probe of the (metric, period_end) index per metric."""
        latest = Measurement.objects.filter(metric=OuterRef("pk")).order_by("-period_end")
        if as_of is not None:
            latest = latest.filter(period_end__lte=as_of)
        decided = latest.annotate(
            decided=health_expression(
                direction=OuterRef("direction"),
                baseline=OuterRef("baseline"),
                baseline_on=OuterRef("baseline_on"),
                target=OuterRef("target"),
                target_on=OuterRef("target_on"),
                latest_value=F("value"),
                latest_period_end=F("period_end"),
            )
        )
        return self.annotate(
            latest_health=Coalesce(Subquery(decided.values("decided")[:1]), Value(Health.NO_DATA.value))
        )


class Metric(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="metrics")
    # RESTRICT, not PROTECT: a parent is not deleted from under its children, but a whole
    # cascade goes when its (never activated, draft) program is deleted.
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.RESTRICT, related_name="children")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    level = models.CharField(max_length=20, choices=Level.choices)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    unit = models.CharField(max_length=50, blank=True)
    direction = models.CharField(max_length=10, choices=Direction.choices, default=Direction.INCREASE)
    baseline = models.DecimalField(**VALUE_DIGITS, null=True, blank=True)
    baseline_on = models.DateField(null=True, blank=True, validators=[sane_date])
    target = models.DecimalField(**VALUE_DIGITS, null=True, blank=True)
    target_on = models.DateField(null=True, blank=True, validators=[sane_date])
    owner = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="metrics")
    business_unit = models.ForeignKey(
        BusinessUnit, null=True, blank=True, on_delete=models.SET_NULL, related_name="metrics"
    )
    incentive_weight = models.PositiveSmallIntegerField(
        default=0, help_text="Share of the owner's variable pay tied to this metric (0–100)."
    )
    reporting_cadence = models.CharField(max_length=20, choices=Cadence.choices, default=Cadence.MONTHLY)
    status = models.CharField(max_length=20, choices=MetricStatus.choices, default=MetricStatus.ACTIVE)
    replaced_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replaces")
    created_at = models.DateTimeField(default=timezone.now)

    history = tracked()
    objects = MetricQuerySet.as_manager()

    class Meta:
        ordering = ["program", "name"]
        constraints = [
            pct_check("incentive_weight"),
            models.CheckConstraint(condition=~Q(parent=models.F("id")), name="metric_not_own_parent"),
        ]
        indexes = [models.Index(fields=["program", "status"], name="metric_program_status")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        validate_parent(self, self.parent)

    def save(self, *args, **kwargs) -> None:
        # Every write path (admin, API, services) passes here, so the cascade stays a tree.
        validate_parent(self, self.parent)
        super().save(*args, **kwargs)

    @property
    def health(self) -> Health:
        if "latest_value" not in self.__dict__:
            latest = self.measurements.order_by("-period_end").first()
            self.latest_value = latest.value if latest else None
            self.latest_period_end = latest.period_end if latest else None
        return health(
            direction=self.direction,
            baseline=self.baseline,
            baseline_on=self.baseline_on,
            target=self.target,
            target_on=self.target_on,
            latest_value=self.latest_value,
            latest_period_end=self.latest_period_end,
        )


def validate_parent(metric: Metric, parent: Metric | None) -> None:
    """A parent is in the same program, at the same or a higher level, and never a descendant."""
    if parent is None:
        return
    if metric.program_id and parent.program_id != metric.program_id:
        raise ValidationError({"parent": "The parent metric must belong to the same program."})
    if metric.level and LEVEL_RANK[parent.level] < LEVEL_RANK[metric.level]:
        raise ValidationError({"parent": f"A {metric.level} metric cannot sit under a {parent.level} metric."})
    if metric.pk is None:
        return
    # Walk up from the parent; the cascade is shallow, so this is a handful of rows.
    seen: set[int] = set()
    node_id = parent.pk
    parents = dict(Metric.objects.filter(program_id=parent.program_id).values_list("id", "parent_id"))
    while node_id is not None and node_id not in seen:
        if node_id == metric.pk:
            raise ValidationError({"parent": "That parent would make the cascade a cycle."})
        seen.add(node_id)
        node_id = parents.get(node_id)


#: How long after being recorded a measurement may still be deleted (SPEC §2: afterwards a
#: scan may have read it, so it is corrected, never deleted).
MEASUREMENT_DELETE_WINDOW = dt.timedelta(hours=24)
#: The rule, as every entry point shows it when it refuses.
MEASUREMENT_DELETE_RULE = (
    "A measurement can be deleted only within 24 hours of being recorded; after that it is evidence: "
    "correct its value instead."
)


class MeasurementQuerySet(scoped_queryset("organization", program="metric__program")):
    def with_first_recorded(self) -> "MeasurementQuerySet":
        """Annotate `first_recorded_at`: when the row was first written.

        `recorded_at` moves with every correction, so the first history row (simple-history
        keeps one per write) says when the value was first recorded; a row older than its
        history (imported) falls back to `recorded_at`. A correction never reopens the
        delete window.
        """
        first = (
            Measurement.history.model.objects.filter(id=OuterRef("pk"))
            .order_by()
            .values("id")
            .annotate(first=Min("history_date"))
            .values("first")
        )
        # LEAST ignores NULL on PostgreSQL but not on SQLite: COALESCE makes both agree.
        return self.annotate(first_recorded_at=Coalesce(Least(Subquery(first), F("recorded_at")), F("recorded_at")))

    def past_delete_window(self, now: dt.datetime | None = None) -> "MeasurementQuerySet":
        """Rows recorded more than 24 hours before `now`: never deleted."""
        now = now or timezone.now()
        return self.with_first_recorded().filter(first_recorded_at__lte=now - MEASUREMENT_DELETE_WINDOW)

    def delete(self):
        # Every ORM path (a shell, a bulk delete) meets the rule, not only the service.
        if self.past_delete_window().exists():
            raise ValidationError(MEASUREMENT_DELETE_RULE, code="evidence")
        return super().delete()

    delete.queryset_only = True


class Measurement(models.Model):
    # Not indexed alone: `measurement_one_per_period` (metric, period_end) leads with it.
    metric = models.ForeignKey(Metric, on_delete=models.PROTECT, related_name="measurements", db_index=False)
    period_end = models.DateField(validators=[sane_date])
    value = models.DecimalField(**VALUE_DIGITS)
    source = models.CharField(max_length=200, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)
    # The metric's organization, copied when the row is written (a program never changes
    # organization). The biggest table is then scoped by its own column, and the index
    # below serves an organization's list in its order: a page never walks, nor counts,
    # another organization's rows (docs/performance.md).
    organization = models.ForeignKey(
        "programs.Organization", on_delete=models.PROTECT, related_name="+", editable=False, db_index=False
    )

    # Snapshots keep the organization (the change log scopes each entry by it), unindexed:
    # nothing looks history up by organization, and each ingested row would pay for it.
    history = tracked(no_db_index=["organization"])
    objects = MeasurementQuerySet.as_manager()

    class Meta:
        ordering = ["metric", "-period_end"]
        constraints = [models.UniqueConstraint(fields=["metric", "period_end"], name="measurement_one_per_period")]
        indexes = [models.Index(fields=["organization", "metric", "-period_end"], name="measurement_org_list")]

    def __str__(self) -> str:
        return f"{self.metric} · {self.period_end} = {self.value}"

    def save(self, *args, **kwargs) -> None:
        carry_organization(self)  # `measurements_upsert` sets it with the value
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if Measurement.objects.filter(pk=self.pk).past_delete_window().exists():
            raise ValidationError(MEASUREMENT_DELETE_RULE, code="evidence")
        return super().delete(*args, **kwargs)


REVISION_RULE = "Metric revisions are never edited or deleted."


class MetricRevisionQuerySet(scoped_queryset("metric__program__organization")):
    """Revisions are appended, never rewritten: bulk updates and deletes are refused too."""

    def update(self, **kwargs):
        raise ValidationError(REVISION_RULE, code="evidence")

    def delete(self):
        raise ValidationError(REVISION_RULE, code="evidence")

    delete.queryset_only = True


class MetricRevision(models.Model):
    """Append-only record of a guarded metric change, with its reason."""

    # Revisions are never deleted by any path: they keep their metric (and its program) too.
    metric = models.ForeignKey(Metric, on_delete=models.PROTECT, related_name="revisions")
    field = models.CharField(max_length=50)
    old_value = models.TextField(blank=True, null=True)
    new_value = models.TextField(blank=True, null=True)
    reason = models.TextField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_by_key = models.ForeignKey(
        "programs.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)
    # A lazy reference, not an import: the forum that decided the change, when there was one.
    approved_in = models.ForeignKey(
        "accountability.ForumSession",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="approved_revisions",
    )

    objects = MetricRevisionQuerySet.as_manager()

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["metric", "field", "changed_at"], name="revision_metric_field_at")]

    def __str__(self) -> str:
        return f"{self.metric} · {self.field}: {self.old_value} → {self.new_value}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValidationError(REVISION_RULE, code="evidence")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(REVISION_RULE, code="evidence")


class ExemptionQuerySet(scoped_queryset("metric__program__organization")):
    def active_on(self, day) -> "ExemptionQuerySet":
        return self.filter(starts_on__lte=day).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))


class Exemption(models.Model):
    metric = models.ForeignKey(Metric, on_delete=models.CASCADE, related_name="exemptions")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="exemptions")
    reason = models.TextField()
    granted_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="granted_exemptions"
    )
    starts_on = models.DateField(validators=[sane_date])
    ends_on = models.DateField(null=True, blank=True, validators=[sane_date])
    created_at = models.DateTimeField(default=timezone.now)

    history = tracked()
    objects = ExemptionQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="exemption_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} excused from {self.metric}"


readiness.register(
    readiness.ReadinessCheck(
        "strategic_outcome_metric",
        "At least one strategic metric of kind outcome.",
        60,
        lambda: Exists(
            Metric.objects.filter(
                program=OuterRef("pk"), level=Level.STRATEGIC, kind=Kind.OUTCOME, status=MetricStatus.ACTIVE
            )
        ),
    )
)
