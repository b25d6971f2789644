"""Benchmark-size data: about N×20 programs across a few organizations, written in bulk.

At scale 10: ~200 programs, 10k initiatives, ~25k progress updates, 20k metrics, ~480k
measurements, 600 forums, ~21k sessions, ~85k attendance rows, ~35k agenda items. Rows
whose ids are needed later (programs, metrics, sessions…) go through `bulk_create` in
batches; leaf rows (measurements, attendance, agenda, updates) through psycopg COPY on
PostgreSQL, `bulk_create` elsewhere. No per-row saves, no simple-history rows.

It looks like a portfolio, not noise: each program draws a `trouble` level. Most are
well run (trouble near 0); about two in five struggle, and the more trouble, the more
their work stalls and slips, their forums skip meetings, their sponsors stay away and
their targets get bargained down. So every detector has something to find, in
proportions a real portfolio might show.
"""

import datetime as dt
import random
import sys
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from programs.choices import InitiativeStatus, ProgramStatus, Rag, StageStatus
from programs.models import Initiative, Organization, Program, ProgramStatusChange, ProgressUpdate, RoadmapStage

from .scale_base import BATCH, SCALE_SLUG_PREFIX, Batch, ScaleOrg, insert_leaves
from .scale_forums import write_accountability, write_forums
from .scale_metrics import write_measurements, write_metrics, write_negotiations
from .timeline import add_months, at

__all__ = ["SCALE_SLUG_PREFIX", "build_scale"]

PROGRAMS_PER_SCALE = 20
CHUNK = 5  # programs written per transaction
COMPANIES = ["Contoso Insurance", "Fabrikam Bank", "Tailspin Telecom", "Woodgrove Utilities", "Litware Health"]
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


