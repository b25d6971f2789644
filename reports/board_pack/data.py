"""What a board pack says, as of a date: read through the dashboard's and the domain apps'
selectors, for one program or every live program of an organization at once.

Everything is set-wise over the programs of the pack, so the number of queries is fixed
whatever the number of programs, metrics, measurements, flags or assessments (about twenty):

- the card facts (status, month of the horizon, risk and trend, flag and metric health
  counts, forum adherence, sponsor presence): `dashboard.selectors.build_cards`, the very
  cards of the dashboard;
- the risk series and the factors in force (`risk_on(with_factors=True)`), the factors
  written as sentences by the one evidence renderer (accountability.evidence);
- what changed since the previous month, i.e. in (as_of − 1 month, as_of]: flags raised
  (first detected), resolved or dismissed (closed), every step up the escalation ladder
  (from the flags' history), target and deadline revisions, risk level moves;
- open high and critical flags with owner and age (`flags_open_on`), every flag named with
  its severity and title on `as_of` (`Flag.objects.with_state_on`);
- the metric cascade with its charts (`metrics_on`, `measurements_until`,
  `revisions_until`, `dashboard.charts`), nodes of the dashboard's own `MetricNode` so the
  dashboard's template draws them. The program pack has the whole tree with charts; the
  portfolio pack, one brief per program, lists each program's strategic metrics (the
  roots: health, latest value, target) and counts the rest, so a 40-program portfolio
  stays a short document laid out within the 5-second budget;
- the latest commitment assessment against the previous one.
Read-only, safe to re-run.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from accountability.choices import EscalationLevel, RiskLevel, Severity
from accountability.evidence import EvidenceText, evidence_text
from accountability.models import Flag, RiskAssessment
from accountability.selectors import flag_age_days, flags_open_on, risk_on
from dashboard import charts
from dashboard.program import RISK_HISTORY_DAYS, MetricNode, Revision
from dashboard.selectors import FlagLine, ProgramCard, build_cards, scoped_programs
from metrics.choices import Health
from metrics.health import expected_value
from metrics.selectors import (
    build_tree,
    measurements_until,
    metrics_on,
    revisions_until,
)
from programs.choices import COMMITMENT_QUESTIONS, ProgramStatus
from programs.dates import add_months, end_of, local_date
from programs.models import CommitmentAssessment, Organization, Program
from programs.money import format_money

SEVERE = (Severity.CRITICAL, Severity.HIGH)
LIVE_STATUSES = (ProgramStatus.ACTIVE, ProgramStatus.PAUSED)
# Rows per list in a portfolio brief; the program's own pack lists everything.
BRIEF_ROWS = 5


@dataclass
class Change:
    on: dt.date
    text: str


@dataclass
class Commitment:
    assessed_on: dt.date
    assessor_name: str | None
    score: Decimal
    answers: dict[str, int]


@dataclass
class CommitmentLine:
    question: str
    latest: int
    previous: int | None

    @property
    def delta(self) -> int | None:
        return None if self.previous is None else self.latest - self.previous


@dataclass
class ProgramPack:
    program: Program
    card: ProgramCard
    currency: str
    risk_history: list[dict] = field(default_factory=list)
    risk_chart: SafeString = SafeString("")
    risk_factors: list[dict] = field(default_factory=list)
    changes: dict[str, list[Change]] = field(default_factory=dict)
    severe_flags: list[FlagLine] = field(default_factory=list)
    metric_roots: list[MetricNode] = field(default_factory=list)
    metric_count: int = 0
    full_cascade: bool = True
    commitment: Commitment | None = None
    previous_commitment: Commitment | None = None

    @property
    def active_roots(self) -> list[MetricNode]:
        """The cascade's roots active on the pack's date (`metrics_on` gives each metric's
        status then, from its revisions): a metric retired by then is no longer measured
        against its target, as on the dashboard's card (`metric_health_counts`)."""
        return [n for n in self.metric_roots if n.metric.is_active]

    @property
    def retired_roots(self) -> int:
        """Roots retired by the pack's date: the brief names their number, labelled retired
        as in the program pack's cascade, and counts no health for them."""
        return len(self.metric_roots) - len(self.active_roots)

    @property
    def strategic_health(self) -> dict[str, int]:
        """The active roots by health (the portfolio brief's one-line summary)."""
        counts: dict[str, int] = defaultdict(int)
        for node in self.active_roots:
            counts[node.health_label.lower()] += 1
        return dict(counts)

    @property
    def strategic_exceptions(self) -> list[MetricNode]:
        """The active roots off track, then at risk: what the portfolio brief lists by name (up to 5)."""
        order = {Health.OFF_TRACK: 0, Health.AT_RISK: 1}
        worst = [n for n in self.active_roots if n.health in order]
        return sorted(worst, key=lambda n: order[n.health])[:BRIEF_ROWS]

    @property
    def budget_text(self) -> str:
        return format_money(self.card.on.budget if self.card.on else None, self.currency)

    @property
    def changes_count(self) -> int:
        return sum(len(v) for v in self.changes.values())

    @property
    def commitment_lines(self) -> list[CommitmentLine]:
        if not self.commitment:
            return []
        previous = self.previous_commitment.answers if self.previous_commitment else {}
        return [
            CommitmentLine(question, self.commitment.answers[code], previous.get(code))
            for code, question in COMMITMENT_QUESTIONS
        ]

    @property
    def commitment_delta(self) -> Decimal | None:
        if not (self.commitment and self.previous_commitment):
            return None
        return self.commitment.score - self.previous_commitment.score


