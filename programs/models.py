import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Exists, ExpressionWrapper, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from . import readiness
from .choices import (
    COMMITMENT_QUESTIONS,
    SCANNED_STATUSES,
    AlertPreference,
    InitiativeStatus,
    ProgramStatus,
    Rag,
    Role,
    StageStatus,
)
from .currencies import DEFAULT_CURRENCY, validate_currency
from .dates import day_start, end_of, sane_date, window_start
from .history import tracked
from .scoping import carry_organization, scoped_queryset

# A program cancelled within this many days is still looked at for `commitment_breached`.
BREACH_WATCH_DAYS = 365
# The commitment's default at launch: no pause, cancellation or shorter horizon in the first
# two years (`earliest_review_on` = started_on + 24 months).
DEFAULT_REVIEW_MONTHS = 24


def pct_check(field: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__gte": 0}) & Q(**{f"{field}__lte": 100}),
        name=f"%(app_label)s_%(class)s_{field}_0_100",
    )


class Organization(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    ceo = models.ForeignKey(
        "Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="CEO"
    )
    board_contact = models.ForeignKey(
        "Person",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The board member to whom flags about the CEO or a sponsor escalate.",
    )
    board_recipients = models.ManyToManyField(
        "Person", blank=True, related_name="+", help_text="The people who receive the monthly board pack."
    )
    currency = models.CharField(
        max_length=3,
        default=DEFAULT_CURRENCY,
        db_default=DEFAULT_CURRENCY,
        validators=[validate_currency],
        help_text="ISO 4217 code (EUR, USD, GBP...): money is shown in it everywhere.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    history = tracked()
    objects = scoped_queryset("pk").as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)

    history = tracked()
    objects = scoped_queryset("organization").as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organization"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} · {self.organization} · {self.role}"


class ApiKeyQuerySet(scoped_queryset("organization")):
    def usable(self) -> "ApiKeyQuerySet":
        return self.filter(revoked_at__isnull=True)


class ApiKey(models.Model):
    """An integration's credential. Only the SHA-256 of the key is stored."""

    PREFIX = "cxg_"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    role = models.CharField(max_length=20, choices=Role.choices)
    key_prefix = models.CharField(max_length=16, editable=False, help_text="First characters, to recognise a key.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    history = tracked()
    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @staticmethod
    def hash(raw_key: str) -> str:
        return hashlib.sha256(raw_key.encode()).hexdigest()

    @classmethod
    def generate(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)

    def set_key(self, raw_key: str) -> None:
        self.key_prefix = raw_key[:10]
        self.key_hash = self.hash(raw_key)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


def new_calendar_token() -> str:  # 32 random bytes, URL-safe: the secret of a calendar feed
    return secrets.token_urlsafe(32)


class Person(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="people")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    title = models.CharField(max_length=200, blank=True)
    is_officer = models.BooleanField(default=False, help_text="An officer of the company (C-level or equivalent).")
    reports_to = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports")
    active = models.BooleanField(default=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="people"
    )
    # /calendar/<token>.ics; regenerating it revokes the old address. Not in the history: old secrets aren't evidence.
    calendar_token = models.CharField(max_length=64, unique=True, default=new_calendar_token, editable=False)
    low_medium_emails = models.CharField(
        max_length=10, choices=AlertPreference.choices, default=AlertPreference.NONE, help_text=AlertPreference.__doc__
    )

    history = tracked(excluded_fields=["calendar_token"])
    objects = scoped_queryset("organization").as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "people"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"], condition=Q(user__isnull=False), name="person_one_per_user_and_org"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name}, {self.title}" if self.title else self.name


class BusinessUnit(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="business_units")
    name = models.CharField(max_length=200)

    history = tracked()
    objects = scoped_queryset("organization").as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="business_unit_unique_name")]

    def __str__(self) -> str:
        return self.name


class ProgramQuerySet(scoped_queryset("organization")):
    def scanned(self) -> "ProgramQuerySet":
        return self.filter(status__in=SCANNED_STATUSES)

    def commitment_watched(self, as_of) -> "ProgramQuerySet":
        """The programs `commitment_breached` looks at on `as_of`: the scanned ones, and those
        cancelled within the 365 days up to `as_of` (a cancellation stays a breach that long;
        no other rule scans a cancelled program)."""
        cancelled_lately = Exists(
            ProgramStatusChange.objects.filter(
                program=OuterRef("pk"),
                to_status=ProgramStatus.CANCELLED,
                at__gte=day_start(window_start(as_of, BREACH_WATCH_DAYS)),
                at__lt=end_of(as_of),
            )
        )
        return self.filter(Q(status__in=SCANNED_STATUSES) | Q(Q(status=ProgramStatus.CANCELLED) & cancelled_lately))

    def with_readiness(self) -> "ProgramQuerySet":
        return self.annotate(**{c.annotation: c.expression() for c in readiness.checks()})


