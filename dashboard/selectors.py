"""Portfolio summary: one card per program of the caller's organizations.

Every function here reads the database with a fixed number of queries whatever the number
of programs, metrics, flags or sessions (one query per fact, grouped by program; never one
per row). They are pure reads and safe to call any number of times.

`organization_ids` is what `programs.access.organization_ids(user)` returns: a list of
organization ids, or None for a superuser (all organizations). `as_of` is the day the
windows are counted back from (90 days for forums and sponsor presence, ages of flags).
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, cached_property

from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Value, When, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils import timezone

from accountability.choices import RiskLevel, SessionStatus, Severity
from accountability.models import Attendance, Flag, Forum, ForumSession, RiskAssessment
from metrics.choices import Health, MetricStatus
from metrics.health import health
from metrics.models import Metric
from programs.choices import ProgramStatus
from programs.models import Program

WINDOW_DAYS = 90
# as_of outside this range is refused: the windows and the risk history count years back
# and ahead from it, and Python's dates stop at years 1 and 9999.
AS_OF_MIN, AS_OF_MAX = dt.date(1900, 1, 1), dt.date(2999, 12, 31)
TOP_FLAGS_PER_CARD = 3
SEVERITIES = [Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW]
SEVERITY_RANK = {Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3, Severity.CRITICAL: 4}
HEALTHS = [Health.OFF_TRACK, Health.AT_RISK, Health.ON_TRACK, Health.NO_DATA]
RISK_RANK = {RiskLevel.LOW: 1, RiskLevel.ELEVATED: 2, RiskLevel.HIGH: 3, RiskLevel.CRITICAL: 4}
# Cards of live programs first; closed programs sink to the bottom.
STATUS_ORDER = {
    ProgramStatus.ACTIVE: 0,
    ProgramStatus.PAUSED: 0,
    ProgramStatus.DRAFT: 1,
    ProgramStatus.COMPLETED: 2,
    ProgramStatus.CANCELLED: 3,
}


@dataclass
class RiskSummary:
    score: int
    level: str
    as_of: dt.date
    previous_score: int | None
    previous_as_of: dt.date | None

    @property
    def level_label(self) -> str:
        return RiskLevel(self.level).label

    @property
    def change(self) -> int | None:
        return None if self.previous_score is None else self.score - self.previous_score

    @property
    def trend(self) -> str | None:
        """`rising`, `falling` or `steady` against the previous assessment; None for a first one."""
        if self.change is None:
            return None
        return "rising" if self.change > 0 else "falling" if self.change < 0 else "steady"


@dataclass
class FlagLine:
    id: int
    title: str
    kind: str
    severity: str
    owner_name: str | None
    first_detected_on: dt.date
    age_days: int

    @property
    def severity_label(self) -> str:
        return Severity(self.severity).label

    @property
    def url(self) -> str:
        return f"{_dashboard_root()}flags/{self.id}/"


@cache
def _dashboard_root() -> str:
    """The dashboard's URL prefix; resolved once, because `reverse()` per card and per flag
    is a visible share of a 200-card page."""
    return reverse("dashboard:portfolio")


def ratio_pct(part: int, whole: int) -> int | None:
    """Whole-number percentage, None when there is nothing to divide by."""
    return None if whole == 0 else round(100 * part / whole)


@dataclass
class ProgramCard:
    id: int
    name: str
    organization_id: int
    organization_name: str
    status: str
    started_on: dt.date | None
    committed_horizon_months: int
    month_of_horizon: int | None
    sponsor_id: int | None
    sponsor_name: str | None
    champion_name: str | None
    risk: RiskSummary | None = None
    flags: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SEVERITIES, 0))
    top_flags: list[FlagLine] = field(default_factory=list)
    metric_health: dict[str, int] = field(default_factory=lambda: dict.fromkeys(HEALTHS, 0))
    forum_held: int = 0
    forum_scheduled: int = 0
    sponsor_held: int = 0
    sponsor_present: int = 0

    @property
    def status_label(self) -> str:
        return ProgramStatus(self.status).label

    @property
    def url(self) -> str:
        return f"{_dashboard_root()}programs/{self.id}/"

    @property
    def horizon_pct(self) -> int:
        """How far through the committed horizon, 0–100 (past the horizon shows full)."""
        if not self.month_of_horizon:
            return 0
        return min(100, round(100 * self.month_of_horizon / self.committed_horizon_months))

    @property
    def past_horizon(self) -> bool:
        return bool(self.month_of_horizon and self.month_of_horizon > self.committed_horizon_months)

    @property
    def flags_total(self) -> int:
        return sum(self.flags.values())

    @property
    def metrics_total(self) -> int:
        return sum(self.metric_health.values())

    @property
    def forum_adherence_pct(self) -> int | None:
        return ratio_pct(self.forum_held, self.forum_scheduled)

    @property
    def sponsor_presence_pct(self) -> int | None:
        return ratio_pct(self.sponsor_present, self.sponsor_held)

    @cached_property
    def attention_reasons(self) -> list[str]:
        """Why the card must not be missed: critical/high risk, critical/high flags."""
        reasons = []
        if self.risk and self.risk.level in (RiskLevel.CRITICAL, RiskLevel.HIGH):
            reasons.append(f"{self.risk.level_label} early-bail risk (score {self.risk.score})")
        for severity in (Severity.CRITICAL, Severity.HIGH):
            if n := self.flags[severity]:
                reasons.append(f"{n} {severity.label.lower()} flag{'s' if n != 1 else ''}")
        return reasons

    @cached_property
    def needs_attention(self) -> bool:
        return bool(self.attention_reasons)

    def sort_key(self) -> tuple:
        return (
            not self.needs_attention,
            STATUS_ORDER.get(self.status, 9),
            -(RISK_RANK.get(self.risk.level, 0) if self.risk else 0),
            -self.flags[Severity.CRITICAL],
            -self.flags[Severity.HIGH],
            -(self.risk.score if self.risk else 0),
            self.name.lower(),
            self.id,
        )


@dataclass
class PortfolioSummary:
    as_of: dt.date
    window_days: int
    programs: list[ProgramCard]

    @cached_property
    def attention(self) -> list[ProgramCard]:
        return [card for card in self.programs if card.needs_attention]

    @cached_property
    def flags(self) -> dict[str, int]:
        return {s: sum(card.flags[s] for card in self.programs) for s in SEVERITIES}

    @cached_property
    def metric_health(self) -> dict[str, int]:
        return {h: sum(card.metric_health[h] for card in self.programs) for h in HEALTHS}


# --- Building blocks, shared with the program page -----------------------------------------


def day_start(day: dt.date) -> dt.datetime:
    """The aware date-time at which `day` begins in the project time zone."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def window_bounds(as_of: dt.date, days: int = WINDOW_DAYS) -> tuple[dt.datetime, dt.datetime]:
    """Date-times whose date d satisfies as_of - days < d <= as_of (the detectors' convention)."""
    return day_start(as_of - dt.timedelta(days=days - 1)), day_start(as_of + dt.timedelta(days=1))


