"""metric_negotiated_away: targets lowered, pushed out, waived, dropped from pay, retired.

Three queries for the whole organization (metrics, their guarded revisions since the
window opened, exemptions active on as_of); everything else is computed in Python.

The window is the 365 days up to as_of: a revision is in it when the date of its
changed_at is > as_of - 365 and <= as_of. Values are read from the revisions as
`metrics.services._as_text` wrote them (Decimals as plain strings, dates ISO,
incentive weights as integers, status codes).

"Value in force on as_of" of a guarded field = `metrics.selectors.in_force`: the
old_value of the first revision made after as_of, else the metric's current value, so a
scan with a past as_of sees what was in force that day. "Value at the start of the window" = the old_value of the first
revision in the window, else the value in force on as_of. Targets and deadlines are
compared with that value, or with the first one set in the window when it was empty.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from decimal import Decimal

from django.db.models import Exists, F, OuterRef, Q

from metrics.choices import Direction, Kind, MetricStatus
from metrics.models import Exemption, Metric, MetricRevision
from metrics.selectors import deadline_later, in_force, parse_date, parse_decimal, parse_int, target_easier
from metrics.services import _as_text
from programs.dates import day_start, local_date, window_start
from programs.models import Organization

from ..choices import FlagKind, Severity, SubjectType
from ..findings import Finding
from .common import highest, iso, metric_owner, scope_q, step_down

WINDOW_DAYS = 365
FIELDS = ("target", "target_on", "incentive_weight", "status")
LOOSENED_HIGH, LOOSENED_MEDIUM = Decimal("0.5"), Decimal("0.2")
EXTENDED_MEDIUM_DAYS, EXTENDED_HIGH_DAYS = 90, 180


def _number(value: Decimal | None) -> str | None:
    """A plain, normalised number for evidence ("66.1", not "66.1000" or "6.61E+1")."""
    return None if value is None else format(value.normalize(), "f")


def _revision_evidence(rev: dict) -> dict:
    return {
        "id": rev["id"],
        "field": rev["field"],
        "old": rev["old_value"],
        "new": rev["new_value"],
        "changed_at": rev["changed_at"].isoformat(),
        "reason": rev["reason"],
        "approved_in": rev["approved_in_id"],
        "approved_in_date": iso(local_date(rev["approved_in__scheduled_for"])),
    }


def _reason(code: str, severity: str, revisions: list[dict], **facts) -> dict:
    """A reason entry; lowered one step when every revision behind it was decided in a forum."""
    approved = bool(revisions) and all(r["approved_in_id"] for r in revisions)
    return {
        "reason": code,
        "severity": step_down(severity) if approved else severity,
        "base_severity": severity,
        "approved_in_forum": approved,
        "approved_in_sessions": sorted({r["approved_in_id"] for r in revisions if r["approved_in_id"]}),
        "revisions": [_revision_evidence(r) for r in revisions],
        **facts,
    }


class _History:
    """One metric's guarded-field history around as_of."""

    def __init__(self, metric: dict, revisions: list[dict], as_of: dt.date):
        self.metric = metric
        self.in_window: dict[str, list[dict]] = defaultdict(list)
        self.later: dict[str, list[dict]] = defaultdict(list)
        for rev in revisions:  # ordered by changed_at, id
            bucket = self.in_window if local_date(rev["changed_at"]) <= as_of else self.later
            bucket[rev["field"]].append(rev)

    def on_as_of(self, field: str) -> str | None:
        return in_force(_as_text(self.metric[field]), self.later.get(field, []))

    def target_on_as_of(self) -> Decimal | None:
        later = self.later.get("target", [])
        return parse_decimal(in_force(None, later)) if later else self.metric["target"]

    def at_start(self, field: str) -> str | None:
        revs = self.in_window.get(field)
        return revs[0]["old_value"] if revs else self.on_as_of(field)

    def reference(self, field: str) -> str | None:
        """The value to compare against: in force at the start of the window, or, when the
        field was empty then, the first value it was given in the window (set at 70 in March,
        cut to 60 in May is still a cut)."""
        start = self.at_start(field)
        if start not in (None, ""):
            return start
        return next((r["new_value"] for r in self.in_window.get(field, []) if r["new_value"] not in (None, "")), None)


def _target_loosened(h: _History) -> dict | None:
    revs = h.in_window.get("target")
    if not revs:
        return None
    direction, baseline = h.metric["direction"], h.metric["baseline"]
    old, current = parse_decimal(h.reference("target")), parse_decimal(h.on_as_of("target"))
    if not target_easier(direction, old, current):
        return None
    loosening = [
        r for r in revs if target_easier(direction, parse_decimal(r["old_value"]), parse_decimal(r["new_value"]))
    ]
    denominator = abs(old - baseline) if baseline is not None else abs(old)
    size = None if current is None or denominator == 0 else abs(current - old) / denominator
    if len(loosening) >= 2 or size is None or size >= LOOSENED_HIGH:
        severity = Severity.HIGH
    elif size >= LOOSENED_MEDIUM:
        severity = Severity.MEDIUM
    else:
        severity = Severity.LOW
    return _reason(
        "target_loosened",
        severity,
        loosening,
        target_at_start=_number(old),
        target_now=_number(current),
        baseline=_number(baseline),
        direction=direction,
        size_pct=None if size is None else float(round(size * 100, 1)),
        loosening_revisions=len(loosening),
    )


