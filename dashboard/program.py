"""Program detail: everything the program page shows, in a fixed number of queries.

`program_detail` loads the program (scoped to the caller's organizations: another
organization's program raises `Program.DoesNotExist`, which the view turns into a 404),
then one query per section whatever the number of metrics, measurements, flags,
initiatives, forums or sessions. Read-only, safe to re-run.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.utils.safestring import SafeString

from accountability.choices import LIVE_FLAG_STATUSES, SessionStatus, Severity
from accountability.escalation import LADDER_RELATED, LADDER_ROLES, escalated_to
from accountability.evidence import EvidenceText, evidence_text
from accountability.filtersets import FlagFilterSet
from accountability.models import Attendance, Flag, Forum, ForumSession
from accountability.selectors import (
    FORUM_WINDOW_DAYS,
    flag_age_days,
    flags_open_on,
    forum_adherence,
    in_flight_initiatives,
    ratio_pct,
    risk_history,
    risk_on,
)
from metrics.choices import Direction, Health
from metrics.health import expected_value
from metrics.selectors import (
    MetricOnDate,
    build_tree,
    measurements_until,
    metrics_on,
    parse_decimal,
    revision_loosened,
    revisions_until,
)
from programs.actors import actor_label
from programs.choices import InitiativeStatus
from programs.dates import end_of, local_date
from programs.models import Program
from programs.money import format_day
from programs.selectors import ProgramOnDate, StageOnDate, stages_on

from . import charts
from .selectors import FlagLine, ProgramCard, build_cards, scoped_programs

SESSIONS_PER_FORUM = 6
RISK_HISTORY_DAYS = 730  # two years of assessments on the chart


@dataclass
class Revision:
    field: str
    old_value: str | None
    new_value: str | None
    reason: str
    changed_on: dt.date
    loosened: bool
    approved: bool
    unit: str = ""

    @classmethod
    def from_row(cls, row: dict, metric) -> "Revision":
        """A `revisions_until` row of `metric` (a MetricOnDate): loosened is judged by the
        direction in force on the page's date."""
        return cls(
            field=row["field"],
            old_value=row["old_value"],
            new_value=row["new_value"],
            reason=row["reason"],
            changed_on=local_date(row["changed_at"]),
            loosened=revision_loosened(row["field"], row["old_value"], row["new_value"], metric.direction),
            approved=row["approved_in_id"] is not None,
            unit=metric.unit,
        )

    @property
    def change_text(self) -> str:
        if self.field == "target":
            old, new = parse_decimal(self.old_value), parse_decimal(self.new_value)
            return f"target {charts.format_number(old, self.unit)} → {charts.format_number(new, self.unit)}"
        return f"deadline {format_day(self.old_value)} → {format_day(self.new_value)}"


@dataclass
class MetricNode:
    metric: MetricOnDate
    health: str
    expected: Decimal | None
    points: list[tuple[dt.date, Decimal]]
    revisions: list[Revision]
    chart: SafeString
    children: list["MetricNode"] = field(default_factory=list)

    @property
    def health_label(self) -> str:
        return Health(self.health).label

    @property
    def loosenings(self) -> list[Revision]:
        return [r for r in self.revisions if r.loosened]

    @property
    def latest_text(self) -> str:
        return charts.format_number(self.metric.latest_value, self.metric.unit)

    @property
    def expected_text(self) -> str:
        return charts.format_number(self.expected, self.metric.unit)

    @property
    def target_text(self) -> str:
        return charts.format_number(self.metric.target, self.metric.unit)

    @property
    def baseline_text(self) -> str:
        return charts.format_number(self.metric.baseline, self.metric.unit)

    @property
    def direction_text(self) -> str:
        return "higher is better" if self.metric.direction == Direction.INCREASE else "lower is better"


def in_tree_order(roots: list[MetricNode]) -> Iterator[tuple[MetricNode, range]]:
    """The cascade depth first, each node with the lists that end after it.

    A leaf closes its own `<li>` and then `len(closes)` enclosing `</ul></li>`; a node with
    children opens its `<ul>` instead (its `closes` is empty). One flat loop renders the
    nested lists without a template include per node, which cost a third of the page.
    """

    def walk(nodes: list[MetricNode], carry: int) -> Iterator[tuple[MetricNode, range]]:
        for i, node in enumerate(nodes):
            after = carry if i == len(nodes) - 1 else 0
            if node.children:
                yield node, range(0)
                yield from walk(node.children, after + 1)
            else:
                yield node, range(after)

    return walk(roots, 0)


