"""The reasons of metric_negotiated_away (SPEC §3), each a function of one metric's `History`.

Each returns a reason entry (`negotiated_history.reason`) or None. Values are those in
force on as_of (direction, baseline, kind included: they are guarded fields with
revisions too), compared with those in force at the start of the 365-day window.
"""

from decimal import Decimal

from metrics.choices import KIND_RANK, Kind, Level, MetricStatus
from metrics.selectors import deadline_later, parse_date, parse_decimal, parse_int, target_easier
from programs.dates import local_date

from ..choices import Severity
from .common import iso
from .negotiated_history import History, improvement, number, reason

LOOSENED_HIGH, LOOSENED_MEDIUM = Decimal("0.5"), Decimal("0.2")
EXTENDED_MEDIUM_DAYS, EXTENDED_HIGH_DAYS = 90, 180
BASELINE_HIGH, BASELINE_MEDIUM = Decimal("0.5"), Decimal("0.2")
# Definition fields whose change in the window means history no longer compares.
REDEFINING_FIELDS = ("direction", "unit", "kind")

LABELS = {
    "target_loosened": "target loosened",
    "deadline_extended": "deadline extended",
    "retired_without_replacement": "retired without replacement",
    "incentive_weight_cut": "incentive weight cut",
    "exemption_granted": "exemption granted",
    "target_not_ambitious": "target asks for no improvement",
    "baseline_moved": "baseline moved",
    "redefined": "redefined",
    "replaced_by_easier": "replaced by an easier metric",
}


def _size_severity(size: Decimal | None, high: Decimal, medium: Decimal) -> str:
    if size is None or size >= high:
        return Severity.HIGH
    return Severity.MEDIUM if size >= medium else Severity.LOW


def target_loosened(h: History) -> dict | None:
    revs = h.in_window.get("target")
    if not revs:
        return None
    direction, baseline = h.value("direction"), h.value("baseline")
    old, current = parse_decimal(h.reference("target")), parse_decimal(h.on_as_of("target"))
    if not target_easier(direction, old, current):
        return None
    loosening = [
        r for r in revs if target_easier(direction, parse_decimal(r["old_value"]), parse_decimal(r["new_value"]))
    ]
    denominator = abs(old - baseline) if baseline is not None else abs(old)
    size = None if current is None or denominator == 0 else abs(current - old) / denominator
    severity = Severity.HIGH if len(loosening) >= 2 else _size_severity(size, LOOSENED_HIGH, LOOSENED_MEDIUM)
    return reason(
        "target_loosened",
        severity,
        loosening,
        target_at_start=number(old),
        target_now=number(current),
        baseline=number(baseline),
        direction=direction,
        size_pct=None if size is None else float(round(size * 100, 1)),
        loosening_revisions=len(loosening),
    )


def deadline_extended(h: History) -> dict | None:
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
    return reason(
        "deadline_extended",
        severity,
        [r for r in revs if deadline_later(parse_date(r["old_value"]), parse_date(r["new_value"]))],
        target_on_at_start=iso(old),
        target_on_now=iso(current),
        extended_by_days=days,
    )


def _retirements(h: History) -> list[dict]:
    """Retirements in the window of a metric retired on as_of."""
    if h.on_as_of("status") != MetricStatus.RETIRED:
        return []
    return [r for r in h.in_window.get("status", []) if r["new_value"] == MetricStatus.RETIRED]


def retired_without_replacement(h: History) -> dict | None:
    retirements = _retirements(h)
    if not retirements:
        return None
    m = h.metric
    if m["replaced_by_id"] is not None and m["replaced_by__status"] == MetricStatus.ACTIVE:
        return None
    kind = h.value("kind")
    severity = Severity.HIGH if kind in (Kind.OUTCOME, Kind.PERCEPTION) else Severity.MEDIUM
    return reason(
        "retired_without_replacement",
        severity,
        retirements[-1:],
        retired_on=iso(local_date(retirements[-1]["changed_at"])),
        replaced_by_id=m["replaced_by_id"],
        kind=kind,
    )


def incentive_weight_cut(h: History) -> dict | None:
    revs = h.in_window.get("incentive_weight")
    if not revs:
        return None
    old, current = parse_int(h.at_start("incentive_weight")), parse_int(h.on_as_of("incentive_weight"))
    if old is None or current is None or current >= old:
        return None
    lowering = [r for r in revs if (parse_int(r["new_value"]) or 0) < (parse_int(r["old_value"]) or 0)]
    return reason(
        "incentive_weight_cut",
        Severity.HIGH if current == 0 else Severity.MEDIUM,
        lowering,
        weight_at_start=old,
        weight_now=current,
    )