def build_scale(*, scale: int, seed: int = 7, today: dt.date | None = None, stdout=None) -> str:
    """Write about `scale`×20 programs across a few organizations; returns a one-line summary.

    Not idempotent: refuses (ValueError) when benchmark organizations already exist
    (`seed_demo --reset` removes them first).
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
                org = ScaleOrg(company, rng, people=40 + 8 * programs)
            for start in range(0, programs, CHUNK):
                size = min(CHUNK, programs - start)
                with transaction.atomic():
                    _chunk(Batch(org=org, today=today, rng=rng), size, counts)
                bar.update(size)
    return ", ".join(f"{n:,} {k}" for k, n in counts.items())


def _chunk(batch: Batch, size: int, counts: dict[str, int]) -> None:
    def add(key: str, n: int) -> None:
        counts[key] = counts.get(key, 0) + n

    _programs(batch, size)
    add("programs", len(batch.programs))
    stages = _stages(batch)
    initiatives = _initiatives(batch, stages)
    add("initiatives", len(initiatives))
    add("progress updates", _updates(batch, initiatives))
    metrics = write_metrics(batch)
    add("metrics", len(metrics))
    add("measurements", write_measurements(batch, metrics))
    sessions, attendance, agenda = write_forums(batch)
    add("forum sessions", sessions)
    add("attendance rows", attendance)
    add("agenda items", agenda)
    write_negotiations(batch, metrics)
    write_accountability(batch, initiatives)


def _programs(batch: Batch, size: int) -> None:
    rng, org, today = batch.rng, batch.org, batch.today
    rows, troubles, activation_horizon = [], [], []
    for _ in range(size):
        trouble = rng.uniform(0, 0.2) if rng.random() < 0.6 else rng.uniform(0.3, 1.0)
        roll = rng.random()
        status = ProgramStatus.DRAFT if roll < 0.05 else ProgramStatus.COMPLETED if roll < 0.1 else ProgramStatus.ACTIVE
        if status == ProgramStatus.ACTIVE and trouble > 0.7 and rng.random() < 0.35:
            status = ProgramStatus.PAUSED
        started = add_months(today, -rng.randint(3, 40))
        weak = rng.random() < 0.05 + 0.4 * trouble
        horizon = 60
        if trouble > 0.6 and rng.random() < 0.3:
            horizon = rng.choice([24, 36])  # shortened since activation (horizon_shortened)
        rows.append(
            Program(
                organization=org.organization,
                name=f"{rng.choice(THEMES)} {rng.choice(['renewal', 'transformation', 'first', 'promise'])} "
                f"{rng.randint(100, 999)}",
                customer_vision="Customers get it right the first time, in the channel they chose.",
                business_case="Retention up, cost to serve down; see the finance appendix.",
                executive_sponsor=rng.choice(org.officers),
                customer_champion=org.person() if weak and rng.random() < 0.5 else rng.choice(org.officers),
                champion_time_pct=rng.choice([20, 30, 40]) if weak else rng.choice([50, 60, 80]),
                status=status,
                started_on=None if status == ProgramStatus.DRAFT else started,
                committed_horizon_months=horizon,
                first_results_due_on=add_months(started, 6 if trouble > 0.5 and rng.random() < 0.3 else 18),
                budget=Decimal(rng.randrange(500_000, 5_000_000, 50_000)),
                created_at=at(started - dt.timedelta(days=30)),
            )
        )
        troubles.append(trouble)
        activation_horizon.append(60)
    batch.programs = Program.objects.bulk_create(rows)
    batch.trouble = {p.pk: t for p, t in zip(batch.programs, troubles, strict=True)}
    ProgramStatusChange.objects.bulk_create(
        ProgramStatusChange(
            program=p,
            from_status=ProgramStatus.DRAFT,
            to_status=ProgramStatus.ACTIVE,
            reason="Launched",
            committed_horizon_months=h,
            at=at(p.started_on),
        )
        for p, h in zip(batch.programs, activation_horizon, strict=True)
        if p.started_on
    )


def _stages(batch: Batch) -> dict[int, list[RoadmapStage]]:
    rows = []
    for p in batch.programs:
        start = p.started_on or batch.today
        for seq in range(1, 5):
            begins = add_months(start, 6 * (seq - 1))
            if add_months(begins, 6) < batch.today:
                status = StageStatus.DONE
            else:
                status = StageStatus.IN_PROGRESS if begins <= batch.today else StageStatus.PLANNED
            unfunded = seq > 1 and batch.chance(p.pk, 0.03, 0.3)
            budget = None if unfunded else Decimal(batch.rng.randrange(100_000, 900_000, 10_000))
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


def _initiatives(batch: Batch, stages: dict[int, list[RoadmapStage]]) -> list[Initiative]:
    rng, today = batch.rng, batch.today
    rows = []
    for p in batch.programs:
        for i in range(50):
            starts = today - dt.timedelta(days=rng.randint(-60, 500))
            roll = rng.random()
            if starts > today:
                status = InitiativeStatus.PLANNED
            elif roll < 0.45:
                status = InitiativeStatus.DONE
            elif roll < 0.5:
                status = InitiativeStatus.CANCELLED
            else:
                status = InitiativeStatus.BLOCKED if roll < 0.55 else InitiativeStatus.IN_PROGRESS
            finished = status in (InitiativeStatus.DONE, InitiativeStatus.CANCELLED)
            due = starts + dt.timedelta(days=rng.randint(60, 400))
            if not finished:
                # Open work is normally due ahead; some of it slips past its date (initiative_overdue).
                slipped = batch.chance(p.pk, 0.01, 0.2)
                due = (
                    today - dt.timedelta(days=rng.randint(1, 90))
                    if slipped
                    else max(due, today + dt.timedelta(days=rng.randint(10, 300)))
                )
            rows.append(
                Initiative(
                    program=p,
                    stage=rng.choice(stages[p.pk]),
                    name=f"Initiative {i + 1}",
                    owner=batch.org.person(),
                    status=status,
                    starts_on=starts,
                    due_on=due,
                    percent_complete=100 if status == InitiativeStatus.DONE else rng.randint(0, 90),
                )
            )
    return Initiative.objects.bulk_create(rows, batch_size=BATCH)


def _updates(batch: Batch, initiatives: list[Initiative]) -> int:
    """Three updates per started initiative; in-flight work in troubled programs goes quiet (stalled)."""
    rng, today = batch.rng, batch.today
    fields = [
        "initiative_id",
        "organization_id",
        "author_id",
        "reported_on",
        "rag",
        "percent_complete",
        "note",
        "created_at",
    ]
    rows = []
    for ini in initiatives:
        if ini.status == InitiativeStatus.PLANNED:
            continue
        quiet = batch.chance(ini.program_id, 0.01, 0.25)
        last = today - dt.timedelta(days=rng.randint(35, 120) if quiet else rng.randint(0, 25))
        if ini.status in (InitiativeStatus.DONE, InitiativeStatus.CANCELLED):
            last = min(last, ini.due_on)
        for k in range(3):
            day = max(ini.starts_on, last - dt.timedelta(days=21 * k))
            rag = Rag.RED if quiet and k == 0 else rng.choice([Rag.GREEN, Rag.GREEN, Rag.AMBER])
            rows.append(
                (
                    ini.pk,
                    batch.org.organization.pk,
                    ini.owner_id,
                    day,
                    rag,
                    max(0, ini.percent_complete - 10 * k),
                    "",
                    at(day, 17),
                )
            )
    return insert_leaves(ProgressUpdate, fields, rows)
