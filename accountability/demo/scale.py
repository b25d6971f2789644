"""Benchmark-size data: about N×20 programs across a few organizations, written in bulk.

At scale 10: ~200 programs, 10k initiatives, 30k progress updates, 20k metrics, 500k
measurements, 600 forums, 20k sessions, ~90k attendance rows, ~36k agenda items. Rows
whose ids are needed later (programs, metrics, sessions…) go through `bulk_create` in
batches; leaf rows (measurements, attendance, agenda, updates) through psycopg COPY on
PostgreSQL, `bulk_create` elsewhere. No per-row saves, no simple-history rows.

The data is made to look like a portfolio, not noise: most programs are active, started
one to three years ago, and a share of them stall, slip, skip meetings and bargain their
targets down, so every detector has something to find.
"""

import datetime as dt
import random
import sys
from collections.abc import Iterable
from decimal import Decimal

from django.db import connection, models, transaction
from django.utils import timezone
from tqdm import tqdm

from metrics.choices import Cadence, Direction, Kind, Level, MetricStatus
from metrics.models import Exemption, Measurement, Metric, MetricRevision
from programs.choices import InitiativeStatus, ProgramStatus, Rag, StageStatus
from programs.models import (
    BusinessUnit,
    CommitmentAssessment,
    Initiative,
    Organization,
    Person,
    Program,
    ProgramStatusChange,
    ProgressUpdate,
    RoadmapStage,
)

from ..choices import ActionStatus, AgendaOutcome, SessionStatus
from ..choices import Cadence as ForumCadence
from ..models import ActionItem, AgendaItem, Attendance, Escalation, Forum, ForumSession
from .people import UNITS
from .timeline import add_months, at, month_end

SCALE_SLUG_PREFIX = "bench-"
PROGRAMS_PER_SCALE = 20
CHUNK = 5  # programs written per transaction
BATCH = 5000

COMPANIES = ["Contoso Insurance", "Fabrikam Bank", "Tailspin Telecom", "Woodgrove Utilities", "Litware Health"]
FIRST = [
    "Ana",
    "Ben",
    "Chen",
    "Dara",
    "Eli",
    "Fay",
    "Gus",
    "Hana",
    "Ivo",
    "Jia",
    "Kai",
    "Lena",
    "Milo",
    "Nia",
    "Omar",
    "Pia",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
    "Uma",
    "Vik",
    "Wen",
    "Yara",
    "Zed",
]
LAST = [
    "Adams",
    "Baker",
    "Cruz",
    "Dietrich",
    "Evans",
    "Fox",
    "Garcia",
    "Haddad",
    "Ito",
    "Jensen",
    "Kowalski",
    "Larsen",
    "Moreau",
    "Nakamura",
    "Okoro",
    "Patel",
    "Quist",
    "Rossi",
    "Singh",
    "Tan",
    "Usman",
    "Varga",
]
THEMES = [
    "Onboarding",
    "Claims",
    "Billing",
    "Service",
    "Renewals",
    "Digital",
    "Complaints",
    "Field service",
    "Retail",
    "Loyalty",
]
METRIC_NAMES = [
    "NPS",
    "CSAT",
    "Customer effort",
    "Retention",
    "Repeat contacts",
    "First-contact resolution",
    "Wait time",
    "Handle time",
    "Complaint rate",
    "Digital share",
    "Cost to serve",
    "Churn",
]


def insert_leaves(model: type[models.Model], fields: list[str], rows: Iterable[tuple]) -> int:
    """Insert rows whose ids nobody needs: COPY on PostgreSQL, batched bulk_create elsewhere."""
    rows = list(rows)
    if not rows:
        return 0
    if connection.vendor == "postgresql":
        columns = ", ".join(model._meta.get_field(f).column for f in fields)
        sql = f"COPY {model._meta.db_table} ({columns}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
    else:
        model.objects.bulk_create((model(**dict(zip(fields, row, strict=True))) for row in rows), batch_size=BATCH)
    return len(rows)


