from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, ProtectedError, Q
from django.utils import timezone

from metrics.models import Metric
from programs import readiness
from programs.dates import sane_date
from programs.history import tracked
from programs.models import Initiative, Person, Program, scoped_queryset
from programs.scoping import carry_organization

from ..choices import CADENCE_DAYS, ActionStatus, AgendaOutcome, Cadence, SessionStatus


class Forum(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="forums")
    name = models.CharField(max_length=200)
    purpose = models.TextField(blank=True)
    cadence = models.CharField(max_length=20, choices=Cadence.choices, default=Cadence.MONTHLY)
    started_on = models.DateField(
        default=timezone.localdate, validators=[sane_date], help_text="Date of its first meeting."
    )
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


#: The rule, as every entry point shows it when it refuses (SPEC §2, ForumSession).
SESSION_EVIDENCE_RULE = (
    "A session that is no longer scheduled is evidence: it is corrected, never deleted, and so are its "
    "attendance and agenda items."
)


def evidence_q(session: str = "") -> Q:
    """Rows whose session (`session` = the path to it, "" for ForumSession itself) is evidence.

    A session is evidence once it has left `scheduled` (held, cancelled, postponed), now or
    at any point of its history: setting it back to `scheduled` does not make it deletable.
    """
    history = ForumSession.history.model.objects.filter(id=OuterRef(f"{session}pk")).exclude(
        status=SessionStatus.SCHEDULED
    )
    return ~Q(**{f"{session}status": SessionStatus.SCHEDULED}) | Exists(history)


def _session_path(model) -> str:
    return "" if model is ForumSession else "session__"


def _refuse_evidence(field, sub_objs, using) -> None:
    """ProtectedError when any of the rows a delete would take (`sub_objs`) belongs to evidence."""
    rows = sub_objs
    if not isinstance(rows, models.QuerySet):
        rows = field.model._base_manager.using(using).filter(pk__in=[obj.pk for obj in sub_objs])
    evidence = list(rows.filter(evidence_q(_session_path(field.model))))
    if evidence:
        raise ProtectedError(SESSION_EVIDENCE_RULE, evidence)


def protect_evidence(collector, field, sub_objs, using) -> None:
    """`on_delete` of the foreign keys holding a session's record: PROTECT for evidence, else CASCADE.

    Used by ForumSession.forum, Attendance.session, Attendance.person and AgendaItem.session,
    so no cascade (a forum, a person or a draft program deleted, a session deleted by any ORM
    path) takes a held, cancelled or postponed session or its attendance and agenda with it;
    rows of sessions still only scheduled go with their parent as before. One query per
    relation, whatever the number of rows.
    """
    _refuse_evidence(field, sub_objs, using)
    models.CASCADE(collector, field, sub_objs, using)


def protect_evidence_else_set_null(collector, field, sub_objs, using) -> None:
    """`on_delete` of Attendance.delegate: a delegate who stood in at a held session stays named
    (deleting that person is refused); at a session still scheduled the field is emptied."""
    _refuse_evidence(field, sub_objs, using)
    models.SET_NULL(collector, field, sub_objs, using)


class EvidenceGuardedQuerySet(models.QuerySet):
    """A queryset whose bulk delete refuses rows of sessions that are evidence."""

    def delete(self):
        if self.filter(evidence_q(_session_path(self.model))).exists():
            raise ValidationError(SESSION_EVIDENCE_RULE, code="evidence")
        return super().delete()

    delete.queryset_only = True


class EvidenceGuardedModel(models.Model):
    """A session, or a row of a session's record: `delete()` refuses evidence (SESSION_EVIDENCE_RULE)."""

    class Meta:
        abstract = True

    def delete(self, *args, **kwargs):
        if type(self)._base_manager.filter(pk=self.pk).filter(evidence_q(_session_path(type(self)))).exists():
            raise ValidationError(SESSION_EVIDENCE_RULE, code="evidence")
        return super().delete(*args, **kwargs)


class ForumSessionQuerySet(EvidenceGuardedQuerySet, scoped_queryset("organization", program="forum__program")):
    """Sessions: scoped by the organization they carry, evidence guarded."""


class SessionRecordQuerySet(
    EvidenceGuardedQuerySet, scoped_queryset("organization", program="session__forum__program")
):
    """Attendance and agenda items: scoped by the organization they carry, evidence guarded."""


class ForumSession(EvidenceGuardedModel):
    forum = models.ForeignKey(Forum, on_delete=protect_evidence, related_name="sessions")
    # The forum's organization, copied when the row is written (a program never changes
    # organization), as its attendance and agenda items carry it: an organization's list,
    # and its count, read only its own sessions by the index that starts with it, where
    # they joined every organization's sessions to their forums and programs
    # (docs/performance.md, seventh round).
    organization = models.ForeignKey(
        "programs.Organization", on_delete=models.PROTECT, related_name="+", editable=False, db_index=False
    )
    scheduled_for = models.DateTimeField(validators=[sane_date])
    status = models.CharField(max_length=20, choices=SessionStatus.choices, default=SessionStatus.SCHEDULED)
    notes = models.TextField(blank=True)

    # Snapshots keep the organization unindexed, as a measurement's do.
    history = tracked(no_db_index=["organization"])
    objects = ForumSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-scheduled_for"]
        indexes = [
            models.Index(fields=["forum", "status", "scheduled_for"], name="session_forum_status_at"),
            # The API list's order within an organization: a page walks it, and the count
            # reads it alone, whatever other organizations hold (docs/performance.md).
            models.Index(fields=["organization", "-scheduled_for", "-id"], name="session_org_list"),
        ]

    def __str__(self) -> str:
        return f"{self.forum} · {self.scheduled_for:%Y-%m-%d}"

    def save(self, *args, **kwargs) -> None:
        carry_organization(self)
        super().save(*args, **kwargs)