class Program(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="programs")
    name = models.CharField(max_length=200)
    customer_vision = models.TextField(blank=True, help_text="The end state for customers.")
    business_case = models.TextField(blank=True, help_text="How the program moves revenue, cost or risk.")
    executive_sponsor = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="sponsored_programs"
    )
    customer_champion = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="championed_programs"
    )
    champion_time_pct = models.PositiveSmallIntegerField(
        default=0, help_text="Share of the champion's time given to the program (0–100)."
    )
    status = models.CharField(max_length=20, choices=ProgramStatus.choices, default=ProgramStatus.DRAFT, editable=False)
    started_on = models.DateField(null=True, blank=True, validators=[sane_date])
    committed_horizon_months = models.PositiveSmallIntegerField(default=60)
    first_results_due_on = models.DateField(null=True, blank=True, validators=[sane_date])
    budget = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    stall_after_days = models.PositiveSmallIntegerField(default=30)
    earliest_review_on = models.DateField(
        null=True,
        blank=True,
        validators=[sane_date],
        help_text="Before this date the program may not be paused, cancelled or have its horizon shortened "
        "without breaching its commitment. Set at activation (default: start + 24 months); afterwards it "
        "only ever moves later, with a reason.",
    )
    # db_default too: code that writes programs without knowing the column (an older
    # migration state, a bulk loader) still gets an empty text rather than a NOT NULL error.
    exit_criteria = models.TextField(
        blank=True,
        default="",
        db_default="",
        help_text="The conditions agreed at launch under which the program may be reconsidered.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    history = tracked()
    objects = ProgramQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            pct_check("champion_time_pct"),
            models.CheckConstraint(condition=Q(committed_horizon_months__gte=1), name="program_horizon_positive"),
            models.CheckConstraint(condition=Q(stall_after_days__gte=1), name="program_stall_after_positive"),
            models.CheckConstraint(condition=Q(budget__isnull=True) | Q(budget__gte=0), name="program_budget_gte_0"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def readiness(self) -> list[str]:
        """Unmet conditions for going live; empty when the program is ready."""
        names = [c.annotation for c in readiness.checks()]
        if all(hasattr(self, n) for n in names):
            values = {n: getattr(self, n) for n in names}
        else:
            values = Program.objects.with_readiness().filter(pk=self.pk).values(*names).first() or {}
        return readiness.unmet(values)

    def month_of_horizon(self, as_of) -> int | None:
        """1-based month of the committed horizon on `as_of` (None before the start)."""
        if not self.started_on or as_of < self.started_on:
            return None
        months = (as_of.year - self.started_on.year) * 12 + (as_of.month - self.started_on.month)
        if as_of.day < self.started_on.day:
            months -= 1
        return months + 1


class ProgramStatusChange(models.Model):
    """Append-only record of each status change (written by `program_transition`)."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=ProgramStatus.choices)
    to_status = models.CharField(max_length=20, choices=ProgramStatus.choices)
    reason = models.TextField(blank=True)
    forced = models.BooleanField(default=False, help_text="Activated with readiness unmet.")
    unmet_readiness = models.JSONField(default=list, blank=True)
    # The horizon in force at this change, so "shortened since activation" is one lookup.
    committed_horizon_months = models.PositiveSmallIntegerField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_by_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    objects = scoped_queryset("program__organization").as_manager()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.program}: {self.from_status} → {self.to_status}"


class RoadmapStage(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="stages")
    sequence = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=200)
    expectations = models.TextField(blank=True)
    starts_on = models.DateField(null=True, blank=True, validators=[sane_date])
    ends_on = models.DateField(null=True, blank=True, validators=[sane_date])
    budget = models.DecimalField(
        max_digits=16, decimal_places=2, null=True, blank=True, help_text="Empty means unfunded."
    )
    status = models.CharField(max_length=20, choices=StageStatus.choices, default=StageStatus.PLANNED)

    history = tracked()
    objects = scoped_queryset("program__organization").as_manager()

    class Meta:
        ordering = ["program", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["program", "sequence"], name="stage_unique_sequence"),
            models.CheckConstraint(condition=Q(budget__isnull=True) | Q(budget__gte=0), name="stage_budget_gte_0"),
            models.CheckConstraint(
                condition=Q(starts_on__isnull=True) | Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="stage_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sequence}. {self.name}"


class InitiativeQuerySet(scoped_queryset("program__organization")):
    def in_flight(self) -> "InitiativeQuerySet":
        return self.filter(status__in=[InitiativeStatus.IN_PROGRESS, InitiativeStatus.BLOCKED])

    def with_last_update(self) -> "InitiativeQuerySet":
        latest = ProgressUpdate.objects.filter(initiative=OuterRef("pk")).order_by("-reported_on")
        return self.annotate(last_update_on=Subquery(latest.values("reported_on")[:1])).annotate(
            last_activity_on=Coalesce(F("last_update_on"), F("starts_on"))
        )


class Initiative(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="initiatives")
    stage = models.ForeignKey(
        RoadmapStage, null=True, blank=True, on_delete=models.SET_NULL, related_name="initiatives"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="initiatives")
    business_units = models.ManyToManyField(BusinessUnit, blank=True, related_name="initiatives")
    status = models.CharField(max_length=20, choices=InitiativeStatus.choices, default=InitiativeStatus.PLANNED)
    starts_on = models.DateField(null=True, blank=True, validators=[sane_date])
    due_on = models.DateField(null=True, blank=True, validators=[sane_date])
    percent_complete = models.PositiveSmallIntegerField(default=0)

    history = tracked()
    objects = InitiativeQuerySet.as_manager()

    class Meta:
        ordering = ["program", "due_on", "name"]
        constraints = [pct_check("percent_complete")]
        indexes = [models.Index(fields=["program", "status"], name="initiative_program_status")]

    def __str__(self) -> str:
        return self.name

    @property
    def last_update_on(self):
        """Date of the latest progress update (annotated by `with_last_update()` in lists)."""
        if "last_update_on" in self.__dict__:
            return self.__dict__["last_update_on"]
        latest = self.updates.order_by("-reported_on").values_list("reported_on", flat=True).first()
        return latest

    @last_update_on.setter
    def last_update_on(self, value) -> None:
        self.__dict__["last_update_on"] = value


class ProgressUpdate(models.Model):
    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="updates")
    # The initiative's organization, copied when the row is written (a program never changes
    # organization), as a measurement's is: an organization's list, and its count, read only
    # its own updates by the index that starts with it, where the count joined every
    # organization's updates to their initiatives (docs/performance.md, sixth round).
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", editable=False, db_index=False
    )
    author = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="progress_updates")
    reported_on = models.DateField(validators=[sane_date])
    rag = models.CharField(max_length=10, choices=Rag.choices)
    percent_complete = models.PositiveSmallIntegerField()
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    # Snapshots keep the organization unindexed, as a measurement's do.
    history = tracked(no_db_index=["organization"])
    objects = scoped_queryset("organization", program="initiative__program").as_manager()

    class Meta:
        ordering = ["-reported_on", "-id"]
        constraints = [pct_check("percent_complete")]
        indexes = [
            models.Index(fields=["initiative", "-reported_on"], name="progress_initiative_latest"),
            # The API list's order within an organization: a page walks it, and the count
            # reads it alone, whatever other organizations hold (docs/performance.md).
            models.Index(fields=["organization", "-reported_on", "-id"], name="progress_org_list"),
        ]

    def __str__(self) -> str:
        return f"{self.initiative} · {self.reported_on} · {self.rag}"

    def save(self, *args, **kwargs) -> None:
        carry_organization(self)
        super().save(*args, **kwargs)


def _answer_field(question: str) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(help_text=question)


class CommitmentAssessment(models.Model):
    """The nine-question check of the CEO's commitment; score = mean × 20."""

    QUESTIONS = COMMITMENT_QUESTIONS

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="commitment_assessments")
    assessed_on = models.DateField(validators=[sane_date])
    assessor = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="commitment_assessments")
    clear_destination = _answer_field(COMMITMENT_QUESTIONS[0][1])
    understands_scope = _answer_field(COMMITMENT_QUESTIONS[1][1])
    builds_new_skills = _answer_field(COMMITMENT_QUESTIONS[2][1])
    commits_resources = _answer_field(COMMITMENT_QUESTIONS[3][1])
    true_partner = _answer_field(COMMITMENT_QUESTIONS[4][1])
    insists_on_patience = _answer_field(COMMITMENT_QUESTIONS[5][1])
    pushes_customer_metrics = _answer_field(COMMITMENT_QUESTIONS[6][1])
    drives_reliability = _answer_field(COMMITMENT_QUESTIONS[7][1])
    defines_differentiation = _answer_field(COMMITMENT_QUESTIONS[8][1])
    # Stored by the database itself, so it can never drift from the answers.
    score = models.GeneratedField(
        expression=ExpressionWrapper(
            # F(first) + F(second) + … + F(ninth), the answers in the questions' order.
            sum((F(q) for q, _ in COMMITMENT_QUESTIONS[1:]), F(COMMITMENT_QUESTIONS[0][0])) * 20.0 / 9.0,
            output_field=models.FloatField(),
        ),
        output_field=models.FloatField(),
        db_persist=True,
    )
    note = models.TextField(blank=True)

    history = tracked()
    objects = scoped_queryset("program__organization").as_manager()

    class Meta:
        ordering = ["-assessed_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(**{f"{q}__gte": 1}) & Q(**{f"{q}__lte": 5}), name=f"commitment_{q}_1_5")
            for q, _ in COMMITMENT_QUESTIONS
        ]

    def __str__(self) -> str:
        return f"{self.program} · {self.assessed_on}"


# The change log's model lives in its own module; imported here so Django registers it.
from .changes import Change  # noqa: E402, F401