def scoped_programs(organization_ids: Iterable[int] | None) -> QuerySet[Program]:
    programs = Program.objects.all()
    return programs if organization_ids is None else programs.for_organizations(list(organization_ids))


def severity_rank() -> Case:
    return Case(
        *[When(severity=s, then=Value(rank)) for s, rank in SEVERITY_RANK.items()],
        default=Value(0),
        output_field=IntegerField(),
    )


def risk_summaries(program_ids: list[int], as_of: dt.date) -> dict[int, RiskSummary]:
    """Latest and previous assessment on or before `as_of`, per program. One query."""
    rows = (
        RiskAssessment.objects.filter(program_id__in=program_ids, as_of__lte=as_of)
        .annotate(rn=Window(RowNumber(), partition_by=[F("program_id")], order_by=[F("as_of").desc()]))
        .filter(rn__lte=2)
        .order_by("program_id", "rn")
        .values("program_id", "as_of", "score", "level", "rn")
    )
    out: dict[int, RiskSummary] = {}
    for row in rows:
        if row["rn"] == 1:
            out[row["program_id"]] = RiskSummary(row["score"], row["level"], row["as_of"], None, None)
        elif row["program_id"] in out:
            out[row["program_id"]].previous_score = row["score"]
            out[row["program_id"]].previous_as_of = row["as_of"]
    return out


def flag_counts(program_ids: list[int]) -> dict[int, dict[str, int]]:
    """Live (open or acknowledged) flags by severity, per program. One query."""
    rows = (
        Flag.objects.live()
        .filter(program_id__in=program_ids)
        .values("program_id", "severity")
        .annotate(n=Count("id"))
        .order_by()
    )
    out: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(SEVERITIES, 0))
    for row in rows:
        out[row["program_id"]][row["severity"]] = row["n"]
    return out


def top_flags(program_ids: list[int], as_of: dt.date, per_program: int = TOP_FLAGS_PER_CARD) -> dict[int, list]:
    """The most severe, then oldest, live flags of each program. One query."""
    rows = (
        Flag.objects.live()
        .filter(program_id__in=program_ids)
        .annotate(
            rn=Window(
                RowNumber(),
                partition_by=[F("program_id")],
                order_by=[severity_rank().desc(), F("first_detected_on").asc(), F("id").asc()],
            )
        )
        .filter(rn__lte=per_program)
        .order_by("program_id", "rn")
        .values("id", "program_id", "title", "kind", "severity", "owner__name", "first_detected_on")
    )
    out: dict[int, list[FlagLine]] = defaultdict(list)
    for row in rows:
        out[row["program_id"]].append(
            FlagLine(
                id=row["id"],
                title=row["title"],
                kind=row["kind"],
                severity=row["severity"],
                owner_name=row["owner__name"],
                first_detected_on=row["first_detected_on"],
                age_days=max(0, (as_of - row["first_detected_on"]).days),
            )
        )
    return out


