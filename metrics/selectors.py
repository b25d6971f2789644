"""Metrics as they stood on a date: values, targets in force, health and the cascade.

The one copy of "a metric on D" (SPEC §2, Time and evidence): its latest measurement with
`period_end` on or before D, its guarded fields (target, target date, baseline, baseline
date, owner, status, incentive weight, and the definition fields direction, unit, level,
kind) as in force at the end of D, and its health computed from those with
`metrics.health`. The dashboard, the API's metric tree, the detectors and the risk
assessment read metrics through here.

The revisions are the evidence: the value of a field in force on D is the old value of
the first revision of that field made after D, or, when none was made since, the
metric's current value. A metric is not hidden because its row was created after D
(`created_at` is when it was entered, not when it began): it shows the values it had
when first recorded.

Every function is read-only and safe to call any number of times, with a fixed number of
queries whatever the number of metrics, measurements or revisions.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db.models import Count

from programs.dates import end_of
from programs.models import Person

from .choices import LEVEL_RANK, Direction, Health, MetricStatus
from .health import health
from .models import Measurement, Metric, MetricRevision

# Revised fields read back as of a date, with the attribute each one sets.
AS_OF_FIELDS = {
    "target": "target",
    "target_on": "target_on",
    "baseline": "baseline",
    "baseline_on": "baseline_on",
    "owner": "owner_id",
    "status": "status",
    "incentive_weight": "incentive_weight",
    "direction": "direction",
    "unit": "unit",
    "level": "level",
    "kind": "kind",
}
_DECIMALS = {"target", "baseline"}
_DATES = {"target_on", "baseline_on"}
_INTEGERS = {"owner", "incentive_weight"}
# Fields that never hold an empty value: an unreadable revision keeps the current value.
_REQUIRED = {"status", "incentive_weight", "direction", "level", "kind"}
HEALTHS = [Health.OFF_TRACK, Health.AT_RISK, Health.ON_TRACK, Health.NO_DATA]


def parse_decimal(text: str | None) -> Decimal | None:
    try:
        return None if text in (None, "") else Decimal(text)
    except (InvalidOperation, ValueError):
        return None


def parse_date(text: str | None) -> dt.date | None:
    try:
        return None if not text else dt.date.fromisoformat(text)
    except ValueError:
        return None


def parse_int(text: str | None) -> int | None:
    try:
        return None if text in (None, "") else int(Decimal(text))
    except (InvalidOperation, ValueError):
        return None


def revision_value(field_name: str, text: str | None):
    """A revision's old or new value (as `metrics.services._as_text` wrote it) as the field's type."""
    if field_name in _DECIMALS:
        return parse_decimal(text)
    if field_name in _DATES:
        return parse_date(text)
    if field_name in _INTEGERS:
        return parse_int(text)
    return text


def in_force(current, changes_after: Sequence):
    """The value a field had before `changes_after` (its revisions made after the day in
    question, oldest first, each with an `old_value` key): the first one's old value; with
    none, `current`. The one rule for "value in force on D"."""
    return changes_after[0]["old_value"] if changes_after else current


def target_easier(direction: str, old: Decimal | None, new: Decimal | None) -> bool:
    """A target made easier by direction (or removed): what "loosened" means for a target."""
    if old is None:
        return False  # setting a target where there was none asks for more, not less
    if new is None:
        return True  # removing the target altogether
    return new < old if direction == Direction.INCREASE else new > old


def deadline_later(old: dt.date | None, new: dt.date | None) -> bool:
    """A target date pushed later (or removed): what "loosened" means for a deadline."""
    return old is not None and (new is None or new > old)


def revision_loosened(field_name: str, old: str | None, new: str | None, direction: str) -> bool:
    """A stored target or target-date revision (text values) that asks for less."""
    if field_name == "target":
        return target_easier(direction, parse_decimal(old), parse_decimal(new))
    return deadline_later(parse_date(old), parse_date(new))


@dataclass(slots=True)
class MetricOnDate:
    """One metric as it stood at the end of `as_of`."""

    id: int
    program_id: int
    parent_id: int | None
    name: str
    level: str
    kind: str
    unit: str
    direction: str
    status: str
    owner_id: int | None
    incentive_weight: int
    baseline: Decimal | None
    baseline_on: dt.date | None
    target: Decimal | None
    target_on: dt.date | None
    latest_value: Decimal | None
    latest_period_end: dt.date | None
    health: str = Health.NO_DATA
    # The fields whose value changed after as_of (their value today differs from this one).
    changed_since: tuple[str, ...] = ()
    # Filled with `detail=True`.
    description: str = ""
    owner_name: str | None = None
    owner_active: bool | None = None
    business_unit_name: str | None = None
    replaced_by_id: int | None = None
    replaced_by_name: str | None = None

    @property
    def is_active(self) -> bool:
        return self.status == MetricStatus.ACTIVE

    @property
    def health_label(self) -> str:
        return Health(self.health).label

    @property
    def changed_since_text(self) -> str:
        return ", ".join(f.replace("_", " ") for f in self.changed_since)


_COLUMNS = (
    "id",
    "program_id",
    "parent_id",
    "name",
    "level",
    "kind",
    "unit",
    "direction",
    "status",
    "owner_id",
    "incentive_weight",
    "baseline",
    "baseline_on",
    "target",
    "target_on",
    "latest_value",
    "latest_period_end",
)
_DETAIL_COLUMNS = (
    "description",
    "owner__name",
    "owner__active",
    "business_unit__name",
    "replaced_by_id",
    "replaced_by__name",
)


def _changes_after(program_ids: list[int], as_of: dt.date) -> dict[int, dict[str, list[dict]]]:
    """Revisions of the as-of fields made after the end of `as_of`, per metric and field, oldest first."""
    out: dict[int, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    rows = (
        MetricRevision.objects.filter(
            metric__program_id__in=program_ids, field__in=list(AS_OF_FIELDS), changed_at__gte=end_of(as_of)
        )
        .order_by("metric_id", "changed_at", "id")
        .values_list("metric_id", "field", "old_value")
    )
    for metric_id, field_name, old_value in rows:
        out[metric_id][field_name].append({"old_value": old_value})
    return out


def _roll_back(values: dict, changes: dict[str, list[dict]]) -> tuple[str, ...]:
    """Set each revised field of `values` (attribute → value) to its value in force on the
    day (see `in_force`); returns the fields that differ from today's."""
    changed = []
    for field_name, revisions in changes.items():
        attribute = AS_OF_FIELDS[field_name]
        if attribute not in values:
            continue  # a reader that does not need the field did not load it
        value = revision_value(field_name, in_force(None, revisions))
        if value is None and field_name in _REQUIRED:
            continue
        if value is None and field_name == "unit":
            value = ""
        if values[attribute] != value:
            values[attribute] = value
            changed.append(field_name)
    return tuple(changed)


