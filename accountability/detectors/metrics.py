"""Metric detectors: ownership, the cascade down to operations, and fresh data."""

import datetime as dt
from collections import defaultdict
from collections.abc import Collection

from django.db.models import OuterRef, Q, Subquery
from django.db.models.functions import TruncDate

from metrics.choices import CADENCE_DAYS, Kind, Level, MetricStatus
from metrics.models import Measurement, Metric
from programs.models import Organization

from ..choices import FlagKind, Severity, SubjectType
from ..findings import Finding
from .common import days_between, id_list, iso, metric_owner, scope_q

STALE_LOW_PERIODS = 2
STALE_MEDIUM_PERIODS = 4


def detect_metric_unowned(
    *, organization: Organization, as_of: dt.date, program_ids: Collection[int] | None = None
) -> list[Finding]:
    """Active metrics with no owner or an inactive owner: medium, high for strategic ones.

    Owned by the program's customer champion (the metric has nobody else). One query; read-only.
    """
    rows = (
        Metric.objects.filter(scope_q(organization, program_ids), status=MetricStatus.ACTIVE)
        .filter(Q(owner__isnull=True) | Q(owner__active=False))
        .order_by("program_id", "id")
        .values("id", "name", "level", "kind", "program_id", "program__customer_champion_id", "owner_id", "owner__name")
    )
    findings = []
    for row in rows:
        severity = Severity.HIGH if row["level"] == Level.STRATEGIC else Severity.MEDIUM
        if row["owner_id"] is None:
            problem = "has no owner"
        else:
            problem = f"is owned by {row['owner__name']}, who is no longer active"
        findings.append(
            Finding(
                kind=FlagKind.METRIC_UNOWNED,
                program_id=row["program_id"],
                subject_type=SubjectType.METRIC,
                subject_id=row["id"],
                severity=severity,
                owner_id=row["program__customer_champion_id"],
                title=f"{row['level'].capitalize()} metric '{row['name']}' {problem}",
                detail="Every metric needs a named, active person accountable for it.",
                evidence={
                    "metric_id": row["id"],
                    "metric": row["name"],
                    "level": row["level"],
                    "kind": row["kind"],
                    "owner_id": row["owner_id"],
                    "owner": row["owner__name"],
                    "owner_active": False if row["owner_id"] is not None else None,
                },
            )
        )
    return findings


def detect_metric_not_cascaded(
    *, organization: Organization, as_of: dt.date, program_ids: Collection[int] | None = None
) -> list[Finding]:
    """Active strategic metrics with no active operational descendant (any depth) → medium.

    The cascade is loaded as (id, parent_id, level, status) rows in one query and walked
    in Python, so the query count does not depend on its size or depth. A descendant
    counts whatever the status of the metrics between (the tree is structural).
    Owned by the metric's owner. Read-only.
    """
    rows = list(
        Metric.objects.filter(scope_q(organization, program_ids))
        .order_by("id")
        .values(
            "id",
            "parent_id",
            "level",
            "status",
            "name",
            "program_id",
            "owner_id",
            "owner__active",
            "program__customer_champion_id",
        )
    )
    children: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        if row["parent_id"] is not None:
            children[row["parent_id"]].append(row)

    def descendants(root_id: int) -> list[dict]:
        out, stack, seen = [], list(children.get(root_id, [])), {root_id}
        while stack:
            node = stack.pop()
            if node["id"] in seen:  # defensive: the model forbids cycles
                continue
            seen.add(node["id"])
            out.append(node)
            stack.extend(children.get(node["id"], []))
        return out

    findings = []
    for row in rows:
        if row["level"] != Level.STRATEGIC or row["status"] != MetricStatus.ACTIVE:
            continue
        below = [d for d in descendants(row["id"]) if d["status"] == MetricStatus.ACTIVE]
        if any(d["level"] == Level.OPERATIONAL for d in below):
            continue
        tactical = sorted(d["id"] for d in below if d["level"] == Level.TACTICAL)
        findings.append(
            Finding(
                kind=FlagKind.METRIC_NOT_CASCADED,
                program_id=row["program_id"],
                subject_type=SubjectType.METRIC,
                subject_id=row["id"],
                severity=Severity.MEDIUM,
                owner_id=metric_owner(row),
                title=f"Strategic metric '{row['name']}' is not cascaded down to an operational metric",
                detail=("No active operational metric sits under it, so nobody at the front line is measured on it."),
                evidence={
                    "metric_id": row["id"],
                    "metric": row["name"],
                    "active_tactical_descendant_ids": tactical,
                    "active_operational_descendants": 0,
                },
            )
        )
    return findings