@dataclass
class BoardPack:
    organization: Organization
    as_of: dt.date
    since: dt.date
    programs: list[ProgramPack]
    portfolio: bool

    @property
    def title(self) -> str:
        if self.portfolio:
            return f"Board pack: {self.organization.name} portfolio"
        return f"Board pack: {self.programs[0].program.name}" if self.programs else "Board pack"

    @property
    def severe_total(self) -> int:
        return sum(len(p.severe_flags) for p in self.programs)


def _risk_series(program_ids: list[int], as_of: dt.date) -> dict[int, list[dict]]:
    """Each program's assessments of the two years up to `as_of`, oldest first: one query
    (the dashboard's `risk_history`, for many programs at once)."""
    since = as_of - dt.timedelta(days=RISK_HISTORY_DAYS)
    out: dict[int, list[dict]] = defaultdict(list)
    rows = RiskAssessment.objects.filter(program_id__in=program_ids, as_of__lte=as_of, as_of__gt=since)
    for row in rows.order_by("program_id", "as_of").values("program_id", "as_of", "score", "level"):
        out[row["program_id"]].append(row)
    return out


def risk_sparkline(history: list[dict], title: str) -> SafeString:
    """The portfolio brief's trend chart: the risk score on the dashboard's four level bands,
    as a vector line without axes or labels (the sentence beside it gives the numbers).
    The dashboard's full `risk_chart` is in each program's own pack; this one costs the PDF
    layout a fraction of it, forty times over."""
    width, height = 240, 60
    points = [(row["as_of"], row["score"]) for row in history]
    bands = "".join(
        f'<rect x="0" y="{height * (100 - hi) / 100:.1f}" width="{width}" height="{height * (hi - lo) / 100:.1f}" '
        f'fill="{fill}"/>'
        for _, lo, hi, fill in charts.RISK_BANDS
    )
    line = ""
    if points:
        start, end = points[0][0], points[-1][0]
        span = max((end - start).days, 1)
        coords = " ".join(
            f"{(day - start).days * (width - 8) / span + 4:.1f},{height * (100 - score) / 100:.1f}"
            for day, score in points
        )
        colour = charts.COLOURS["values"]
        last_x, last_y = coords.rsplit(" ", 1)[-1].split(",")
        line = (
            f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>'
            f'<circle cx="{last_x}" cy="{last_y}" r="3" fill="{colour}"/>'
        )
        desc = f"{len(points)} assessments from {start:%d %b %Y} to {end:%d %b %Y}; latest {points[-1][1]}."
    else:
        desc = "No risk assessment yet."
    return format_html(
        '<svg class="chart sparkline" role="img" viewBox="0 0 {} {}" width="{}" height="{}"><title>{}</title>'
        "<desc>{}</desc>{}{}</svg>",
        width,
        height,
        width,
        height,
        title,
        desc,
        mark_safe(bands),
        mark_safe(line),
    )


