"""Benchmark metrics: a three-level cascade per program, two years of values, and some bargaining."""

import datetime as dt
from decimal import Decimal

from metrics.choices import Cadence, Direction, Kind, Level, MetricStatus
from metrics.models import Exemption, Measurement, Metric, MetricRevision

from .scale_base import BATCH, Batch, insert_leaves
from .timeline import add_months, at, month_end

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
# Per program: 10 strategic, 30 tactical under them, 60 operational under those.
PLAN = [(Level.STRATEGIC, 10), (Level.TACTICAL, 30), (Level.OPERATIONAL, 60)]


def _kind(level: str, outcomes: bool, kumbaya: bool) -> str:
    """Strategic metrics are business outcomes, with satisfaction scores (perception) beneath
    them and operations at the bottom. A troubled program may put a satisfaction score at the
    top, tied to no outcome (kumbaya_metric, with the perception metrics it draws below it);
    a program without outcomes has only such scores (no_business_outcome)."""
    if level == Level.STRATEGIC:
        return Kind.OUTCOME if outcomes and not kumbaya else Kind.PERCEPTION
    return Kind.PERCEPTION if level == Level.TACTICAL else Kind.OPERATIONAL


def write_metrics(batch: Batch) -> list[Metric]:
    rng, today, org = batch.rng, batch.today, batch.org
    # A few troubled programs track only satisfaction scores, no business outcome (no_business_outcome).
    outcomes = {p.pk: not batch.chance(p.pk, 0.0, 0.1) for p in batch.programs}
    out: list[Metric] = []
    parents: dict[int, list[Metric]] = {p.pk: [] for p in batch.programs}
    for level, per_program in PLAN:
        rows = []
        for p in batch.programs:
            above = parents[p.pk]
            for i in range(per_program):
                direction = Direction.DECREASE if rng.random() < 0.3 else Direction.INCREASE
                baseline = Decimal(rng.randint(20, 80))
                # A target that asks for nothing happens, mostly where trouble is (target_not_ambitious).
                gain = Decimal(rng.randint(-2, 0) if batch.chance(p.pk, 0.002, 0.02) else rng.randint(3, 20))
                target = baseline + gain if direction == Direction.INCREASE else baseline - gain
                unowned = batch.chance(p.pk, 0.002, 0.04)
                owner = (None if rng.random() < 0.5 else rng.choice(org.inactive)) if unowned else org.person()
                rows.append(
                    Metric(
                        program=p,
                        parent=rng.choice(above) if above else None,
                        level=level,
                        kind=_kind(level, outcomes[p.pk], batch.chance(p.pk, 0.0, 0.15)),
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
        parents = {p.pk: [] for p in batch.programs}
        for m in created:
            parents[m.program_id].append(m)
    return out


def write_measurements(batch: Batch, metrics: list[Metric]) -> int:
    """25 monthly values per metric (quarterly ones: 9), drifting towards the target; some stop reporting."""
    rng = batch.rng
    fields = ["metric_id", "period_end", "value", "source", "recorded_at", "organization_id"]
    organization_id = batch.org.organization.pk
    last_end = month_end(add_months(batch.today, -1))
    rows = []
    for m in metrics:
        stop = add_months(last_end, -rng.randint(3, 8)) if batch.chance(m.program_id, 0.005, 0.06) else last_end
        step, count = (3, 9) if m.reporting_cadence == Cadence.QUARTERLY else (1, 25)
        drift = float(m.target - m.baseline) / count * rng.uniform(0.2, 1.3)
        for k in range(count):
            end = month_end(add_months(stop, -step * (count - 1 - k)))
            value = float(m.baseline) + drift * k + rng.uniform(-2, 2)
            rows.append((m.pk, end, Decimal(f"{value:.2f}"), "bench", at(end + dt.timedelta(days=2)), organization_id))
    return insert_leaves(Measurement, fields, rows)


def write_negotiations(batch: Batch, metrics: list[Metric]) -> None:
    """Targets loosened, deadlines pushed, exemptions granted, metrics retired: mostly in troubled programs."""
    rng, today, org = batch.rng, batch.today, batch.org
    revisions, exemptions, changed = [], [], []
    for m in metrics:
        trouble = batch.trouble[m.program_id]
        roll = rng.random() / max(trouble, 0.05)  # the more trouble, the likelier a bargain
        when = at(today - dt.timedelta(days=rng.randint(10, 400)), 11)
        if roll < 0.03:
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
        elif roll < 0.045:
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
        elif roll < 0.055:
            exemptions.append(
                Exemption(
                    metric=m,
                    person=org.person(),
                    reason="Star performer",
                    starts_on=today - dt.timedelta(days=rng.randint(10, 200)),
                )
            )
            continue
        elif roll < 0.06 and m.level == Level.OPERATIONAL:
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
        else:
            continue
        changed.append(m)
    Metric.objects.bulk_update(changed, ["target", "target_on", "status"], batch_size=BATCH)
    MetricRevision.objects.bulk_create(revisions, batch_size=BATCH)
    Exemption.objects.bulk_create(exemptions, batch_size=BATCH)