def _health(values) -> str:
    return health(
        direction=values["direction"],
        baseline=values["baseline"],
        baseline_on=values["baseline_on"],
        target=values["target"],
        target_on=values["target_on"],
        latest_value=values["latest_value"],
        latest_period_end=values["latest_period_end"],
    )


def metrics_on(*, program_ids: Collection[int], as_of: dt.date, detail: bool = False) -> list[MetricOnDate]:
    """Every metric of `program_ids` as it stood at the end of `as_of`, with its health.

    Guarded fields as in force on `as_of` (from the revisions), the latest measurement with
    `period_end` ≤ `as_of`, health from those. `detail=True` adds the description and the
    names of the owner (the owner on `as_of`), business unit and replacement. Retired
    metrics are included (see `status`). Two queries; a third with `detail=True` only when
    an owner changed after `as_of` (for that person's name). Read-only.
    """
    program_ids = list(program_ids)
    if not program_ids:
        return []
    changes = _changes_after(program_ids, as_of)
    rows = (
        Metric.objects.filter(program_id__in=program_ids)
        .with_latest(as_of=as_of)
        .order_by("program_id", "id")
        .values(*_COLUMNS, *(_DETAIL_COLUMNS if detail else ()))
    )
    metrics = []
    for row in rows:
        changed = _roll_back(row, changes[row["id"]]) if row["id"] in changes else ()
        metric = MetricOnDate(*(row[c] for c in _COLUMNS), health=_health(row), changed_since=changed)
        if detail:
            metric.description = row["description"]
            metric.owner_name, metric.owner_active = row["owner__name"], row["owner__active"]
            metric.business_unit_name = row["business_unit__name"]
            metric.replaced_by_id, metric.replaced_by_name = row["replaced_by_id"], row["replaced_by__name"]
        metrics.append(metric)
    if detail:
        _name_owners(m for m in metrics if "owner" in m.changed_since)
    return metrics