def exemption_granted(h: History, exemptions: list[dict]) -> dict | None:
    if not exemptions or h.on_as_of("status") != MetricStatus.ACTIVE:
        return None
    severity = Severity.HIGH if h.value("kind") == Kind.PERCEPTION else Severity.MEDIUM
    return reason(
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


def target_not_ambitious(h: History) -> dict | None:
    if h.on_as_of("status") != MetricStatus.ACTIVE:
        return None
    direction, baseline, target = h.value("direction"), h.value("baseline"), h.value("target")
    if baseline is None or target is None or improvement(direction, baseline, target) > 0:
        return None
    # The revision that set this target, when it was made in the window, may carry a forum's approval.
    setting = h.in_window.get("target", [])[-1:]
    return reason(
        "target_not_ambitious",
        Severity.HIGH,
        setting,
        target=number(target),
        baseline=number(baseline),
        direction=direction,
    )


def baseline_moved(h: History) -> dict | None:
    """The baseline moved in the window so that the target in force asks for less improvement.

    Size = (asked with the baseline at the start − asked with the baseline now) / asked at
    the start, the target held at its value on as_of (a changed target is target_loosened's
    business). Nothing asked at the start: nothing to lose (target_not_ambitious says so).
    A baseline removed counts as high (the target then asks for nothing measurable).
    """
    revs = h.in_window.get("baseline")
    if not revs:
        return None
    direction, target = h.value("direction"), h.value("target")
    then, now = parse_decimal(h.reference("baseline")), h.value("baseline")
    if target is None or then is None:
        return None
    asked_then = improvement(direction, then, target)
    if asked_then <= 0:
        return None
    asked_now = None if now is None else improvement(direction, now, target)
    size = None if asked_now is None else (asked_then - asked_now) / asked_then
    if size is not None and size <= 0:
        return None
    easier = [
        r
        for r in revs
        if (new := parse_decimal(r["new_value"])) is None
        or (old := parse_decimal(r["old_value"])) is None
        or improvement(direction, new, target) < improvement(direction, old, target)
    ]
    return reason(
        "baseline_moved",
        _size_severity(size, BASELINE_HIGH, BASELINE_MEDIUM),
        easier,
        baseline_at_start=number(then),
        baseline_now=number(now),
        target=number(target),
        direction=direction,
        improvement_asked_then=number(asked_then),
        improvement_asked_now=number(asked_now),
        size_pct=None if size is None else float(round(size * 100, 1)),
    )


def redefined(h: History) -> dict | None:
    """direction, unit or kind changed in the window (net: changed and changed back is not), or
    level moved down from strategic: the history no longer compares. A unit given where there
    was none, or differing only in case, is not a redefinition."""
    changes, revisions = [], []
    for field in (*REDEFINING_FIELDS, "level"):
        revs = h.in_window.get(field)
        if not revs:
            continue
        start, now = h.at_start(field), h.on_as_of(field)
        if field == "unit":
            start, now = (start or "").strip(), (now or "").strip()
            changed = bool(start) and start.casefold() != now.casefold()
        elif field == "level":
            changed = start == Level.STRATEGIC and now != Level.STRATEGIC
        else:
            changed = start not in (None, "") and start != now
        if changed:
            changes.append({"field": field, "from": start, "to": now})
            revisions.extend(revs)
    if not changes:
        return None
    revisions.sort(key=lambda r: (r["changed_at"], r["id"]))
    return reason("redefined", Severity.HIGH, revisions, changes=changes)


def _relative_asked(direction: str, baseline: Decimal | None, target: Decimal | None) -> Decimal | None:
    """Improvement asked relative to the baseline (|baseline|); None when it cannot be said."""
    if baseline is None or target is None or baseline == 0:
        return None
    return improvement(direction, baseline, target) / abs(baseline)


def replaced_by_easier(h: History) -> dict | None:
    """Retired in the window for an active replacement that asks for less: a weaker kind
    (outcome → perception → operational) is high; a smaller relative improvement asked
    (improvement in the better direction / |baseline|) is medium. The replacement is read
    as it is now."""
    retirements = _retirements(h)
    m = h.metric
    if not retirements or m["replaced_by_id"] is None or m["replaced_by__status"] != MetricStatus.ACTIVE:
        return None
    kind, new_kind = h.value("kind"), m["replaced_by__kind"]
    asked = _relative_asked(h.value("direction"), h.value("baseline"), h.value("target"))
    new_asked = _relative_asked(m["replaced_by__direction"], m["replaced_by__baseline"], m["replaced_by__target"])
    weaker = KIND_RANK.get(new_kind, 0) < KIND_RANK.get(kind, 0)
    # A replacement with no target asks for nothing; one without a usable baseline cannot be compared.
    less = asked is not None and ((m["replaced_by__target"] is None) or (new_asked is not None and new_asked < asked))
    if not weaker and not less:
        return None
    return reason(
        "replaced_by_easier",
        Severity.HIGH if weaker else Severity.MEDIUM,
        retirements[-1:],
        retired_on=iso(local_date(retirements[-1]["changed_at"])),
        replaced_by_id=m["replaced_by_id"],
        replaced_by=m["replaced_by__name"],
        kind=kind,
        replacement_kind=new_kind,
        weaker_kind=weaker,
        improvement_asked_pct=None if asked is None else float(round(asked * 100, 1)),
        replacement_improvement_asked_pct=None if new_asked is None else float(round(new_asked * 100, 1)),
    )


def metric_reasons(h: History, exemptions: list[dict]) -> list[dict]:
    """Every reason that holds for one metric, in the spec's order."""
    found = (
        target_loosened(h),
        deadline_extended(h),
        retired_without_replacement(h),
        incentive_weight_cut(h),
        exemption_granted(h, exemptions),
        target_not_ambitious(h),
        baseline_moved(h),
        redefined(h),
        replaced_by_easier(h),
    )
    return [r for r in found if r is not None]