def metric_health_counts(program_ids: list[int]) -> dict[int, dict[str, int]]:
    """Active metrics by health, per program. One query (the API's `with_latest()`), and
    the health rule of `metrics.health` applied to each row: the same answer as the API's
    metric tree. Tuples, not dicts: at 20,000 metrics the row handling is the cost."""
    rows = (
        Metric.objects.with_latest()
        .filter(program_id__in=program_ids, status=MetricStatus.ACTIVE)
        .values_list(
            "program_id",
            "direction",
            "baseline",
            "baseline_on",
            "target",
            "target_on",
            "latest_value",
            "latest_period_end",
        )
        .order_by()
    )
    out: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(HEALTHS, 0))
    for program_id, direction, baseline, baseline_on, target, target_on, value, period_end in rows:
        state = health(
            direction=direction,
            baseline=baseline,
            baseline_on=baseline_on,
            target=target,
            target_on=target_on,
            latest_value=value,
            latest_period_end=period_end,
        )
        out[program_id][state] += 1
    return out


def forum_adherence(program_ids: list[int], as_of: dt.date, by: str = "forum__program_id") -> dict[int, tuple]:
    """(held, scheduled) sessions dated in the window, per program (or per forum with
    `by="forum_id"`). Scheduled counts every session in the window whatever its status.
    One query."""
    start, end = window_bounds(as_of)
    rows = (
        ForumSession.objects.filter(forum__program_id__in=program_ids, scheduled_for__gte=start, scheduled_for__lt=end)
        .values(by)
        .annotate(total=Count("id"), held=Count("id", filter=Q(status=SessionStatus.HELD)))
        .order_by()
    )
    return {row[by]: (row["held"], row["total"]) for row in rows}


def sponsor_presence(program_ids: list[int], as_of: dt.date) -> dict[int, tuple[int, int]]:
    """(present, held) per program over the window: held sessions of forums where the
    program's sponsor is chair or member, and the sponsor there in person (a delegate does
    not count) — the rule of `sponsor_disengaged`, over 90 days. One query."""
    start, end = window_bounds(as_of)
    sponsor = OuterRef("forum__program__executive_sponsor_id")
    rows = (
        ForumSession.objects.filter(
            forum__program_id__in=program_ids,
            status=SessionStatus.HELD,
            scheduled_for__gte=start,
            scheduled_for__lt=end,
            forum__program__executive_sponsor__isnull=False,
        )
        .annotate(
            is_member=Exists(Forum.members.through.objects.filter(forum_id=OuterRef("forum_id"), person_id=sponsor)),
            sponsor_present=Exists(
                Attendance.objects.filter(session_id=OuterRef("pk"), person_id=sponsor, present=True)
            ),
        )
        .filter(Q(forum__chair_id=F("forum__program__executive_sponsor_id")) | Q(is_member=True))
        .values_list("forum__program_id", "sponsor_present")
    )
    out: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for program_id, present in rows:
        out[program_id][1] += 1
        out[program_id][0] += 1 if present else 0
    return {pid: (present, held) for pid, (present, held) in out.items()}


def build_cards(programs: list[Program], as_of: dt.date) -> list[ProgramCard]:
    """Cards for already-loaded programs (with organization, sponsor and champion selected)."""
    ids = [p.id for p in programs]
    risks = risk_summaries(ids, as_of)
    flags = flag_counts(ids)
    tops = top_flags(ids, as_of)
    healths = metric_health_counts(ids)
    forums = forum_adherence(ids, as_of)
    sponsors = sponsor_presence(ids, as_of)
    cards = []
    for p in programs:
        held, scheduled = forums.get(p.id, (0, 0))
        present, sponsor_held = sponsors.get(p.id, (0, 0))
        cards.append(
            ProgramCard(
                id=p.id,
                name=p.name,
                organization_id=p.organization_id,
                organization_name=p.organization.name,
                status=p.status,
                started_on=p.started_on,
                committed_horizon_months=p.committed_horizon_months,
                month_of_horizon=p.month_of_horizon(as_of),
                sponsor_id=p.executive_sponsor_id,
                sponsor_name=p.executive_sponsor.name if p.executive_sponsor else None,
                champion_name=p.customer_champion.name if p.customer_champion else None,
                risk=risks.get(p.id),
                flags=dict(flags[p.id]),
                top_flags=tops.get(p.id, []),
                metric_health=dict(healths[p.id]),
                forum_held=held,
                forum_scheduled=scheduled,
                sponsor_held=sponsor_held,
                sponsor_present=present,
            )
        )
    return cards


def portfolio_summary(*, organization_ids: Iterable[int] | None, as_of: dt.date) -> PortfolioSummary:
    """One card per program of the organizations, the ones needing attention first.

    Seven queries whatever the data size (only the first when there is no program).
    Read-only, safe to re-run.
    """
    programs = list(
        scoped_programs(organization_ids).select_related("organization", "executive_sponsor", "customer_champion")
    )
    cards = sorted(build_cards(programs, as_of), key=ProgramCard.sort_key)
    return PortfolioSummary(as_of=as_of, window_days=WINDOW_DAYS, programs=cards)