def stale_due_on(anchor: dt.date, cadence: str, periods: int = STALE_LOW_PERIODS) -> dt.date:
    """The last day a metric measured last for `anchor` (its latest period_end, or its
    creation day) is not stale: its next measurement is due by then (`metric_stale` fires
    the day after, at low; with `periods=STALE_MEDIUM_PERIODS`, at medium)."""
    return anchor + dt.timedelta(days=periods * CADENCE_DAYS[cadence])


def stale_rows(organization: Organization, as_of: dt.date, program_ids: Collection[int] | None) -> list[dict]:
    """Active metrics in scope with their latest period_end on or before as_of and creation
    day (what `metric_stale` and its nudges count from). One query."""
    latest = (
        Measurement.objects.filter(metric_id=OuterRef("pk"), period_end__lte=as_of)
        .order_by("-period_end")
        .values("period_end")[:1]
    )
    rows = (
        Metric.objects.filter(scope_q(organization, program_ids), status=MetricStatus.ACTIVE)
        # Dates computed by the database: loading 20k date-times to convert them costs more than the query.
        .annotate(latest_period_end=Subquery(latest), created_on=TruncDate("created_at"))
        .order_by("program_id", "id")
        .values(
            "id",
            "name",
            "program_id",
            "owner_id",
            "owner__active",
            "program__customer_champion_id",
            "reporting_cadence",
            "created_on",
            "latest_period_end",
        )
    )
    rows = list(rows)
    for row in rows:
        row["anchor"] = row["latest_period_end"] or row["created_on"]
    return rows


def detect_metric_stale(
    *, organization: Organization, as_of: dt.date, program_ids: Collection[int] | None = None
) -> list[Finding]:
    """Active metrics whose latest measurement is more than 2 cadence periods old.

    Anchor = the latest period_end on or before as_of, or the metric's creation date
    while it has none. (as_of - anchor) > 2 × cadence days → low; > 4 × → medium
    (weekly 7, monthly 30, quarterly 91 days; `stale_due_on`). One query; read-only.
    """
    findings = []
    for row in stale_rows(organization, as_of, program_ids):
        cadence_days = CADENCE_DAYS[row["reporting_cadence"]]
        created_on = row["created_on"]
        anchor = row["anchor"]
        days = days_between(anchor, as_of)
        if as_of > stale_due_on(anchor, row["reporting_cadence"], STALE_MEDIUM_PERIODS):
            severity = Severity.MEDIUM
        elif as_of > stale_due_on(anchor, row["reporting_cadence"]):
            severity = Severity.LOW
        else:
            continue
        if row["latest_period_end"]:
            title = f"Metric '{row['name']}' has not been measured for {days} days"
        else:
            title = f"Metric '{row['name']}' has never been measured ({days} days since it was created)"
        findings.append(
            Finding(
                kind=FlagKind.METRIC_STALE,
                program_id=row["program_id"],
                subject_type=SubjectType.METRIC,
                subject_id=row["id"],
                severity=severity,
                owner_id=metric_owner(row),
                title=title,
                detail=f"It is reported {row['reporting_cadence']} ({cadence_days} days); the latest value is due.",
                evidence={
                    "metric_id": row["id"],
                    "metric": row["name"],
                    "reporting_cadence": row["reporting_cadence"],
                    "cadence_days": cadence_days,
                    "latest_period_end": iso(row["latest_period_end"]),
                    "created_on": iso(created_on),
                    "days_since": days,
                    "low_after_days": STALE_LOW_PERIODS * cadence_days,
                    "medium_after_days": STALE_MEDIUM_PERIODS * cadence_days,
                },
                identity={"metric_id": row["id"], "anchor": iso(anchor), "severity": severity},
            )
        )
    return findings


