import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Case, F, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from programs.actors import actor_label
from programs.dates import end_of
from programs.history import tracked
from programs.models import Organization, Person, Program, scoped_queryset

from ..choices import (
    LIVE_FLAG_STATUSES,
    SEVERITY_RANK,
    EscalationLevel,
    FlagKind,
    FlagStatus,
    RiskLevel,
    ScanStatus,
    Severity,
    SubjectType,
)


def severity_rank(field: str = "severity") -> Case:
    """SEVERITY_RANK as an SQL expression (critical 4 … low 1), to sort or rank flags in the
    database; `field` names the severity to rank (`severity_on` for a flag as of a day)."""
    return Case(
        *[When(**{field: s}, then=Value(rank)) for s, rank in SEVERITY_RANK.items()],
        default=Value(0),
        output_field=IntegerField(),
    )


class FlagQuerySet(scoped_queryset("organization")):
    def live(self) -> "FlagQuerySet":
        """Open or acknowledged now (whatever their dates)."""
        return self.filter(status__in=LIVE_FLAG_STATUSES)

    def open_on(self, day: dt.date) -> "FlagQuerySet":
        """Flags open at the end of `day` (SPEC §2): first detected on or before it, and not
        closed (resolved or dismissed) by then: no `closed_on`, or a `closed_on` after it."""
        return self.filter(Q(closed_on__isnull=True) | Q(closed_on__gt=day), first_detected_on__lte=day)

    def with_status_on(self, day: dt.date) -> "FlagQuerySet":
        """Annotate `status_on`, a flag's status at the end of `day`: null when not detected yet
        (first detected after it); its closing status (resolved, dismissed) when closed by
        then; `acknowledged` when someone had acknowledged it by then; else `open`."""
        return self.annotate(
            status_on=Case(
                When(first_detected_on__gt=day, then=Value(None)),
                When(closed_on__lte=day, then=F("status")),
                When(acknowledged_at__lt=end_of(day), then=Value(FlagStatus.ACKNOWLEDGED.value)),
                default=Value(FlagStatus.OPEN.value),
                output_field=models.CharField(),
            )
        )

    def with_severity_on(self, day: dt.date) -> "FlagQuerySet":
        """Annotate `severity_on` and `title_on`, a flag's severity and title at the end of `day`.

        They are those of its latest snapshot (`Flag.history`, highest `history_id`) whose
        `last_detected_on` is on or before `day`: a snapshot speaks for the day of the scan
        that wrote it (its as_of), not for `history_date`, which is when it was written (a
        replayed scan of a past day writes its snapshots now). Scans only move a flag's
        detection forward (`flags_sync`), so a flag last detected on or before `day` is as
        stored; without any such snapshot (a flag older than its history), the stored values.

        From today on (`timezone.localdate()`) every flag is as stored: the
        annotations are the columns themselves, no subquery, so today's pages and the API
        cost what they cost without it. Before, one correlated subquery per column (a
        constant number of queries, none per row).
        """
        if day >= timezone.localdate():
            return self.annotate(severity_on=F("severity"), title_on=F("title"))
        snapshots = Flag.history.model.objects.filter(id=OuterRef("pk"), last_detected_on__lte=day).order_by(
            "-history_id"
        )

        def on_day(field: str) -> Case:
            return Case(
                When(last_detected_on__lte=day, then=F(field)),
                default=Coalesce(Subquery(snapshots.values(field)[:1]), F(field)),
                output_field=models.CharField(),
            )

        return self.annotate(severity_on=on_day("severity"), title_on=on_day("title"))

    def with_state_on(self, day: dt.date) -> "FlagQuerySet":
        """A flag as it stood at the end of `day` (SPEC §2): `status_on` (`with_status_on`),
        `severity_on` and `title_on` (`with_severity_on`). The one copy of both rules."""
        return self.with_status_on(day).with_severity_on(day)


