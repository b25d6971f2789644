"""Metric detectors: ownership, the cascade down to operations, and fresh data."""

import datetime as dt
from collections import defaultdict
from collections.abc import Collection

from cxgov.scan_inputs import shared_per_scan
from metrics.choices import Kind, Level, MetricStatus
from metrics.freshness import STALE_LOW_PERIODS, STALE_MEDIUM_PERIODS, metric_freshness
from metrics.models import Metric
from programs.models import Organization

from ..choices import FlagKind, Severity, SubjectType
from ..findings import Finding
from .common import id_list, iso, metric_owner, scope_q

# What the cascade detectors (unowned, not cascaded, Kumbaya) read of each metric.
_CASCADE_COLUMNS = (
    "id",
    "parent_id",
    "name",
    "level",
    "kind",
    "status",
    "program_id",
    "owner_id",
    "owner__name",
    "owner__active",
    "program__customer_champion_id",
)


@shared_per_scan
def _cascade(organization: Organization, program_ids: Collection[int] | None) -> list[dict]:
    """Every metric of the scanned programs (any status), in id order: one query, which the
    three cascade detectors of a scan share (each read the metrics table on its own)."""
    return list(
        Metric.objects.filter(scope_q(organization, id_list(program_ids))).order_by("id").values(*_CASCADE_COLUMNS)
    )


def detect_metric_unowned(
    *, organization: Organization, as_of: dt.date, program_ids: Collection[int] | None = None
) -> list[Finding]:
    """Active metrics with no owner or an inactive owner: medium, high for strategic ones.

    Owned by the program's customer champion (the metric has nobody else). One query (the
    cascade, shared in a scan); read-only.
    """
    rows = sorted(
        (
            row
            for row in _cascade(organization, program_ids)
            if row["status"] == MetricStatus.ACTIVE and (row["owner_id"] is None or row["owner__active"] is False)
        ),
        key=lambda row: (row["program_id"], row["id"]),
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

    The cascade is loaded in one query (shared in a scan) and walked in Python, so the
    query count does not depend on its size or depth. A descendant counts whatever the
    status of the metrics between (the tree is structural). Owned by the metric's owner.
    Read-only.
    """
    rows = _cascade(organization, program_ids)
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


def detect_metric_stale(
    *, organization: Organization, as_of: dt.date, program_ids: Collection[int] | None = None
) -> list[Finding]:
    """Active metrics whose latest measurement is more than 2 cadence periods old.

    Anchor = the latest period_end on or before as_of, or the metric's creation date
    while it has none. (as_of - anchor) > 2 × cadence days → low; > 4 × → medium
    (weekly 7, monthly 30, quarterly 91 days). One query; read-only.
    """
    rows = metric_freshness(
        as_of=as_of,
        where=scope_q(organization, program_ids),
        fields=("owner__active", "program__customer_champion_id"),
    )
    findings = []
    for row in rows:
        # The rule is metrics.freshness's (My items reads the same one).
        severity = row["stale"]
        if severity is None:
            continue
        cadence_days, created_on, anchor, days = (
            row["cadence_days"],
            row["created_on"],
            row["anchor"],
            row["days_since"],
        )
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
    longer anybody's target. Owned by the metric's owner. One query (the cascade, shared
    in a scan); read-only.
    """
    rows = {row["id"]: row for row in _cascade(organization, program_ids)}
    tree = {pk: (row["parent_id"], row["kind"], row["status"]) for pk, row in rows.items()}

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