def detect_kumbaya_metric(
    *, organization: Organization, as_of: dt.date, program_ids: Collection[int] | None = None
) -> list[Finding]:
    """Active perception metrics with no active outcome metric among their ancestors → medium.

    A satisfaction score the cascade does not tie to revenue, cost or risk ("Kumbaya").
    The ancestors are walked to the root in memory through any status (the tree is
    structural), but only an active outcome ancestor ties the metric: a retired one is no
    longer anybody's target. Owned by the metric's owner. Two queries (the cascade as
    tuples, then the details of the metrics found); read-only.
    """
    program_ids = id_list(program_ids)
    # The cascade as bare tuples (id → parent, kind, status): at 20,000 metrics the rows are the cost.
    tree = {
        pk: (parent_id, kind, status)
        for pk, parent_id, kind, status in Metric.objects.filter(scope_q(organization, program_ids))
        .order_by()
        .values_list("id", "parent_id", "kind", "status")
    }

    def ancestors(pk: int) -> list[int]:
        out, seen, parent_id = [], {pk}, tree[pk][0]
        while parent_id is not None and parent_id in tree and parent_id not in seen:  # the model forbids cycles
            seen.add(parent_id)
            out.append(parent_id)
            parent_id = tree[parent_id][0]
        return out

    untied: dict[int, list[int]] = {}
    for pk, (_, kind, status) in tree.items():
        if kind != Kind.PERCEPTION or status != MetricStatus.ACTIVE:
            continue
        chain = ancestors(pk)
        if not any(tree[a][1] == Kind.OUTCOME and tree[a][2] == MetricStatus.ACTIVE for a in chain):
            untied[pk] = chain
    if not untied:
        return []
    # Names, owners and levels only of the metrics found and their ancestors (a second query).
    rows = {
        row["id"]: row
        for row in Metric.objects.filter(id__in={*untied, *(a for chain in untied.values() for a in chain)}).values(
            "id",
            "kind",
            "level",
            "status",
            "name",
            "program_id",
            "owner_id",
            "owner__active",
            "program__customer_champion_id",
        )
    }
    findings = []
    for pk in sorted(untied, key=lambda pk: (rows[pk]["program_id"], pk)):
        row, chain = rows[pk], [rows[a] for a in untied[pk]]
        above = f"under {chain[0]['name']}" if chain else "at the top of the cascade"
        findings.append(
            Finding(
                kind=FlagKind.KUMBAYA_METRIC,
                program_id=row["program_id"],
                subject_type=SubjectType.METRIC,
                subject_id=row["id"],
                severity=Severity.MEDIUM,
                owner_id=metric_owner(row),
                title=f"Perception metric '{row['name']}' is tied to no business outcome",
                detail=(
                    f"It sits {above} with no active outcome metric (revenue, retention, cost, risk) above it: "
                    "a satisfaction score with no link to results."
                ),
                evidence={
                    "metric_id": row["id"],
                    "metric": row["name"],
                    "kind": row["kind"],
                    "level": row["level"],
                    "ancestors": [
                        {"id": a["id"], "name": a["name"], "kind": a["kind"], "status": a["status"]} for a in chain
                    ],
                },
                identity={"metric_id": row["id"], "ancestors": [(a["id"], a["kind"], a["status"]) for a in chain]},
            )
        )
    return findings
