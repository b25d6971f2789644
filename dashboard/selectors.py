"""Portfolio summary: one card per program of the caller's organizations, as of a date.

Every fact on a card is read through the selector of the app that owns it, with the same
`as_of`, so no part of the page contradicts another (SPEC §2, "as of a date, the world as
it stood"):

- status, horizon, start and champion on `as_of`: `programs.selectors.programs_on`;
- flags open on `as_of`, ages counted to it: `accountability.selectors.flag_counts` and
  `top_open_flags`;
- metric health on `as_of` (values and targets in force then):
  `metrics.selectors.metric_health_counts`;
- forum adherence over the 90 days and sponsor presence over the 180 days ending on
  `as_of`: `accountability.selectors.forum_adherence` and `sponsor_presence` (the
  presence rule's own window, so a card never contradicts a `sponsor_disengaged` flag);
- risk on `as_of`: `accountability.selectors.risk_on`.

A fixed number of queries whatever the number of programs, metrics, flags or sessions
(one or two per fact, grouped by program; never one per row). Pure reads, safe to re-run.

`organization_ids` is what `programs.access.organization_ids(user)` returns: a list of
organization ids, or None for a superuser (all organizations).
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, cached_property

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from accountability.choices import RiskLevel, Severity
from accountability.models import Flag, FlagComment
from accountability.selectors import (
    FORUM_WINDOW_DAYS,
    SEVERITIES,
    SPONSOR_WINDOW_DAYS,
    RiskOnDate,
    flag_counts,
    forum_adherence,
    ratio_pct,
    risk_on,
    sponsor_presence,
    top_open_flags,
)
from metrics.selectors import HEALTHS, metric_health_counts
from programs.choices import ProgramStatus
from programs.models import Person, Program
from programs.selectors import ProgramOnDate, programs_on

TOP_FLAGS_PER_CARD = 3
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
    on: ProgramOnDate | None = None
    risk: RiskOnDate | None = None
    flags: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SEVERITIES, 0))
    top_flags: list[FlagLine] = field(default_factory=list)
    metric_health: dict[str, int] = field(default_factory=lambda: dict.fromkeys(HEALTHS, 0))
    forum_held: int = 0
    forum_scheduled: int = 0
    sponsor_held: int = 0
    sponsor_present: int = 0
    forum_window_days: int = FORUM_WINDOW_DAYS
    sponsor_window_days: int = SPONSOR_WINDOW_DAYS

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
    sponsor_window_days: int = SPONSOR_WINDOW_DAYS

    @cached_property
    def attention(self) -> list[ProgramCard]:
        return [card for card in self.programs if card.needs_attention]

    @cached_property
    def flags(self) -> dict[str, int]:
        return {s: sum(card.flags[s] for card in self.programs) for s in SEVERITIES}

    @cached_property
    def metric_health(self) -> dict[str, int]:
        return {h: sum(card.metric_health[h] for card in self.programs) for h in HEALTHS}


def scoped_programs(organization_ids: Iterable[int] | None) -> QuerySet[Program]:
    programs = Program.objects.all()
    return programs if organization_ids is None else programs.for_organizations(list(organization_ids))


def _flag_lines(rows: list[dict]) -> list[FlagLine]:
    return [
        FlagLine(
            id=row["id"],
            title=row["title"],
            kind=row["kind"],
            severity=row["severity"],
            owner_name=row["owner__name"],
            first_detected_on=row["first_detected_on"],
            age_days=row["age_days"],
        )
        for row in rows
    ]


def build_cards(programs: list[Program], as_of: dt.date) -> list[ProgramCard]:
    """Cards for already-loaded programs (with organization, sponsor and champion selected),
    every fact as on `as_of`. Nine queries whatever the number of programs."""
    ids = [p.id for p in programs]
    facts = programs_on(programs=programs, as_of=as_of)
    risks = risk_on(program_ids=ids, as_of=as_of)
    flags = flag_counts(program_ids=ids, as_of=as_of)
    tops = top_open_flags(program_ids=ids, as_of=as_of, per_program=TOP_FLAGS_PER_CARD)
    healths = metric_health_counts(program_ids=ids, as_of=as_of)
    forums = forum_adherence(program_ids=ids, as_of=as_of)
    sponsors = sponsor_presence(program_ids=ids, as_of=as_of, with_sessions=False)
    cards = []
    for p in programs:
        on = facts[p.id]
        cards.append(
            ProgramCard(
                id=p.id,
                name=p.name,
                organization_id=p.organization_id,
                organization_name=p.organization.name,
                status=on.status,
                started_on=on.started_on,
                committed_horizon_months=on.committed_horizon_months,
                month_of_horizon=on.month_of_horizon(),
                sponsor_id=p.executive_sponsor_id,
                sponsor_name=p.executive_sponsor.name if p.executive_sponsor else None,
                champion_name=on.champion_name,
                on=on,
                risk=risks.get(p.id),
                flags=flags[p.id],
                top_flags=_flag_lines(tops.get(p.id, [])),
                metric_health=healths.get(p.id, dict.fromkeys(HEALTHS, 0)),
                forum_held=forums[p.id].held,
                forum_scheduled=forums[p.id].scheduled,
                sponsor_held=sponsors[p.id].held,
                sponsor_present=sponsors[p.id].present,
            )
        )
    return cards


def portfolio_summary(*, organization_ids: Iterable[int] | None, as_of: dt.date) -> PortfolioSummary:
    """One card per program of the organizations as on `as_of`, the ones needing attention first.

    Ten queries whatever the data size (only the first when there is no program).
    Read-only, safe to re-run.
    """
    programs = list(
        scoped_programs(organization_ids).select_related("organization", "executive_sponsor", "customer_champion")
    )
    cards = sorted(build_cards(programs, as_of), key=ProgramCard.sort_key) if programs else []
    return PortfolioSummary(as_of=as_of, window_days=FORUM_WINDOW_DAYS, programs=cards)


def flag_thread(flag: Flag, *, with_people: bool) -> tuple[list[FlagComment], "PeopleChoices | list"]:
    """A flag's comments and hand-overs, oldest first, with their authors (one query), and
    when the caller may hand it over, the active people of its organization to choose from
    (one query)."""
    comments = list(
        FlagComment.objects.filter(flag=flag).select_related("author", "author_user", "author_key__created_by")
    )
    return comments, active_people(flag.organization_id) if with_people else []


class PeopleChoices:
    """The people a flag may be handed to, with their `<option>`s rendered once per page.

    A program page offers the same people on every open flag's "Hand to" list (all but the
    flag's owner): at 40 flags and 400 people, rendering the options in the template loop
    took longer than the rest of the page."""

    def __init__(self, people: list[dict]):
        options = [
            (
                p["id"],
                format_html(
                    '<option value="{}">{}{}</option>', p["id"], p["name"], f", {p['title']}" if p["title"] else ""
                ),
            )
            for p in people
        ]
        # Joined once; each flag's list is this text less its owner's option, cut out by
        # offset: joining 600 options again for each of 40 flags cost 10 ms a page.
        self._html = "".join(html for _, html in options)
        self._spans: dict[int, tuple[int, int]] = {}
        start = 0
        for pid, html in options:
            self._spans[pid] = (start, start + len(html))
            start += len(html)

    def __bool__(self) -> bool:
        return bool(self._spans)

    def options_without(self, owner_id: int | None) -> SafeString:
        """Every person's option but the owner's (handing a flag to its owner changes nothing)."""
        # Each option was escaped by format_html above.
        span = self._spans.get(owner_id)
        if span is None:
            return mark_safe(self._html)
        return mark_safe(self._html[: span[0]] + self._html[span[1] :])


def active_people(organization_id: int) -> PeopleChoices:
    """The people a flag may be handed to: active, of the organization, by name (one query)."""
    return PeopleChoices(
        list(
            Person.objects.filter(organization_id=organization_id, active=True)
            .order_by("name")
            .values("id", "name", "title")
        )
    )