def _name_owners(metrics: Iterable[MetricOnDate]) -> None:
    """Names of the owners in force on the day where they differ from today's (one query, if any)."""
    metrics = [m for m in metrics]
    if not metrics:
        return
    people = {
        pk: (name, active)
        for pk, name, active in Person.objects.filter(pk__in={m.owner_id for m in metrics}).values_list(
            "id", "name", "active"
        )
    }
    for m in metrics:
        m.owner_name, m.owner_active = people.get(m.owner_id, (None, None))


def metric_health_counts(*, program_ids: Collection[int], as_of: dt.date) -> dict[int, dict[str, int]]:
    """Metrics active on `as_of` by their health on `as_of`, per program (every health key
    present, programs without metrics absent).

    The database counts the metrics nothing has revised since `as_of` (`with_health`, grouped
    by program and health: no row per metric reaches Python); the few revised since are read
    one by one and rolled back to that day like `metrics_on`. Two queries, a third when a
    metric was revised after `as_of`.
    """
    program_ids = list(program_ids)
    if not program_ids:
        return {}
    out: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(HEALTHS, 0))
    changes = _changes_after(program_ids, as_of)
    metrics = Metric.objects.filter(program_id__in=program_ids).order_by()
    counted = (
        metrics.filter(status=MetricStatus.ACTIVE)
        .exclude(id__in=list(changes))
        .with_health(as_of=as_of)
        .values_list("program_id", "latest_health")
        .annotate(n=Count("id"))
    )
    for program_id, state, n in counted:
        out[program_id][state] += n
    if changes:
        for values in metrics.filter(id__in=list(changes)).with_latest(as_of=as_of).values(*_COLUMNS):
            _roll_back(values, changes[values["id"]])
            if values["status"] == MetricStatus.ACTIVE:
                out[values["program_id"]][_health(values)] += 1
    return dict(out)


@dataclass
class MetricTreeNode:
    metric: MetricOnDate
    children: list["MetricTreeNode"] = field(default_factory=list)


def tree_order(metric: MetricOnDate) -> tuple:
    """Siblings: active first, then higher levels, then by name (case-insensitive), then id."""
    return (not metric.is_active, -LEVEL_RANK.get(metric.level, 0), metric.name.lower(), metric.id)


def build_tree(metrics: Iterable[MetricOnDate]) -> list[MetricTreeNode]:
    """The cascade of already-loaded metrics: roots with their children, in `tree_order`.
    A metric whose parent is not among them is a root."""
    nodes = {m.id: MetricTreeNode(m) for m in metrics}
    roots = []
    for node in nodes.values():
        parent = nodes.get(node.metric.parent_id)
        (parent.children if parent is not None else roots).append(node)
    for node in nodes.values():
        node.children.sort(key=lambda n: tree_order(n.metric))
    roots.sort(key=lambda n: tree_order(n.metric))
    return roots


def metric_tree(*, program_id: int, as_of: dt.date) -> list[MetricTreeNode]:
    """The program's metric cascade as it stood on `as_of`, each node with owner and health.

    Two or three queries (`metrics_on(detail=True)`). Read-only."""
    return build_tree(metrics_on(program_ids=[program_id], as_of=as_of, detail=True))


def measurements_until(*, metric_ids: Collection[int], as_of: dt.date) -> dict[int, list[tuple[dt.date, Decimal]]]:
    """(period_end, value) of each metric's measurements with period_end ≤ as_of, oldest first. One query."""
    points: dict[int, list[tuple[dt.date, Decimal]]] = defaultdict(list)
    # By metric ids rather than a join on the program: the (metric, period_end) index
    # answers it even when the planner's statistics lag behind a bulk load.
    for metric_id, period_end, value in (
        Measurement.objects.filter(metric_id__in=list(metric_ids), period_end__lte=as_of)
        .order_by("metric_id", "period_end")
        .values_list("metric_id", "period_end", "value")
    ):
        points[metric_id].append((period_end, value))
    return dict(points)


def revisions_until(*, program_ids: Collection[int], as_of: dt.date, fields: Collection[str]) -> dict[int, list[dict]]:
    """Revisions of `fields` made by the end of `as_of`, per metric, oldest first: field,
    old_value, new_value, reason, changed_at, approved_in_id. One query."""
    out: dict[int, list[dict]] = defaultdict(list)
    for row in (
        MetricRevision.objects.filter(
            metric__program_id__in=list(program_ids), field__in=list(fields), changed_at__lt=end_of(as_of)
        )
        .order_by("changed_at", "id")
        .values("metric_id", "field", "old_value", "new_value", "reason", "changed_at", "approved_in_id")
    ):
        out[row["metric_id"]].append(row)
    return dict(out)