def _factors(factors: list | None, text: EvidenceText) -> list[dict]:
    """Risk factors as the dashboard words them (accountability.evidence, the one renderer)."""
    return [
        {
            "label": text.factor_label(str(f.get("code", ""))),
            "points": f.get("points") or 0,
            "sentence": text.factor(f),
        }
        for f in sorted(factors or [], key=lambda f: -(f.get("points") or 0))
    ]


def _risk_moves(series: list[dict], since: dt.date) -> list[Change]:
    moves = []
    for before, after in zip(series, series[1:], strict=False):
        if after["as_of"] > since and after["level"] != before["level"]:
            old, new = RiskLevel(before["level"]).label, RiskLevel(after["level"]).label
            moves.append(Change(after["as_of"], f"Risk level moved from {old} to {new} (score {after['score']})."))
    return moves


def _flag_label(severity: str, title: str, owner: str | None) -> str:
    return f"{Severity(severity).label} flag “{title}” ({owner or 'no owner'})"


def _flag_changes(program_ids: list[int], since: dt.date, as_of: dt.date) -> dict[int, dict[str, list[Change]]]:
    """Flags raised and closed in (since, as_of], per program, named with their severity and
    title on `as_of` (`with_severity_on`, like every other line of the pack), and every step
    up the escalation ladder taken in that window (`_escalation_steps`). Two queries."""
    rows = (
        Flag.objects.filter(program_id__in=program_ids)
        .filter(
            Q(first_detected_on__gt=since, first_detected_on__lte=as_of) | Q(closed_on__gt=since, closed_on__lte=as_of)
        )
        .with_severity_on(as_of)
        .select_related("owner")
        .order_by("first_detected_on", "id")
    )
    out: dict[int, dict[str, list[Change]]] = defaultdict(lambda: defaultdict(list))
    for f in rows:
        label = _flag_label(f.severity_on, f.title_on, f.owner.name if f.owner else None)
        if since < f.first_detected_on <= as_of:
            out[f.program_id]["raised"].append(Change(f.first_detected_on, f"Raised: {label}."))
        if f.closed_on and since < f.closed_on <= as_of:
            verb = "Dismissed" if f.status == "dismissed" else "Resolved"
            out[f.program_id]["resolved"].append(Change(f.closed_on, f"{verb}: {label}."))
    for program_id, step in _escalation_steps(program_ids, since, as_of):
        out[program_id]["escalated"].append(step)
    return out


def _escalation_steps(program_ids: list[int], since: dt.date, as_of: dt.date) -> list[tuple[int, Change]]:
    """Every climb of the escalation ladder in (since, as_of], oldest first: one query.

    Read from the flags' history (`Flag.history`), not from the flags, which keep only their
    latest step: each climb writes a snapshot with its new `escalation_level` and
    `escalated_at` (accountability.escalation), and later snapshots (refreshes,
    acknowledgements) repeat that pair. So each distinct (flag, level, escalated_at) with
    `escalated_at` in the window is one step; its first snapshot names the flag as it was
    then (severity, title, owner).
    """
    start, end = end_of(since), end_of(as_of)
    rows = (
        Flag.history.model.objects.filter(
            program_id__in=program_ids, escalation_level__gt=0, escalated_at__gte=start, escalated_at__lt=end
        )
        .order_by("escalated_at", "id", "history_id")
        .values("id", "program_id", "escalation_level", "escalated_at", "severity", "title", "owner__name")
    )
    steps: list[tuple[int, Change]] = []
    seen: set[tuple] = set()
    for row in rows:
        key = (row["id"], row["escalation_level"], row["escalated_at"])
        if key in seen:
            continue
        seen.add(key)
        level = EscalationLevel(row["escalation_level"])
        label = _flag_label(row["severity"], row["title"], row["owner__name"])
        steps.append(
            (
                row["program_id"],
                Change(local_date(row["escalated_at"]), f"Escalated to level {level.value} ({level.label}): {label}."),
            )
        )
    return steps