@dataclass
class FlagRow(FlagLine):
    detail: str = ""
    status: str = ""
    subject_type: str = ""
    subject_id: int = 0
    evidence: dict | list | None = None
    sentences: list[str] = field(default_factory=list)
    owner_id: int | None = None
    # "escalated to the sponsor, Ann Lee, on 12 Nov 2026" when the ladder had climbed by the page's date.
    escalation: str = ""

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_FLAG_STATUSES


def _escalation_line(flag: Flag, as_of: dt.date) -> str:
    if not flag.escalation_level or flag.escalated_at is None or local_date(flag.escalated_at) > as_of:
        return ""
    person = escalated_to(flag)
    who = f"{LADDER_ROLES[flag.escalation_level]}, {person.name}" if person else LADDER_ROLES[flag.escalation_level]
    return f"escalated to {who}, on {format_day(flag.escalated_at)}"


@dataclass
class StalledInitiative:
    """An in-flight initiative silent longer than its program allows, on the page's date."""

    id: int
    name: str
    owner_name: str | None
    stage_name: str | None
    status: str
    last_update_on: dt.date | None
    last_activity_on: dt.date | None
    days_silent: int
    stall_after_days: int

    @property
    def status_label(self) -> str:
        return InitiativeStatus(self.status).label


@dataclass
class SessionRow:
    session: ForumSession
    present: list[str]
    absent: list[str]
    delegated: list[str]
    sponsor: str  # present / delegate / absent / not_recorded / not_member

    @property
    def attended(self) -> int:
        return len(self.present)

    @property
    def expected(self) -> int:
        return len(self.present) + len(self.absent) + len(self.delegated)


@dataclass
class ForumBlock:
    forum: Forum
    held: int
    scheduled: int
    sponsor_is_member: bool
    sessions: list[SessionRow]

    @property
    def adherence_pct(self) -> int | None:
        return ratio_pct(self.held, self.scheduled)


@dataclass
class ProgramDetail:
    program: Program
    card: ProgramCard
    on: ProgramOnDate
    as_of: dt.date
    metric_roots: list[MetricNode]
    metric_count: int
    risk_history: list[dict]
    risk_factors: list[dict]
    risk_chart: SafeString
    flags: list[FlagRow]
    flags_filtered: bool
    flag_filters_valid: bool
    stalled: list[StalledInitiative]
    in_flight_count: int
    forums: list[ForumBlock]
    stages: list[StageOnDate]
    forum_window_days: int = FORUM_WINDOW_DAYS

    @property
    def risk_points(self) -> int:
        return sum(int(f.get("points") or 0) for f in self.risk_factors)

    @property
    def funded_total(self) -> Decimal:
        return sum((s.budget for s in self.stages if s.budget is not None), Decimal(0))

    @property
    def unfunded_stages(self) -> int:
        return sum(1 for s in self.stages if s.budget is None)


def _metric_tree(program: Program, as_of: dt.date) -> tuple[list[MetricNode], int]:
    """The cascade as it stood on `as_of` (values, targets in force, health, owners: the
    metrics' selectors), with each metric's values and target revisions up to that day.
    Four or five queries."""
    metrics = metrics_on(program_ids=[program.id], as_of=as_of, detail=True)
    points = measurements_until(metric_ids=[m.id for m in metrics], as_of=as_of)
    revisions = revisions_until(program_ids=[program.id], as_of=as_of, fields=["target", "target_on"])

    def node(tree_node) -> MetricNode:
        m = tree_node.metric
        expected = None
        if None not in (m.baseline, m.baseline_on, m.target, m.target_on):
            expected = expected_value(
                baseline=m.baseline, baseline_on=m.baseline_on, target=m.target, target_on=m.target_on, on=as_of
            )
        revs = [Revision.from_row(row, m) for row in revisions.get(m.id, [])]
        return MetricNode(
            metric=m,
            health=m.health,
            expected=expected,
            points=points.get(m.id, []),
            revisions=revs,
            chart=charts.metric_chart(m, points.get(m.id, []), revs, as_of),
            children=[node(child) for child in tree_node.children],
        )

    roots = [node(root) for root in build_tree(metrics)]
    return roots, len(metrics)


def _risk(program: Program, as_of: dt.date) -> tuple[list[dict], list[dict]]:
    """Score history (two years up to `as_of`) and the factors of the assessment in force on
    `as_of`: two queries."""
    history = risk_history(program_id=program.id, as_of=as_of, since=as_of - dt.timedelta(days=RISK_HISTORY_DAYS))
    latest = risk_on(program_ids=[program.id], as_of=as_of, with_factors=True).get(program.id)
    factors = sorted((latest.factors if latest else None) or [], key=lambda f: -(f.get("points") or 0))
    return history, factors


