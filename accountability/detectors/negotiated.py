"""metric_negotiated_away: targets lowered, pushed out, waived, dropped from pay, retired,
measured against an easier baseline, redefined, or replaced by something easier.

Three queries for the whole organization (metrics, their guarded revisions since the
window opened with the facts of the sessions they name, exemptions active on as_of);
everything else is computed in Python (`negotiated_reasons`, `negotiated_history`).

The window is the 365 days up to as_of: a revision is in it when the date of its
changed_at is > as_of - 365 and <= as_of.

"Value in force on as_of" of a guarded field = `metrics.selectors.in_force`: the
old_value of the first revision made after as_of, else the metric's current value, so a
scan with a past as_of sees what was in force that day. "Value at the start of the window"
= the old_value of the first revision in the window, else the value in force on as_of.
Targets, deadlines and baselines are compared with that value, or with the first one set
in the window when it was empty.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Collection

from django.db.models import Exists, F, OuterRef, Q

from metrics.choices import Direction, MetricStatus
from metrics.models import Exemption, Metric, MetricRevision
from programs.dates import day_start, window_start
from programs.models import Organization
from programs.money import format_day

from ..choices import FlagKind, SubjectType
from ..findings import Finding
from ..models import Attendance
from .common import highest, iso, metric_owner, scope_q
from .negotiated_history import FIELDS, WINDOW_DAYS, History
from .negotiated_reasons import LABELS, metric_reasons

# What each revision row carries: its own facts, and those of the session it names
# (`negotiated_history.approval` decides from them whether the approval counts).
REVISION_COLUMNS = (
    "id",
    "metric_id",
    "field",
    "old_value",
    "new_value",
    "changed_at",
    "reason",
    "approved_in_id",
    "approved_in__scheduled_for",
    "approved_in__status",
    "approved_in__forum__program_id",
    "metric__program_id",
    "metric__program__executive_sponsor_id",
    "sponsor_present",
    "sponsor_delegated",
)
METRIC_COLUMNS = (
    "id",
    "name",
    "program_id",
    "owner_id",
    "owner__active",
    "program__customer_champion_id",
    "kind",
    "level",
    "unit",
    "direction",
    "baseline",
    "target",
    "target_on",
    "incentive_weight",
    "status",
    "replaced_by_id",
    "replaced_by__name",
    "replaced_by__status",
    "replaced_by__kind",
    "replaced_by__direction",
    "replaced_by__baseline",
    "replaced_by__target",
)


def _sponsor_attendance(**extra) -> Exists:
    """The program's sponsor has an attendance row of this kind at the session the revision names."""
    return Exists(
        Attendance.objects.filter(
            session_id=OuterRef("approved_in_id"), person_id=OuterRef("metric__program__executive_sponsor_id"), **extra
        )
    )


def _revisions(scope: Q, first_day: dt.date) -> dict[int, list[dict]]:
    """Guarded revisions made since the window opened, per metric, oldest first (one query)."""
    out: dict[int, list[dict]] = defaultdict(list)
    rows = (
        MetricRevision.objects.filter(scope, field__in=FIELDS, changed_at__gte=day_start(first_day))
        .annotate(
            sponsor_present=_sponsor_attendance(present=True),
            sponsor_delegated=_sponsor_attendance(present=False, delegate__isnull=False),
        )
        .order_by("metric_id", "changed_at", "id")
        .values(*REVISION_COLUMNS)
    )
    for rev in rows:
        out[rev["metric_id"]].append(rev)
    return out


def _identity(metric_id: int, reasons: list[dict]) -> dict:
    return {
        "metric_id": metric_id,
        "reasons": [
            {
                "reason": r["reason"],
                "severity": r["severity"],
                "revision_ids": [rev["id"] for rev in r["revisions"]],
                "exemption_ids": [e["id"] for e in r.get("exemptions", [])],
                "target": r.get("target"),
            }
            for r in reasons
        ],
    }


def detect_metric_negotiated_away(
    *, organization: Organization, as_of: dt.date, program_ids: Collection[int] | None = None
) -> list[Finding]:
    """Metrics whose targets were negotiated away in the last 365 days (SPEC §3 reasons).

    One finding per metric listing every reason under evidence["reasons"]; its severity
    is the highest reason's. Revision-based reasons apply to any metric; exemption and
    target_not_ambitious only to metrics active on as_of. A reason whose every revision
    was decided in a forum that counts (held, on or before the change, same program, the
    sponsor there in person) drops one step; the evidence says whether each approval
    counted and why not. Owned by the metric's owner. Three queries; read-only, safe to
    re-run.
    """
    first_day = window_start(as_of, WINDOW_DAYS)
    scope = scope_q(organization, program_ids, prefix="metric__program__")
    revisions = _revisions(scope, first_day)
    exemptions: dict[int, list[dict]] = defaultdict(list)
    for ex in (
        Exemption.objects.active_on(as_of)
        .filter(scope)
        .order_by("metric_id", "starts_on", "id")
        .values("id", "metric_id", "person_id", "person__name", "reason", "starts_on", "ends_on", "granted_by_id")
    ):
        exemptions[ex["metric_id"]].append(ex)
    # Only metrics that can have a reason: a guarded revision since the window opened, or
    # (active) an exemption on as_of or a flat target. Anything else needs no Python work.
    revised = Exists(
        MetricRevision.objects.filter(metric_id=OuterRef("pk"), field__in=FIELDS, changed_at__gte=day_start(first_day))
    )
    exempted = Exists(Exemption.objects.active_on(as_of).filter(metric_id=OuterRef("pk")))
    flat = Q(direction=Direction.INCREASE, target__lte=F("baseline")) | Q(
        direction=Direction.DECREASE, target__gte=F("baseline")
    )
    metrics = (
        Metric.objects.filter(scope_q(organization, program_ids))
        .filter(revised | (Q(status=MetricStatus.ACTIVE) & (exempted | flat)))
        .order_by("program_id", "id")
        .values(*METRIC_COLUMNS)
    )
    findings = []
    for metric in metrics:
        if metric["status"] != MetricStatus.ACTIVE and metric["id"] not in revisions:
            continue
        history = History(metric, revisions.get(metric["id"], []), as_of)
        reasons = metric_reasons(history, exemptions.get(metric["id"], []))
        if not reasons:
            continue
        severity = highest([r["severity"] for r in reasons])
        labels = ", ".join(LABELS[r["reason"]] for r in reasons)
        findings.append(
            Finding(
                kind=FlagKind.METRIC_NEGOTIATED_AWAY,
                program_id=metric["program_id"],
                subject_type=SubjectType.METRIC,
                subject_id=metric["id"],
                severity=severity,
                owner_id=metric_owner(metric),
                title=f"Metric '{metric['name']}' was negotiated away: {labels}",
                detail=f"Within the {WINDOW_DAYS} days up to {format_day(as_of)}.",
                evidence={
                    "metric_id": metric["id"],
                    "metric": metric["name"],
                    "kind": metric["kind"],
                    "level": metric["level"],
                    "window_from": iso(first_day),
                    "window_to": iso(as_of),
                    "reasons": reasons,
                },
                identity=_identity(metric["id"], reasons),
            )
        )
    return findings