def _metric_trees(
    program_ids: list[int], as_of: dt.date, since: dt.date, full: bool
) -> tuple[dict[int, list[MetricNode]], dict[int, int], dict[int, list[Change]]]:
    """Per program: the cascade's nodes (roots only unless `full`), the metric count and the
    target revisions made in (since, as_of]. Four or five queries."""
    metrics = metrics_on(program_ids=program_ids, as_of=as_of, detail=True)
    by_program: dict[int, list] = defaultdict(list)
    for m in metrics:
        by_program[m.program_id].append(m)
    trees = {pid: build_tree(ms) for pid, ms in by_program.items()}
    points = measurements_until(metric_ids=[m.id for m in metrics], as_of=as_of) if full else {}
    revisions = revisions_until(program_ids=program_ids, as_of=as_of, fields=["target", "target_on"])
    changes: dict[int, list[Change]] = defaultdict(list)
    names = {m.id: m for m in metrics}

    def revs(m) -> list[Revision]:
        return [Revision.from_row(row, m) for row in revisions.get(m.id, [])]

    for metric_id in revisions:
        m = names.get(metric_id)
        for r in revs(m) if m else []:
            if r.changed_on > since:
                how = "loosened" if r.loosened else "changed"
                changes[m.program_id].append(
                    Change(r.changed_on, f"{m.name}: {r.change_text} ({how}; reason: {r.reason or 'none given'}).")
                )

    def node(tree_node) -> MetricNode:
        m = tree_node.metric
        expected = None
        if None not in (m.baseline, m.baseline_on, m.target, m.target_on):
            expected = expected_value(
                baseline=m.baseline, baseline_on=m.baseline_on, target=m.target, target_on=m.target_on, on=as_of
            )
        rs = revs(m)
        return MetricNode(
            metric=m,
            health=m.health,
            expected=expected,
            points=points.get(m.id, []),
            revisions=rs,
            # The portfolio lists its strategic metrics without charts (see `_build`).
            chart=charts.metric_chart(m, points.get(m.id, []), rs, as_of) if full else SafeString(""),
            children=[node(child) for child in tree_node.children] if full else [],
        )

    nodes = {pid: [node(root) for root in roots] for pid, roots in trees.items()}
    return nodes, {pid: len(ms) for pid, ms in by_program.items()}, changes


def _commitments(program_ids: list[int], as_of: dt.date) -> dict[int, list[Commitment]]:
    """The latest two assessments on or before `as_of` of each program: one query."""
    codes = [code for code, _ in COMMITMENT_QUESTIONS]
    rows = (
        CommitmentAssessment.objects.filter(program_id__in=program_ids, assessed_on__lte=as_of)
        .annotate(
            rn=Window(RowNumber(), partition_by=[F("program_id")], order_by=[F("assessed_on").desc(), F("id").desc()])
        )
        .filter(rn__lte=2)
        .order_by("program_id", "rn")
        .values("program_id", "assessed_on", "assessor__name", "score", *codes)
    )
    out: dict[int, list[Commitment]] = defaultdict(list)
    for row in rows:
        out[row["program_id"]].append(
            Commitment(row["assessed_on"], row["assessor__name"], row["score"], {c: row[c] for c in codes})
        )
    return out


