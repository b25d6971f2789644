""" "Service Everywhere", continued: the subtler ways of asking for less that version 2 catches,
each within the last year (docs/demo-data.md): a baseline restated upwards, a metric
redefined, an outcome retired for an easy operational count."""

import datetime as dt
import random
from decimal import Decimal

from accountability.choices import SessionStatus
from accountability.models import Attendance, ForumSession
from metrics.choices import Kind, Level, MetricStatus
from metrics.models import Metric
from programs.models import Program

from .builders import new_metric, revise
from .people import Cast
from .timeline import Trend, add_months, measure


def build_loopholes(
    cast: Cast, program: Program, m: dict[str, Metric], sessions: list[ForumSession], today: dt.date, rng: random.Random
) -> None:
    coo = cast["coo"]
    # The baseline of first-contact resolution is "restated" upwards: the same 70% target now
    # asks for 8 points instead of 12 (baseline_moved, medium), decided at a steering meeting
    # the COO attended in person, so the approval counts (medium → low).
    attended = set(
        Attendance.objects.filter(session__in=sessions, person=coo, present=True).values_list("session_id", flat=True)
    )
    candidates = [s for s in sessions if s.status == SessionStatus.HELD and s.pk in attended]
    with_sponsor = max(
        (s for s in candidates if 60 <= (today - s.scheduled_for.date()).days <= 180), key=lambda s: s.scheduled_for
    )
    revise(
        m["fcr"],
        with_sponsor.scheduled_for.date(),
        "Baseline restated: the new telephony counts repeat calls differently",
        approved_in=with_sponsor,
        baseline=Decimal("62"),
    )
    # Social sentiment switches vendors and is now "% positive mentions": its history no
    # longer compares with what came before (redefined, high).
    revise(m["sentiment"], today - dt.timedelta(days=100), "New social listening vendor", unit="% positive")
    # The cost outcome is retired for an operational productivity count that is easy to hit
    # (replaced_by_easier, high: outcome → operational).
    since = today - dt.timedelta(days=60)
    productivity = new_metric(
        program,
        since,
        "Contacts handled per agent hour",
        level=Level.OPERATIONAL,
        kind=Kind.OPERATIONAL,
        owner=cast["contact_centres"],
        parent=m["nps"],
        baseline="5.8",
        target="6.0",
        target_on=add_months(today, 6),
        unit="contacts",
        business_unit=cast.unit("Customer Service"),
    )
    measure(productivity, Trend(5.8, 5.95, 0.05, 2), since=since, until=today - dt.timedelta(days=1), rng=rng)
    revise(
        m["cost"],
        since,
        "Finance reports cost in the cost programme now; service tracks agent productivity instead",
        status=MetricStatus.RETIRED,
        replaced_by=productivity,
    )