def _deadline_extended(h: _History) -> dict | None:
    revs = h.in_window.get("target_on")
    if not revs:
        return None
    old, current = parse_date(h.reference("target_on")), parse_date(h.on_as_of("target_on"))
    if old is None:
        return None
    days = None if current is None else (current - old).days
    if days is None or days >= EXTENDED_HIGH_DAYS:
        severity = Severity.HIGH
    elif days >= EXTENDED_MEDIUM_DAYS:
        severity = Severity.MEDIUM
    else:
        return None

    return _reason(
        "deadline_extended",
        severity,
        [r for r in revs if deadline_later(parse_date(r["old_value"]), parse_date(r["new_value"]))],
        target_on_at_start=iso(old),
        target_on_now=iso(current),
        extended_by_days=days,
    )


def _retired_without_replacement(h: _History) -> dict | None:
    retirements = [r for r in h.in_window.get("status", []) if r["new_value"] == MetricStatus.RETIRED]
    if not retirements or h.on_as_of("status") != MetricStatus.RETIRED:
        return None
    m = h.metric
    if m["replaced_by_id"] is not None and m["replaced_by__status"] == MetricStatus.ACTIVE:
        return None
    severity = Severity.HIGH if m["kind"] in (Kind.OUTCOME, Kind.PERCEPTION) else Severity.MEDIUM
    return _reason(
        "retired_without_replacement",
        severity,
        retirements[-1:],
        retired_on=iso(local_date(retirements[-1]["changed_at"])),
        replaced_by_id=m["replaced_by_id"],
        kind=m["kind"],
    )


def _incentive_weight_cut(h: _History) -> dict | None:
    revs = h.in_window.get("incentive_weight")
    if not revs:
        return None
    old, current = parse_int(h.at_start("incentive_weight")), parse_int(h.on_as_of("incentive_weight"))
    if old is None or current is None or current >= old:
        return None
    lowering = [r for r in revs if (parse_int(r["new_value"]) or 0) < (parse_int(r["old_value"]) or 0)]
    return _reason(
        "incentive_weight_cut",
        Severity.HIGH if current == 0 else Severity.MEDIUM,
        lowering,
        weight_at_start=old,
        weight_now=current,
    )


def _exemption_granted(h: _History, exemptions: list[dict]) -> dict | None:
    if not exemptions or h.on_as_of("status") != MetricStatus.ACTIVE:
        return None
    severity = Severity.HIGH if h.metric["kind"] == Kind.PERCEPTION else Severity.MEDIUM
    return _reason(
        "exemption_granted",
        severity,
        [],
        exemptions=[
            {
                "id": e["id"],
                "person_id": e["person_id"],
                "person": e["person__name"],
                "reason": e["reason"],
                "starts_on": iso(e["starts_on"]),
                "ends_on": iso(e["ends_on"]),
                "granted_by_id": e["granted_by_id"],
            }
            for e in exemptions
        ],
    )


def _target_not_ambitious(h: _History) -> dict | None:
    if h.on_as_of("status") != MetricStatus.ACTIVE:
        return None
    baseline, target = h.metric["baseline"], h.target_on_as_of()
    if baseline is None or target is None:
        return None
    flat = target <= baseline if h.metric["direction"] == Direction.INCREASE else target >= baseline
    if not flat:
        return None
    # The revision that set this target, when it was made in the window, may carry a forum's approval.
    setting = h.in_window.get("target", [])[-1:]
    return _reason(
        "target_not_ambitious",
        Severity.HIGH,
        setting,
        target=_number(target),
        baseline=_number(baseline),
        direction=h.metric["direction"],
    )


_LABELS = {
    "target_loosened": "target loosened",
    "deadline_extended": "deadline extended",
    "retired_without_replacement": "retired without replacement",
    "incentive_weight_cut": "incentive weight cut",
    "exemption_granted": "exemption granted",
    "target_not_ambitious": "target asks for no improvement",
}


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
    target_not_ambitious only to metrics active on as_of. Owned by the metric's owner.
    Three queries; read-only, safe to re-run.
    """
    first_day = window_start(as_of, WINDOW_DAYS)
    scope = scope_q(organization, program_ids, prefix="metric__program__")
    revisions: dict[int, list[dict]] = defaultdict(list)
    for rev in (
        MetricRevision.objects.filter(scope, field__in=FIELDS, changed_at__gte=day_start(first_day))
        .order_by("metric_id", "changed_at", "id")
        .values(
            "id",
            "metric_id",
            "field",
            "old_value",
            "new_value",
            "changed_at",
            "reason",
            "approved_in_id",
            "approved_in__scheduled_for",
        )
    ):
        revisions[rev["metric_id"]].append(rev)
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
        .values(
            "id",
            "name",
            "program_id",
            "owner_id",
            "owner__active",
            "program__customer_champion_id",
            "kind",
            "level",
            "direction",
            "baseline",
            *FIELDS,
            "replaced_by_id",
            "replaced_by__status",
        )
    )
    findings = []
    for metric in metrics:
        if metric["status"] != MetricStatus.ACTIVE and metric["id"] not in revisions:
            continue
        history = _History(metric, revisions.get(metric["id"], []), as_of)
        reasons = [
            r
            for r in (
                _target_loosened(history),
                _deadline_extended(history),
                _retired_without_replacement(history),
                _incentive_weight_cut(history),
                _exemption_granted(history, exemptions.get(metric["id"], [])),
                _target_not_ambitious(history),
            )
            if r is not None
        ]
        if not reasons:
            continue
        severity = highest([r["severity"] for r in reasons])
        labels = ", ".join(_LABELS[r["reason"]] for r in reasons)
        findings.append(
            Finding(
                kind=FlagKind.METRIC_NEGOTIATED_AWAY,
                program_id=metric["program_id"],
                subject_type=SubjectType.METRIC,
                subject_id=metric["id"],
                severity=severity,
                owner_id=metric_owner(metric),
                title=f"Metric '{metric['name']}' was negotiated away: {labels}",
                detail=f"Within the {WINDOW_DAYS} days up to {iso(as_of)}.",
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
