from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from metrics.models import Metric
from programs import readiness
from programs.history import tracked
from programs.models import Initiative, Person, Program, scoped_queryset

from ..choices import CADENCE_DAYS, ActionStatus, AgendaOutcome, Cadence, SessionStatus


class Forum(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="forums")
    name = models.CharField(max_length=200)
    purpose = models.TextField(blank=True)
    cadence = models.CharField(max_length=20, choices=Cadence.choices, default=Cadence.MONTHLY)
    started_on = models.DateField(default=timezone.localdate, help_text="Date of its first meeting.")
    chair = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="chaired_forums")
    members = models.ManyToManyField(Person, blank=True, related_name="forums")
    dedicated = models.BooleanField(
        default=True, help_text="Customer work has its own meeting, not a slot in another one."
    )
    metrics_reviewed = models.ManyToManyField(Metric, blank=True, related_name="forums")
    active = models.BooleanField(default=True)

    history = tracked()
    objects = scoped_queryset("program__organization").as_manager()

    class Meta:
        ordering = ["program", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def cadence_days(self) -> int:
        return CADENCE_DAYS[self.cadence]


class ForumSession(models.Model):
    forum = models.ForeignKey(Forum, on_delete=models.CASCADE, related_name="sessions")
    scheduled_for = models.DateTimeField()
    status = models.CharField(max_length=20, choices=SessionStatus.choices, default=SessionStatus.SCHEDULED)
    notes = models.TextField(blank=True)

    history = tracked()
    objects = scoped_queryset("forum__program__organization").as_manager()

    class Meta:
        ordering = ["-scheduled_for"]
        indexes = [models.Index(fields=["forum", "status", "scheduled_for"], name="session_forum_status_at")]

    def __str__(self) -> str:
        return f"{self.forum} · {self.scheduled_for:%Y-%m-%d}"


class Attendance(models.Model):
    session = models.ForeignKey(ForumSession, on_delete=models.CASCADE, related_name="attendance")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="attendance")
    present = models.BooleanField(default=False)
    delegate = models.ForeignKey(
        Person,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="delegated_attendance",
        help_text="Who came instead, if someone did.",
    )

    history = tracked()
    objects = scoped_queryset("session__forum__program__organization").as_manager()

    class Meta:
        verbose_name_plural = "attendance"
        constraints = [models.UniqueConstraint(fields=["session", "person"], name="attendance_one_per_person")]

    def __str__(self) -> str:
        return f"{self.person} @ {self.session}: {'present' if self.present else 'absent'}"


class AgendaItem(models.Model):
    session = models.ForeignKey(ForumSession, on_delete=models.CASCADE, related_name="agenda_items")
    title = models.CharField(max_length=300)
    metric = models.ForeignKey(Metric, null=True, blank=True, on_delete=models.SET_NULL, related_name="agenda_items")
    initiative = models.ForeignKey(
        Initiative, null=True, blank=True, on_delete=models.SET_NULL, related_name="agenda_items"
    )
    customer_item = models.BooleanField(default=True)
    outcome = models.CharField(max_length=20, choices=AgendaOutcome.choices, default=AgendaOutcome.DISCUSSED)

    history = tracked()
    objects = scoped_queryset("session__forum__program__organization").as_manager()

    class Meta:
        ordering = ["session", "id"]

    def __str__(self) -> str:
        return self.title


class ActionItem(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="action_items")
    session = models.ForeignKey(
        ForumSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="action_items"
    )
    owner = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="action_items")
    description = models.TextField()
    due_on = models.DateField()
    status = models.CharField(max_length=20, choices=ActionStatus.choices, default=ActionStatus.OPEN)
    completed_on = models.DateField(null=True, blank=True)

    history = tracked()
    objects = scoped_queryset("program__organization").as_manager()

    class Meta:
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return self.description[:80]


class Escalation(models.Model):
    """A stalled item taken to the sponsor for air cover."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="escalations")
    initiative = models.ForeignKey(
        Initiative, null=True, blank=True, on_delete=models.CASCADE, related_name="escalations"
    )
    metric = models.ForeignKey(Metric, null=True, blank=True, on_delete=models.CASCADE, related_name="escalations")
    raised_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="escalations_raised")
    raised_to = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="escalations_received")
    raised_on = models.DateField()
    resolved_on = models.DateField(null=True, blank=True)
    decision = models.TextField(blank=True)

    history = tracked()
    objects = scoped_queryset("program__organization").as_manager()

    class Meta:
        ordering = ["-raised_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(initiative__isnull=False, metric__isnull=True)
                | Q(initiative__isnull=True, metric__isnull=False),
                name="escalation_one_subject",
            ),
            models.CheckConstraint(
                condition=Q(resolved_on__isnull=True) | Q(resolved_on__gte=models.F("raised_on")),
                name="escalation_resolved_after_raised",
            ),
        ]

    def __str__(self) -> str:
        return f"Escalation: {self.initiative or self.metric}"


readiness.register(
    readiness.ReadinessCheck(
        "active_forum",
        "At least one active accountability forum.",
        50,
        lambda: Exists(Forum.objects.filter(program=OuterRef("pk"), active=True)),
    )
)
