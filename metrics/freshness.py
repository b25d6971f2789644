"""When a metric's next value is due, and when its silence is stale: one rule, one place.

Both read the metric's anchor: its latest measurement with `period_end` on or before
`as_of`, or the day it was created while it has none. A value is **due** once a whole
reporting period has passed since the anchor (more than `cadence_days`: weekly 7,
monthly 30, quarterly 91); it is **stale** (the `metric_stale` flag, SPEC §3) after more
than 2 periods (low) and more than 4 (medium). The detector, My items and the API's
`me/` all call `metric_freshness`; the nudge before the flag asks `stale_due_on`.
"""

import datetime as dt

from django.db.models import OuterRef, Q, Subquery
from django.db.models.functions import TruncDate

from cxgov.scan_inputs import shared_per_scan

from .choices import CADENCE_DAYS, MetricStatus
from .models import Measurement, Metric

STALE_LOW_PERIODS = 2
STALE_MEDIUM_PERIODS = 4


def staleness(days: int, cadence_days: int) -> str | None:
    """ "medium" after more than 4 periods, "low" after more than 2, else None."""
    if days > STALE_MEDIUM_PERIODS * cadence_days:
        return "medium"
    if days > STALE_LOW_PERIODS * cadence_days:
        return "low"
    return None


def stale_due_on(anchor: dt.date, cadence: str, periods: int = STALE_LOW_PERIODS) -> dt.date:
    """The last day a metric anchored on `anchor` is not stale: its next value is due by then
    (`metric_stale` fires the day after, at low; with `periods=STALE_MEDIUM_PERIODS`, at
    medium). The nudge asks this; `staleness` answers the same rule in days."""
    return anchor + dt.timedelta(days=periods * CADENCE_DAYS[cadence])


@shared_per_scan
def metric_freshness(*, as_of: dt.date, where: Q | None = None, fields: tuple[str, ...] = ()) -> list[dict]:
    """Active metrics (matching `where`) with their anchor on `as_of`. Each row: id, name,
    program_id, owner_id, reporting_cadence, created_on, latest_period_end, `fields`, and
    computed cadence_days, anchor, days_since, due (a value is owed) and stale (None, "low"
    or "medium"). Ordered by program and id. One query; dates computed by the database
    (loading 20k date-times to convert them costs more than the query)."""
    latest = (
        Measurement.objects.filter(metric_id=OuterRef("pk"), period_end__lte=as_of)
        .order_by("-period_end")
        .values("period_end")[:1]
    )
    metrics = Metric.objects.filter(status=MetricStatus.ACTIVE)
    if where is not None:
        metrics = metrics.filter(where)
    rows = list(
        metrics.annotate(latest_period_end=Subquery(latest), created_on=TruncDate("created_at"))
        .order_by("program_id", "id")
        .values(
            "id",
            "name",
            "program_id",
            "owner_id",
            "reporting_cadence",
            "created_on",
            "latest_period_end",
            *fields,
        )
    )
    for row in rows:
        cadence_days = CADENCE_DAYS[row["reporting_cadence"]]
        anchor = row["latest_period_end"] or row["created_on"]
        days = (as_of - anchor).days
        row.update(
            cadence_days=cadence_days,
            anchor=anchor,
            days_since=days,
            due=days > cadence_days,
            stale=staleness(days, cadence_days),
        )
    return rows