def _severe_flags(program_ids: list[int], as_of: dt.date) -> dict[int, list[FlagLine]]:
    out: dict[int, list[FlagLine]] = defaultdict(list)
    flags = flags_open_on(as_of=as_of, program_ids=program_ids).filter(severity_on__in=SEVERE)
    for f in flags.select_related("owner"):
        out[f.program_id].append(
            FlagLine(
                id=f.id,
                title=f.title_on,
                kind=f.kind,
                severity=f.severity_on,
                owner_name=f.owner.name if f.owner else None,
                first_detected_on=f.first_detected_on,
                age_days=flag_age_days(f.first_detected_on, as_of),
            )
        )
    return out


def _build(programs: list[Program], organization: Organization, as_of: dt.date, portfolio: bool) -> BoardPack:
    since = add_months(as_of, -1)
    cards = build_cards(programs, as_of) if programs else []
    if portfolio:
        cards = [c for c in cards if c.status in LIVE_STATUSES]
    cards.sort(key=ProgramCard.sort_key)
    ids = [c.id for c in cards]
    by_id = {p.id: p for p in programs}
    if not ids:
        return BoardPack(organization, as_of, since, [], portfolio)
    series = _risk_series(ids, as_of)
    risks = risk_on(program_ids=ids, as_of=as_of, with_factors=True)
    flag_changes = _flag_changes(ids, since, as_of)
    trees, counts, revision_changes = _metric_trees(ids, as_of, since, full=not portfolio)
    severe = _severe_flags(ids, as_of)
    commitments = _commitments(ids, as_of)
    factors = {pid: risk.factors or [] for pid, risk in risks.items()}
    text = evidence_text(
        currency=organization.currency, evidences=[f.get("evidence") for fs in factors.values() for f in fs]
    )
    packs = []
    for card in cards:
        program = by_id[card.id]
        history = series.get(card.id, [])
        assessments = commitments.get(card.id, [])
        changes = flag_changes.get(card.id, {})
        packs.append(
            ProgramPack(
                program=program,
                card=card,
                currency=organization.currency,
                risk_history=history,
                risk_chart=(risk_sparkline if portfolio else charts.risk_chart)(
                    history, title=f"Early-bail risk score of {program.name}"
                ),
                risk_factors=_factors(factors.get(card.id), text),
                changes={
                    "Flags raised": changes.get("raised", []),
                    "Flags resolved or dismissed": changes.get("resolved", []),
                    "Escalations": changes.get("escalated", []),
                    "Target revisions": revision_changes.get(card.id, []),
                    "Risk level moves": _risk_moves(history, since),
                },
                severe_flags=severe.get(card.id, []),
                metric_roots=trees.get(card.id, []),
                metric_count=counts.get(card.id, 0),
                full_cascade=not portfolio,
                commitment=assessments[0] if assessments else None,
                previous_commitment=assessments[1] if len(assessments) > 1 else None,
            )
        )
    return BoardPack(organization, as_of, since, packs, portfolio)


def program_board_pack(*, organization_ids: Iterable[int] | None, program_id: int, as_of: dt.date) -> BoardPack:
    """One program's pack as on `as_of`; Program.DoesNotExist outside `organization_ids`."""
    program = (
        scoped_programs(organization_ids)
        .select_related("organization", "executive_sponsor", "customer_champion")
        .get(pk=program_id)
    )
    return _build([program], program.organization, as_of, portfolio=False)


def portfolio_board_pack(*, organization: Organization, as_of: dt.date) -> BoardPack:
    """Every program of `organization` active or paused on `as_of`, most in need of attention first."""
    programs = list(
        Program.objects.filter(organization=organization).select_related(
            "organization", "executive_sponsor", "customer_champion"
        )
    )
    return _build(programs, organization, as_of, portfolio=True)