def _in_words(text: EvidenceText, factors: list[dict], flags: list[FlagRow]) -> None:
    """Risk factors and flag evidence as sentences (accountability.evidence, the one renderer)."""
    for f in factors:
        f["label"] = text.factor_label(str(f.get("code", "")))
        f["sentence"] = text.factor(f)
    for row in flags:
        row.sentences = text.flag(row.kind, row.evidence)


def _flags(program: Program, as_of: dt.date, filters: Mapping | None) -> tuple[list[FlagRow], bool]:
    """Flags open on `as_of`, most severe and oldest first, with owner, status, severity and
    title then (`flags_open_on`) and age counted to `as_of`: one query.

    `filters` are query parameters of the API's FlagFilterSet (`severity`, `kind`, `owner`,
    …); invalid ones are ignored and reported by the second value (False)."""
    flags = flags_open_on(as_of=as_of, program_ids=[program.id])
    valid = True
    if filters:
        filterset = FlagFilterSet(filters, queryset=flags)
        valid = filterset.is_valid()
        if valid:
            # `severity` is the severity on `as_of` (`severity_on`), the one the rows show; the
            # filterset's own filter reads the stored one, so it is applied here instead.
            severities = filterset.form.cleaned_data.get("severity")
            rest = filters.copy()
            rest.pop("severity", None)
            flags = FlagFilterSet(rest, queryset=flags).qs
            if severities:
                flags = flags.filter(severity_on__in=severities)
    return [
        FlagRow(
            id=f.id,
            title=f.title_on,
            kind=f.kind,
            severity=f.severity_on,
            owner_name=f.owner.name if f.owner else None,
            first_detected_on=f.first_detected_on,
            age_days=flag_age_days(f.first_detected_on, as_of),
            detail=f.detail,
            status=f.status_on,
            subject_type=f.subject_type,
            subject_id=f.subject_id,
            evidence=f.evidence,
            owner_id=f.owner_id,
            escalation=_escalation_line(f, as_of),
        )
        for f in flags.select_related("owner", *LADDER_RELATED)
    ], valid


def _stalled(program: Program, as_of: dt.date) -> tuple[list[StalledInitiative], int]:
    """In-flight initiatives silent longer than the program's stall_after_days on `as_of`
    (initiative_stalled's rule, updates reported by then): one query."""
    rows = in_flight_initiatives(program_ids=[program.id], as_of=as_of, names=True)
    stalled = [
        StalledInitiative(
            id=row["id"],
            name=row["name"],
            owner_name=row["owner__name"],
            stage_name=row["stage__name"],
            status=row["status"],
            last_update_on=row["last_update_on"],
            last_activity_on=row["last_activity_on"],
            days_silent=row["days_silent"],
            stall_after_days=row["program__stall_after_days"],
        )
        for row in rows
        if row["stall_severity"]
    ]
    stalled.sort(key=lambda s: -s.days_silent)
    return stalled, len(rows)


def _forums(program: Program, as_of: dt.date) -> list[ForumBlock]:
    """Forums with their last sessions and who attended: four queries."""
    forums = list(Forum.objects.filter(program=program).select_related("chair").prefetch_related("members"))
    sessions = list(
        ForumSession.objects.filter(forum__program=program, scheduled_for__lt=end_of(as_of))
        .annotate(rn=Window(RowNumber(), partition_by=[F("forum_id")], order_by=[F("scheduled_for").desc()]))
        .filter(rn__lte=SESSIONS_PER_FORUM)
        .order_by("forum_id", "-scheduled_for")
    )
    attendance: dict[int, list[Attendance]] = defaultdict(list)
    for a in (
        Attendance.objects.filter(session__in=[s.id for s in sessions])
        .select_related("person", "delegate")
        .order_by("person__name")
    ):
        attendance[a.session_id].append(a)
    adherence = forum_adherence(program_ids=[program.id], as_of=as_of, per_forum=True)
    sponsor_id = program.executive_sponsor_id
    by_forum: dict[int, list[SessionRow]] = defaultdict(list)
    member_ids = {f.id: {p.id for p in f.members.all()} | {f.chair_id} for f in forums}
    for s in sessions:
        rows = attendance.get(s.id, [])
        present = [a.person.name for a in rows if a.present]
        delegated = [f"{a.person.name} (sent {a.delegate.name})" for a in rows if not a.present and a.delegate]
        absent = [a.person.name for a in rows if not a.present and not a.delegate]
        by_forum[s.forum_id].append(
            SessionRow(s, present, absent, delegated, _sponsor_state(s, rows, sponsor_id, member_ids[s.forum_id]))
        )
    blocks = []
    for f in forums:
        counts = adherence.get(f.id)
        held, scheduled = (counts.held, counts.scheduled) if counts else (0, 0)
        blocks.append(
            ForumBlock(
                forum=f,
                held=held,
                scheduled=scheduled,
                sponsor_is_member=sponsor_id is not None and sponsor_id in member_ids[f.id],
                sessions=by_forum.get(f.id, []),
            )
        )
    blocks.sort(key=lambda b: (not b.forum.active, b.forum.name.lower()))
    return blocks