class SessionRecordRow(EvidenceGuardedModel):
    """A row of a session's record (attendance, an agenda item). It carries its session's
    organization, copied when the row is written (a session never changes organization),
    so that an organization's list and its count read only its own rows, by the index
    that starts with it, where they walked every organization's sessions in id order
    (docs/performance.md)."""

    organization = models.ForeignKey(
        "programs.Organization", on_delete=models.PROTECT, related_name="+", editable=False, db_index=False
    )

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        carry_organization(self)
        super().save(*args, **kwargs)


class Attendance(SessionRecordRow):
    session = models.ForeignKey(ForumSession, on_delete=protect_evidence, related_name="attendance")
    # A person who attended (or stood in at) a held session stays on its record: see protect_evidence.
    person = models.ForeignKey(Person, on_delete=protect_evidence, related_name="attendance")
    present = models.BooleanField(default=False)
    delegate = models.ForeignKey(
        Person,
        null=True,
        blank=True,
        on_delete=protect_evidence_else_set_null,
        related_name="delegated_attendance",
        help_text="Who came instead, if someone did.",
    )

    # Snapshots keep the organization unindexed, as a measurement's do.
    history = tracked(no_db_index=["organization"])
    objects = SessionRecordQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "attendance"
        constraints = [models.UniqueConstraint(fields=["session", "person"], name="attendance_one_per_person")]
        indexes = [models.Index(fields=["organization", "session", "id"], name="attendance_org_list")]

    def __str__(self) -> str:
        return f"{self.person} @ {self.session}: {'present' if self.present else 'absent'}"

    def clean(self) -> None:
        super().clean()
        check_attendance(present=self.present, delegate_id=self.delegate_id)


#: Refusal of a person both present and represented by a delegate (SPEC §2, Membership).
DELEGATE_OF_PRESENT = "A delegate comes instead of an absent person: set present to false, or leave the delegate out."


def check_attendance(*, present: bool, delegate_id: int | None) -> None:
    """The one rule of an attendance's presence: a delegate comes instead of an absent
    person, so a person present with a delegate is refused (ValidationError on `delegate`).
    `Attendance.clean` runs it (the admin, the sessions spreadsheet import's `full_clean`);
    the API's attendance serializer and meeting mode's record call it before writing."""
    if present and delegate_id is not None:
        raise ValidationError({"delegate": [DELEGATE_OF_PRESENT]})


class AgendaItem(SessionRecordRow):
    session = models.ForeignKey(ForumSession, on_delete=protect_evidence, related_name="agenda_items")
    title = models.CharField(max_length=300)
    metric = models.ForeignKey(Metric, null=True, blank=True, on_delete=models.SET_NULL, related_name="agenda_items")
    initiative = models.ForeignKey(
        Initiative, null=True, blank=True, on_delete=models.SET_NULL, related_name="agenda_items"
    )
    customer_item = models.BooleanField(default=True)
    outcome = models.CharField(max_length=20, choices=AgendaOutcome.choices, default=AgendaOutcome.DISCUSSED)

    history = tracked(no_db_index=["organization"])
    objects = SessionRecordQuerySet.as_manager()

    class Meta:
        ordering = ["session", "id"]
        indexes = [models.Index(fields=["organization", "session", "id"], name="agenda_item_org_list")]

    def __str__(self) -> str:
        return self.title


class ActionItemQuerySet(scoped_queryset("program__organization")):
    def open_on(self, day) -> "ActionItemQuerySet":
        """Action items open at the end of `day`: open now, or done after it (completed_on
        later than `day`), so a past day replays what was open then. A cancelled action has
        no date: it counts as closed on every day. The one copy of the rule (action_overdue,
        My items)."""
        return self.filter(Q(status=ActionStatus.OPEN) | Q(status=ActionStatus.DONE, completed_on__gt=day))


class ActionItem(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="action_items")
    session = models.ForeignKey(
        ForumSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="action_items"
    )
    owner = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="action_items")
    description = models.TextField()
    due_on = models.DateField(validators=[sane_date])
    status = models.CharField(max_length=20, choices=ActionStatus.choices, default=ActionStatus.OPEN)
    completed_on = models.DateField(null=True, blank=True, validators=[sane_date])

    history = tracked()
    objects = ActionItemQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "id"]
        # The list's order (as session_list_order).
        indexes = [models.Index(fields=["due_on", "id"], name="action_list_order")]

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
    raised_on = models.DateField(validators=[sane_date])
    resolved_on = models.DateField(null=True, blank=True, validators=[sane_date])
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