class _Org:
    """One benchmark organization: its people and units, and helpers to pick from them."""

    def __init__(self, name: str, rng: random.Random, people: int) -> None:
        self.rng = rng
        base = SCALE_SLUG_PREFIX + name.lower().replace(" ", "-")
        self.organization = Organization.objects.create(name=name, slug=base)
        self.units = BusinessUnit.objects.bulk_create(
            BusinessUnit(organization=self.organization, name=u) for u in UNITS
        )
        self.people = Person.objects.bulk_create(
            (
                Person(
                    organization=self.organization,
                    name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                    title="Chief Officer" if i < 8 else rng.choice(["Director", "Head", "Manager", "Lead"]),
                    is_officer=i < 8,
                    active=i < 8 or rng.random() > 0.03,
                )
                for i in range(people)
            ),
            batch_size=BATCH,
        )
        self.officers = self.people[:8]
        self.organization.ceo = self.officers[0]
        self.organization.save(update_fields=["ceo"])

    def person(self) -> Person:
        return self.rng.choice(self.people)


def build_scale(*, scale: int, seed: int = 7, today: dt.date | None = None, stdout=None) -> str:
    """Write about `scale`×20 programs across a few organizations; returns a one-line summary.

    Not idempotent: refuses (ValueError) when benchmark organizations already exist.
    """
    if scale < 1:
        raise ValueError("scale must be 1 or more")
    if Organization.objects.filter(slug__startswith=SCALE_SLUG_PREFIX).exists():
        raise ValueError("Benchmark organizations already exist: seed with --reset to rebuild them.")
    today = today or timezone.localdate()
    rng = random.Random(seed)
    total = scale * PROGRAMS_PER_SCALE
    org_count = max(2, min(len(COMPANIES), (scale + 1) // 2))
    per_org = [total // org_count + (1 if i < total % org_count else 0) for i in range(org_count)]
    counts: dict[str, int] = {}
    with tqdm(total=total, unit="program", desc="seed_demo --scale", file=sys.stderr, disable=None) as bar:
        for company, programs in zip(COMPANIES, per_org, strict=False):
            with transaction.atomic():
                org = _Org(company, rng, people=40 + 8 * programs)
            for start in range(0, programs, CHUNK):
                with transaction.atomic():
                    _chunk(org, min(CHUNK, programs - start), today, rng, counts)
                bar.update(min(CHUNK, programs - start))
    return ", ".join(f"{n:,} {k}" for k, n in counts.items())


def _add(counts: dict[str, int], key: str, n: int) -> None:
    counts[key] = counts.get(key, 0) + n


def _chunk(org: _Org, n: int, today: dt.date, rng: random.Random, counts: dict[str, int]) -> None:
    programs = _programs(org, n, today, rng)
    _add(counts, "programs", len(programs))
    stages = _stages(programs, today, rng)
    initiatives = _initiatives(org, programs, stages, today, rng)
    _add(counts, "initiatives", len(initiatives))
    _add(counts, "progress updates", _updates(initiatives, today, rng))
    metrics = _metrics(org, programs, today, rng)
    _add(counts, "metrics", len(metrics))
    _add(counts, "measurements", _measurements(metrics, today, rng))
    sessions, attendance, agenda = _forums(org, programs, today, rng)
    _add(counts, "forum sessions", sessions)
    _add(counts, "attendance rows", attendance)
    _add(counts, "agenda items", agenda)
    _negotiations(org, metrics, today, rng)
    _accountability(org, programs, initiatives, today, rng)


def _programs(org: _Org, n: int, today: dt.date, rng: random.Random) -> list[Program]:
    programs = []
    for _ in range(n):
        roll = rng.random()
        status = (
            ProgramStatus.ACTIVE
            if roll < 0.8
            else ProgramStatus.PAUSED
            if roll < 0.88
            else ProgramStatus.DRAFT
            if roll < 0.94
            else ProgramStatus.COMPLETED
        )
        started = add_months(today, -rng.randint(3, 40))
        champion = rng.choice(org.officers) if rng.random() < 0.75 else org.person()
        programs.append(
            Program(
                organization=org.organization,
                name=f"{rng.choice(THEMES)} {rng.choice(['renewal', 'transformation', 'first', 'promise'])} "
                f"{rng.randint(100, 999)}",
                customer_vision="Customers get it right the first time." if rng.random() > 0.05 else "",
                business_case="Retention and cost to serve." if rng.random() > 0.05 else "",
                executive_sponsor=rng.choice(org.officers),
                customer_champion=champion,
                champion_time_pct=rng.choice([20, 40, 50, 60, 80]),
                status=status,
                started_on=None if status == ProgramStatus.DRAFT else started,
                committed_horizon_months=rng.choice([24, 36, 48, 60, 60, 60]),
                first_results_due_on=add_months(started, rng.choice([6, 12, 18])),
                budget=Decimal(rng.randrange(500_000, 5_000_000, 50_000)),
                created_at=at(started - dt.timedelta(days=30)),
            )
        )
    programs = Program.objects.bulk_create(programs)
    ProgramStatusChange.objects.bulk_create(
        ProgramStatusChange(
            program=p,
            from_status=ProgramStatus.DRAFT,
            to_status=ProgramStatus.ACTIVE,
            reason="Launched",
            committed_horizon_months=60,
            at=at(p.started_on),
        )
        for p in programs
        if p.started_on
    )
    return programs


def _stages(programs: list[Program], today: dt.date, rng: random.Random) -> dict[int, list[RoadmapStage]]:
    rows = []
    for p in programs:
        start = p.started_on or today
        for seq in range(1, 5):
            begins = add_months(start, 6 * (seq - 1))
            status = (
                StageStatus.DONE
                if add_months(begins, 6) < today
                else (StageStatus.IN_PROGRESS if begins <= today else StageStatus.PLANNED)
            )
            budget = None if seq > 1 and rng.random() < 0.2 else Decimal(rng.randrange(100_000, 900_000, 10_000))
            rows.append(
                RoadmapStage(
                    program=p,
                    sequence=seq,
                    name=f"Stage {seq}",
                    starts_on=begins,
                    ends_on=add_months(begins, 6),
                    budget=budget,
                    status=status,
                )
            )
    out: dict[int, list[RoadmapStage]] = {}
    for stage in RoadmapStage.objects.bulk_create(rows, batch_size=BATCH):
        out.setdefault(stage.program_id, []).append(stage)
    return out


def _initiatives(org, programs, stages, today, rng) -> list[Initiative]:
    rows = []
    for p in programs:
        for i in range(50):
            starts = today - dt.timedelta(days=rng.randint(-60, 500))
            roll = rng.random()
            status = (
                InitiativeStatus.DONE
                if roll < 0.35
                else InitiativeStatus.IN_PROGRESS
                if roll < 0.75
                else InitiativeStatus.BLOCKED
                if roll < 0.8
                else InitiativeStatus.PLANNED
                if roll < 0.95
                else InitiativeStatus.CANCELLED
            )
            if starts > today:
                status = InitiativeStatus.PLANNED
            due = starts + dt.timedelta(days=rng.randint(60, 400))
            if status == InitiativeStatus.IN_PROGRESS and rng.random() < 0.08:
                due = today - dt.timedelta(days=rng.randint(1, 90))  # slipping past its date
            rows.append(
                Initiative(
                    program=p,
                    stage=rng.choice(stages[p.pk]),
                    name=f"Initiative {i + 1}",
                    owner=org.person(),
                    status=status,
                    starts_on=starts,
                    due_on=due,
                    percent_complete=100 if status == InitiativeStatus.DONE else rng.randint(0, 90),
                )
            )
    return Initiative.objects.bulk_create(rows, batch_size=BATCH)


def _updates(initiatives: list[Initiative], today: dt.date, rng: random.Random) -> int:
    fields = ["initiative_id", "author_id", "reported_on", "rag", "percent_complete", "note", "created_at"]
    rows = []
    for ini in initiatives:
        if ini.status == InitiativeStatus.PLANNED:
            continue
        stalled = rng.random() < 0.1
        last = today - dt.timedelta(days=rng.randint(35, 120) if stalled else rng.randint(0, 25))
        for k in range(3):
            day = max(ini.starts_on, last - dt.timedelta(days=21 * k))
            rag = Rag.RED if stalled and k == 0 else rng.choice([Rag.GREEN, Rag.GREEN, Rag.AMBER])
            rows.append((ini.pk, ini.owner_id, day, rag, max(0, ini.percent_complete - 10 * k), "", at(day, 17)))
    return insert_leaves(ProgressUpdate, fields, rows)


def _metrics(org, programs, today, rng) -> list[Metric]:
    """100 per program: 10 strategic, 30 tactical under them, 60 operational under those."""
    out: list[Metric] = []
    plan = [(Level.STRATEGIC, 10), (Level.TACTICAL, 30), (Level.OPERATIONAL, 60)]
    parents: dict[int, list[Metric]] = {p.pk: [] for p in programs}
    for level, per_program in plan:
        rows = []
        for p in programs:
            above = parents[p.pk]
            for i in range(per_program):
                kind = (
                    (Kind.OUTCOME if i % 5 < 2 else Kind.PERCEPTION)
                    if level == Level.STRATEGIC
                    else (Kind.PERCEPTION if level == Level.TACTICAL else Kind.OPERATIONAL)
                )
                direction = Direction.DECREASE if rng.random() < 0.3 else Direction.INCREASE
                baseline = Decimal(rng.randint(20, 80))
                gain = Decimal(rng.randint(-2, 20))  # a few targets ask for nothing
                target = baseline + gain if direction == Direction.INCREASE else baseline - gain
                owner = None if rng.random() < 0.02 else org.person()
                rows.append(
                    Metric(
                        program=p,
                        parent=rng.choice(above) if above else None,
                        level=level,
                        kind=kind,
                        name=f"{rng.choice(METRIC_NAMES)} {level[0].upper()}{i + 1}",
                        direction=direction,
                        baseline=baseline,
                        baseline_on=add_months(today, -25),
                        target=target,
                        target_on=add_months(today, rng.randint(3, 30)),
                        owner=owner,
                        unit="%",
                        incentive_weight=rng.choice([0, 0, 5, 10, 20]),
                        reporting_cadence=Cadence.QUARTERLY if rng.random() < 0.1 else Cadence.MONTHLY,
                        created_at=at(add_months(today, -26)),
                    )
                )
        created = Metric.objects.bulk_create(rows, batch_size=BATCH)
        out.extend(created)
        parents = {p.pk: [] for p in programs}
        for m in created:
            parents[m.program_id].append(m)
    return out


def _measurements(metrics: list[Metric], today: dt.date, rng: random.Random) -> int:
    """25 monthly values per metric (quarterly ones: 8); about 3% stopped reporting months ago."""
    fields = ["metric_id", "period_end", "value", "source", "recorded_at"]
    last_end = month_end(add_months(today, -1))
    rows = []
    for m in metrics:
        stop = add_months(last_end, -rng.randint(3, 8)) if rng.random() < 0.03 else last_end
        step, count = (3, 8) if m.reporting_cadence == Cadence.QUARTERLY else (1, 25)
        drift = float(m.target - m.baseline) / count * rng.uniform(0.2, 1.3)
        for k in range(count):
            end = month_end(add_months(stop, -step * (count - 1 - k)))
            value = float(m.baseline) + drift * k + rng.uniform(-2, 2)
            rows.append((m.pk, end, Decimal(f"{value:.2f}"), "bench", at(end + dt.timedelta(days=2))))
    return insert_leaves(Measurement, fields, rows)


def _forums(org, programs, today, rng) -> tuple[int, int, int]:
    forums = Forum.objects.bulk_create(
        Forum(
            program=p,
            name=name,
            cadence=cadence,
            started_on=add_months(today, -24),
            chair=p.customer_champion,
            dedicated=rng.random() > 0.2,
            active=rng.random() > 0.05,
        )
        for p in programs
        for name, cadence in (
            ("Steering", ForumCadence.BIWEEKLY),
            ("Council", ForumCadence.MONTHLY),
            ("Review", ForumCadence.MONTHLY),
        )
    )
    sponsors = {p.pk: p.executive_sponsor_id for p in programs}
    members: dict[int, list[int]] = {}
    through = []
    for f in forums:
        people = {sponsors[f.program_id], f.chair_id, *(org.person().pk for _ in range(3))}
        members[f.pk] = sorted(people)
        through += [Forum.members.through(forum_id=f.pk, person_id=pid) for pid in members[f.pk]]
    Forum.members.through.objects.bulk_create(through, batch_size=BATCH)

    sessions = []
    for f in forums:
        step = 14 if f.cadence == ForumCadence.BIWEEKLY else 30
        lapsed_from = today - dt.timedelta(days=rng.randint(60, 150)) if rng.random() < 0.05 else None
        day = f.started_on
        while day <= today + dt.timedelta(days=30):
            roll = rng.random()
            status = (
                SessionStatus.SCHEDULED
                if day >= today
                else (
                    SessionStatus.CANCELLED
                    if roll < 0.07 or (lapsed_from and day > lapsed_from)
                    else SessionStatus.POSTPONED
                    if roll < 0.12
                    else SessionStatus.HELD
                )
            )
            sessions.append(ForumSession(forum=f, scheduled_for=at(day), status=status))
            day = day + dt.timedelta(days=step) if step == 14 else add_months(day, 1)
    sessions = ForumSession.objects.bulk_create(sessions, batch_size=BATCH)

    attendance, agenda = [], []
    disengaged = {pid for pid in sponsors.values() if rng.random() < 0.15}
    for s in sessions:
        if s.status != SessionStatus.HELD:
            continue
        for pid in members[s.forum_id]:
            away = 0.7 if pid in disengaged else 0.15
            attendance.append((s.pk, pid, rng.random() > away))
        for k in range(2):
            outcome = AgendaOutcome.DISCUSSED if rng.random() > 0.1 else AgendaOutcome.DEFERRED
            agenda.append((s.pk, f"Agenda item {k + 1}", k == 0, outcome))
    a = insert_leaves(Attendance, ["session_id", "person_id", "present"], attendance)
    g = insert_leaves(AgendaItem, ["session_id", "title", "customer_item", "outcome"], agenda)
    return len(sessions), a, g


def _negotiations(org, metrics, today, rng) -> None:
    revisions, exemptions = [], []
    for m in metrics:
        roll = rng.random()
        when = at(today - dt.timedelta(days=rng.randint(10, 400)), 11)
        if roll < 0.04 and m.target is not None:
            easier = m.target - 5 if m.direction == Direction.INCREASE else m.target + 5
            revisions.append(
                MetricRevision(
                    metric=m,
                    field="target",
                    old_value=str(m.target),
                    new_value=str(easier),
                    reason="Renegotiated",
                    changed_at=when,
                )
            )
            m.target = easier
        elif roll < 0.06:
            later = m.target_on + dt.timedelta(days=rng.choice([60, 120, 200]))
            revisions.append(
                MetricRevision(
                    metric=m,
                    field="target_on",
                    old_value=m.target_on.isoformat(),
                    new_value=later.isoformat(),
                    reason="Slipped",
                    changed_at=when,
                )
            )
            m.target_on = later
        elif roll < 0.07:
            exemptions.append(
                Exemption(
                    metric=m,
                    person=org.person(),
                    reason="Star performer",
                    starts_on=today - dt.timedelta(days=rng.randint(10, 200)),
                )
            )
        elif roll < 0.075 and m.level == Level.OPERATIONAL:
            m.status = MetricStatus.RETIRED
            revisions.append(
                MetricRevision(
                    metric=m,
                    field="status",
                    old_value="active",
                    new_value="retired",
                    reason="No longer tracked",
                    changed_at=when,
                )
            )
    changed = [r.metric for r in revisions]
    Metric.objects.bulk_update(changed, ["target", "target_on", "status"], batch_size=BATCH)
    MetricRevision.objects.bulk_create(revisions, batch_size=BATCH)
    Exemption.objects.bulk_create(exemptions, batch_size=BATCH)


def _accountability(org, programs, initiatives, today, rng) -> None:
    by_program: dict[int, list[Initiative]] = {}
    for ini in initiatives:
        by_program.setdefault(ini.program_id, []).append(ini)
    actions, escalations, assessments = [], [], []
    for p in programs:
        for _ in range(20):
            due = today + dt.timedelta(days=rng.randint(-60, 60))
            done = rng.random() < 0.6 and due < today
            actions.append(
                ActionItem(
                    program=p,
                    owner=org.person(),
                    description="Follow up",
                    due_on=due,
                    status=ActionStatus.DONE if done else ActionStatus.OPEN,
                    completed_on=due if done else None,
                )
            )
        for _ in range(3):
            raised = today - dt.timedelta(days=rng.randint(5, 120))
            resolved = raised + dt.timedelta(days=rng.randint(3, 20)) if rng.random() < 0.6 else None
            escalations.append(
                Escalation(
                    program=p,
                    initiative=rng.choice(by_program[p.pk]),
                    raised_by=p.customer_champion,
                    raised_to=p.executive_sponsor,
                    raised_on=raised,
                    resolved_on=resolved if resolved and resolved <= today else None,
                )
            )
        level = rng.randint(2, 5)
        for q in range(4):
            answers = {name: max(1, min(5, level + rng.choice([-1, 0, 0, 1]))) for name in _QUESTIONS}
            assessments.append(
                CommitmentAssessment(
                    program=p, assessor=p.customer_champion, assessed_on=add_months(today, -3 * (4 - q)), **answers
                )
            )
    ActionItem.objects.bulk_create(actions, batch_size=BATCH)
    Escalation.objects.bulk_create(escalations, batch_size=BATCH)
    CommitmentAssessment.objects.bulk_create(assessments, batch_size=BATCH)


_QUESTIONS = [name for name, _ in CommitmentAssessment.QUESTIONS]