class Flag(models.Model):
    """A finding that needs a named person to act."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="flags")
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="flags")
    kind = models.CharField(max_length=40, choices=FlagKind.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    subject_type = models.CharField(max_length=20, choices=SubjectType.choices)
    subject_id = models.PositiveBigIntegerField()
    owner = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="flags")
    title = models.CharField(max_length=300)
    detail = models.TextField(blank=True)
    evidence = models.JSONField(default=dict, blank=True)
    # Digest of the evidence facts that matter; a dismissed flag returns only when it changes.
    evidence_fingerprint = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=20, choices=FlagStatus.choices, default=FlagStatus.OPEN)
    first_detected_at = models.DateTimeField(default=timezone.now)
    last_detected_at = models.DateTimeField(default=timezone.now)
    first_detected_on = models.DateField(help_text="The scan's as_of date when first found.")
    last_detected_on = models.DateField(help_text="The scan's as_of date when last found.")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_by_key = models.ForeignKey(
        "programs.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_by_key = models.ForeignKey(
        "programs.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution_note = models.TextField(blank=True)
    closed_on = models.DateField(
        null=True,
        blank=True,
        help_text="The day it stopped being open: the as_of of the scan that resolved it, or the day a "
        "person resolved or dismissed it. Empty while open or acknowledged.",
    )
    escalation_level = models.PositiveSmallIntegerField(
        choices=EscalationLevel.choices,
        default=EscalationLevel.OWNER,
        help_text="Who has been told: 0 the owner, 1 the owner's manager, 2 the sponsor, 3 the board contact.",
    )
    escalated_at = models.DateTimeField(
        null=True, blank=True, help_text="When the flag reached its escalation level (empty at level 0)."
    )

    history = tracked()
    objects = FlagQuerySet.as_manager()

    class Meta:
        ordering = ["-last_detected_at", "-id"]
        constraints = [
            # One live flag per (kind, subject), held by the database even under concurrent scans.
            models.UniqueConstraint(
                fields=["kind", "subject_type", "subject_id"],
                condition=Q(status__in=LIVE_FLAG_STATUSES),
                name="flag_one_live_per_kind_subject",
            ),
            # A flag is closed exactly when it has the day it closed: "open on D" reads dates only.
            models.CheckConstraint(
                condition=Q(status__in=LIVE_FLAG_STATUSES, closed_on__isnull=True)
                | (~Q(status__in=LIVE_FLAG_STATUSES) & Q(closed_on__isnull=False)),
                name="flag_closed_on_iff_closed",
            ),
            models.CheckConstraint(
                condition=Q(escalation_level__gte=0) & Q(escalation_level__lte=3), name="flag_escalation_level_0_3"
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "kind"], condition=Q(status__in=LIVE_FLAG_STATUSES), name="flag_live_by_org"
            ),
            models.Index(fields=["program", "status"], name="flag_program_status"),
            models.Index(fields=["kind", "subject_type", "subject_id"], name="flag_kind_subject"),
            models.Index(fields=["program", "first_detected_on", "closed_on"], name="flag_program_days"),
        ]

    def __str__(self) -> str:
        return f"[{self.severity}] {self.title}"

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_FLAG_STATUSES


class FlagComment(models.Model):
    """A note on a flag (SPEC §2): written by a person (through their user account) or by an
    API key, never edited. Handing a flag to someone writes one too, naming both owners, so
    the flag's page reads as one thread of who said and did what."""

    flag = models.ForeignKey(Flag, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        Person,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="flag_comments",
        help_text="The person who wrote it (the user's person in the flag's organization); empty for an API key.",
    )
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_key = models.ForeignKey(
        "programs.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    history = tracked()
    objects = scoped_queryset("flag__organization").as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["flag", "created_at"], name="flagcomment_flag_created")]
        constraints = [models.CheckConstraint(condition=~Q(text=""), name="flagcomment_text_not_empty")]

    def __str__(self) -> str:
        return f"{self.author_label}: {self.text[:60]}"

    @property
    def author_label(self) -> str:
        """'Ana Costa', or 'API key “ERP feed” (created by Ana Costa)'. Load `author`,
        `author_user` and `author_key__created_by` with the comment (no query here)."""
        if self.author_id is not None:
            return self.author.name
        return actor_label(self.author_user, self.author_key) or "someone no longer here"


class ScanRun(models.Model):
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="scan_runs"
    )
    as_of = models.DateField()
    # The programs the scan was limited to (admin "scan now" on a selection); null = all scanned programs.
    program_ids = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=ScanStatus.choices, default=ScanStatus.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    raised = models.PositiveIntegerField(default=0)
    refreshed = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)

    objects = scoped_queryset("organization").as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Scan {self.organization or 'all'} as of {self.as_of} ({self.status})"


class RiskAssessment(models.Model):
    """Early-bail risk of one program on one date; rewritten, not duplicated, by a rescan."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="risk_assessments")
    as_of = models.DateField()
    score = models.PositiveSmallIntegerField()
    level = models.CharField(max_length=10, choices=RiskLevel.choices)
    factors = models.JSONField(default=list, blank=True)
    scan_run = models.ForeignKey(ScanRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = scoped_queryset("program__organization").as_manager()

    class Meta:
        ordering = ["-as_of"]
        get_latest_by = "as_of"
        constraints = [
            models.UniqueConstraint(fields=["program", "as_of"], name="risk_one_per_program_day"),
            models.CheckConstraint(condition=Q(score__gte=0) & Q(score__lte=100), name="risk_score_0_100"),
        ]

    def __str__(self) -> str:
        return f"{self.program} · {self.as_of}: {self.score} ({self.level})"