def _sponsor_state(session: ForumSession, rows: Iterable[Attendance], sponsor_id: int | None, members: set) -> str:
    if sponsor_id is None or sponsor_id not in members:
        return "not_member"
    if session.status != SessionStatus.HELD:
        return "not_held"
    for a in rows:
        if a.person_id == sponsor_id:
            return "present" if a.present else "delegate" if a.delegate_id else "absent"
    return "absent"  # no attendance row for a held session: not recorded as present


def program_detail(
    *, organization_ids: Iterable[int] | None, program_id: int, as_of: dt.date, flag_filters: Mapping | None = None
) -> ProgramDetail:
    """The whole program page as it stood on `as_of`. About thirty queries whatever the
    program's size.

    Raises Program.DoesNotExist for a program outside `organization_ids`. `flag_filters`
    narrow the flags section with the API's FlagFilterSet parameters.
    """
    program = (
        scoped_programs(organization_ids)
        .select_related("organization", "executive_sponsor", "customer_champion")
        .get(pk=program_id)
    )
    (card,) = build_cards([program], as_of)
    roots, metric_count = _metric_tree(program, as_of)
    history, factors = _risk(program, as_of)
    stalled, in_flight = _stalled(program, as_of)
    flags, filters_valid = _flags(program, as_of, flag_filters)
    # One query for the names of every person the factors and the flags' evidence refer to.
    text = evidence_text(currency=program.organization.currency, evidences=[factors, [f.evidence for f in flags]])
    _in_words(text, factors, flags)
    return ProgramDetail(
        program=program,
        card=card,
        on=card.on,
        as_of=as_of,
        metric_roots=roots,
        metric_count=metric_count,
        risk_history=history,
        risk_factors=factors,
        risk_chart=charts.risk_chart(history, title=f"Early-bail risk score of {program.name}"),
        flags=flags,
        flags_filtered=bool(flag_filters) and filters_valid,
        flag_filters_valid=filters_valid,
        stalled=stalled,
        in_flight_count=in_flight,
        forums=_forums(program, as_of),
        stages=stages_on(program_ids=[program.id], as_of=as_of),
    )


def flag_detail(*, organization_ids: Iterable[int] | None, flag_id: int, as_of: dt.date) -> tuple[Flag, list[str]]:
    """One flag of the caller's organizations with its evidence in sentences, and its state on
    `as_of` (`Flag.objects.with_state_on`): `status_on` (null before its first detection,
    else open, acknowledged, resolved or dismissed as on that day), `severity_on` and
    `title_on`, and `age_days` counted to `as_of`. One query.

    Raises Flag.DoesNotExist outside `organization_ids`."""
    flags = Flag.objects.select_related(
        "owner",
        "program",
        "organization",
        "resolved_by",
        "acknowledged_by",
        "acknowledged_by_key__created_by",
        "resolved_by_key__created_by",
        *LADDER_RELATED,
    )
    if organization_ids is not None:
        flags = flags.for_organizations(list(organization_ids))
    flag = flags.with_state_on(as_of).get(pk=flag_id)
    flag.age_days = flag_age_days(flag.first_detected_on, as_of)
    flag.severity_on_label = Severity(flag.severity_on).label
    # Who acted, by name (a person, or an API key and its creator): SPEC §2 "who acted".
    flag.acknowledged_label = actor_label(flag.acknowledged_by, flag.acknowledged_by_key)
    flag.resolved_label = actor_label(flag.resolved_by, flag.resolved_by_key)
    # Who the ladder reached ("Escalated to the board contact, Jane Doe, on 12 Nov 2026").
    flag.escalation_role = LADDER_ROLES.get(flag.escalation_level, "")
    flag.escalated_to = escalated_to(flag)
    text = evidence_text(currency=flag.organization.currency, evidences=[flag.evidence])
    return flag, text.flag(flag.kind, flag.evidence)
