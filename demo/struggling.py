""" "Service Everywhere": an omnichannel service program going wrong in every ordinary way.

Its champion is a capable director, not an officer; the COO who sponsors it has stopped
coming; its customer items get deferred at the steering meeting and the operations review
that was meant to carry it quietly stopped meeting; targets are being bargained down;
stages go ahead unfunded; work stalls and an escalation waits for air cover.
See docs/demo-data.md for the flag each piece of history is meant to raise.
"""

import datetime as dt
import random
from decimal import Decimal

from accountability.choices import Cadence as ForumCadence
from accountability.choices import SessionStatus
from accountability.models import Forum
from metrics.choices import Cadence, Direction, Kind, Level
from metrics.models import Exemption
from programs.choices import ProgramStatus, StageStatus
from programs.models import Program

from . import STRUGGLING_PROGRAM
from .builders import new_metric, new_program, new_stage, revise, transition
from .loopholes import build_loopholes
from .people import Cast
from .struggling_work import build_struggling_work
from .timeline import Meeting, Trend, add_months, deferred, discussed, dropped, hold_sessions, measure, schedule

# (key, name, level, kind, owner, parent, baseline, target, direction, cadence, unit, unit name, incentive)
METRICS = [
    (
        "retention",
        "Service-driven retention",
        Level.STRATEGIC,
        Kind.OUTCOME,
        "coo",
        None,
        "78",
        "84",
        Direction.INCREASE,
        Cadence.MONTHLY,
        "%",
        "Operations",
        10,
    ),
    (
        "effort",
        "Customer effort score",
        Level.STRATEGIC,
        Kind.PERCEPTION,
        "service_head",
        None,
        "4.8",
        "3.5",
        Direction.DECREASE,
        Cadence.MONTHLY,
        "1–7",
        "Customer Service",
        0,
    ),
    (
        "cost",
        "Service cost per contact",
        Level.STRATEGIC,
        Kind.OUTCOME,
        "finance_bp",
        None,
        "7.40",
        "6.20",
        Direction.DECREASE,
        Cadence.MONTHLY,
        "USD",
        "Finance",
        0,
    ),
    (
        "nps",
        "Service NPS",
        Level.TACTICAL,
        Kind.PERCEPTION,
        "service_head",
        "retention",
        "5",
        "25",
        Direction.INCREASE,
        Cadence.MONTHLY,
        "",
        "Customer Service",
        10,
    ),
    (
        "top_nps",
        "Relationship NPS, top accounts",
        Level.TACTICAL,
        Kind.PERCEPTION,
        "sales_director",
        "retention",
        "20",
        "45",
        Direction.INCREASE,
        Cadence.MONTHLY,
        "",
        "Sales",
        10,
    ),
    (
        "sentiment",
        "Social media sentiment",
        Level.TACTICAL,
        Kind.PERCEPTION,
        "digital_head",
        "retention",
        "-12",
        "10",
        Direction.INCREASE,
        Cadence.MONTHLY,
        "index",
        "Marketing",
        0,
    ),
    (
        "fcr",
        "First-contact resolution",
        Level.OPERATIONAL,
        Kind.OPERATIONAL,
        "contact_centres",
        "nps",
        "58",
        "70",
        Direction.INCREASE,
        Cadence.WEEKLY,
        "%",
        "Customer Service",
        15,
    ),
    (
        "callback",
        "Callbacks within 24 hours",
        Level.OPERATIONAL,
        Kind.OPERATIONAL,
        "contact_centres",
        "nps",
        "61",
        "90",
        Direction.INCREASE,
        Cadence.MONTHLY,
        "%",
        "Customer Service",
        0,
    ),
    (
        "complaints",
        "Complaints resolved within 5 days",
        Level.OPERATIONAL,
        Kind.OPERATIONAL,
        "complaints",
        "nps",
        "55",
        "85",
        Direction.INCREASE,
        Cadence.MONTHLY,
        "%",
        "Customer Service",
        20,
    ),
    (
        "aht",
        "Average handle time",
        Level.OPERATIONAL,
        Kind.OPERATIONAL,
        "contact_centres",
        "nps",
        "420",
        "450",
        Direction.DECREASE,
        Cadence.WEEKLY,
        "seconds",
        "Customer Service",
        0,
    ),
    (
        "self_service",
        "Digital self-service share",
        Level.OPERATIONAL,
        Kind.OPERATIONAL,
        "former_digital",
        "nps",
        "21",
        "40",
        Direction.INCREASE,
        Cadence.MONTHLY,
        "%",
        "Digital",
        0,
    ),
    (
        "branch_wait",
        "Branch wait time",
        Level.OPERATIONAL,
        Kind.OPERATIONAL,
        None,
        "nps",
        "14",
        "6",
        Direction.DECREASE,
        Cadence.MONTHLY,
        "minutes",
        "Operations",
        0,
    ),
]

TRENDS = {
    "retention": Trend(78, 78.6, 0.4),
    "effort": Trend(4.8, 4.6, 0.1, 2),
    "cost": Trend(7.4, 7.1, 0.1, 2),
    "nps": Trend(5, 9, 2, 0),
    "top_nps": Trend(20, 24, 2, 0),
    "sentiment": Trend(-12, -9, 2, 0),
    "fcr": Trend(58, 61, 1.5),
    "callback": Trend(61, 68, 2),
    "complaints": Trend(55, 60, 3),
    "aht": Trend(420, 436, 6, 0),
    "self_service": Trend(21, 27, 1),
    "branch_wait": Trend(14, 12, 1),
}


def build_struggling(cast: Cast, today: dt.date, rng: random.Random) -> Program:
    started = add_months(today, -14)
    until = today - dt.timedelta(days=1)
    program = new_program(
        cast,
        created=add_months(started, -1),
        name=STRUGGLING_PROGRAM,
        customer_vision="Customers reach us the way they like, once, and the person who answers can solve it.",
        business_case="Repeat contacts cost $9M a year and drive a third of service-related lapses; "
        "halving them is worth about $6M a year.",
        executive_sponsor=cast["coo"],
        customer_champion=cast["service_head"],  # a director, not an officer: champion_not_officer
        champion_time_pct=70,
        committed_horizon_months=60,
        first_results_due_on=add_months(started, 15),
        budget=Decimal("2100000"),
        exit_criteria="Reconsidered if repeat contacts are not down by a quarter after two years.",
    )
    stages = [
        new_stage(
            program,
            started,
            sequence=1,
            name="Contact-centre basics",
            budget=Decimal("500000"),
            starts_on=started,
            ends_on=add_months(started, 6),
            status=StageStatus.DONE,
            expectations="Routing by need, callbacks instead of queues.",
        ),
        # In progress and planned within 90 days, neither funded: roadmap_unfunded twice.
        new_stage(
            program,
            started,
            sequence=2,
            name="One customer view across channels",
            budget=None,
            starts_on=add_months(today, -4),
            ends_on=add_months(today, 6),
            status=StageStatus.IN_PROGRESS,
            expectations="An agent sees every contact of the customer, whatever the channel.",
        ),
        new_stage(
            program,
            started,
            sequence=3,
            name="Branch and digital hand-offs",
            budget=None,
            starts_on=today + dt.timedelta(days=45),
            ends_on=add_months(today, 12),
            status=StageStatus.PLANNED,
            expectations="A conversation started online continues in the branch without repeating.",
        ),
    ]

    m = {}
    for key, name, level, kind, owner, parent, base, target, direction, cadence, unit, unit_name, weight in METRICS:
        m[key] = new_metric(
            program,
            started,
            name,
            level=level,
            kind=kind,
            owner=cast[owner] if owner else None,
            parent=m[parent] if parent else None,
            baseline=base,
            target=target,
            target_on=add_months(started, 36),
            direction=direction,
            cadence=cadence,
            unit=unit,
            business_unit=cast.unit(unit_name),
            incentive_weight=weight,
        )
    last_measured = {"sentiment": today - dt.timedelta(days=150), "cost": today - dt.timedelta(days=60)}
    for key, trend in TRENDS.items():
        measure(m[key], trend, since=started, until=last_measured.get(key, until), rng=rng)

    members = [
        cast[k]
        for k in (
            "service_head",
            "coo",
            "contact_centres",
            "complaints",
            "branches",
            "digital_head",
            "quality",
            "insight",
        )
    ]
    steering = Forum.objects.create(
        program=program,
        name="Service Experience Steering",
        cadence=ForumCadence.BIWEEKLY,
        started_on=started + dt.timedelta(days=7),
        chair=cast["service_head"],
        dedicated=True,
        purpose="Every two weeks: service metrics, customer verbatims, initiative status, decisions for the COO.",
    )
    steering.members.set(members)
    steering.metrics_reviewed.set([m["retention"], m["nps"], m["top_nps"], m["fcr"]])
    # Counted back from three days ago so the last four meetings are: held, postponed, cancelled, held.
    last = today - dt.timedelta(days=3)
    dates = sorted(d for d in (last - dt.timedelta(days=14 * k) for k in range(60)) if d >= steering.started_on)
    dates += [today + dt.timedelta(days=11), today + dt.timedelta(days=25)]
    regulars = [cast[k] for k in ("service_head", "contact_centres", "quality")]

    def steering_meeting(i: int, day: dt.date) -> Meeting:
        k = (last - day).days // 14  # 0 = the latest meeting
        if day >= today:
            return Meeting(status=SessionStatus.SCHEDULED)
        if k == 1:
            return Meeting(status=SessionStatus.POSTPONED, notes="Postponed: quarter-end operations review.")
        if k in (2, 9):
            return Meeting(status=SessionStatus.CANCELLED, notes="Cancelled: too few attendees.")
        age = (today - day).days
        # Everyone came at first; by the last months only the champion and two regulars turn up.
        if age > 300:
            present = members
        elif age > 150:
            present = [p for p in members if p.pk != cast["insight"].pk and (p.pk != cast["coo"].pk or k % 2 == 0)]
        else:
            # The COO comes to every other meeting and sends his deputy to the rest: half in
            # person (not disengaged), half by delegate (sponsor_delegating).
            present = regulars + ([cast["coo"]] if k in (0, 4, 6, 8) else []) + ([cast["branches"]] if k > 5 else [])
        agenda = [discussed("Contact-centre staffing", customer_item=False)]
        if k in (0, 3):
            agenda += [
                deferred("Service NPS and what customers said", metric=m["nps"]),
                dropped("Top-account NPS target", metric=m["top_nps"]),
            ]
        else:
            agenda += [discussed("Service NPS and what customers said", metric=m["nps"])]
        # In the last six months the COO sends his deputy whenever he does not come himself
        # (sponsor_delegating): "there are certain things you can't delegate".
        coo_away = all(p.pk != cast["coo"].pk for p in present)
        delegates = {cast["coo"].pk: cast["deputy_coo"]} if age <= 180 and coo_away else {}
        return Meeting(present=present, agenda=agenda, delegates=delegates)

    sessions = hold_sessions(steering, dates, steering_meeting, members)

    ops_members = [cast[k] for k in ("branches", "contact_centres", "deputy_coo", "quality")]
    ops = Forum.objects.create(
        program=program,
        name="Branch & Contact Centre Ops Review",
        cadence=ForumCadence.MONTHLY,
        started_on=add_months(started, 1),
        chair=cast["branches"],
        dedicated=False,
        purpose="The monthly operations review, with a customer slot at the end.",
    )
    ops.members.set(ops_members)
    # It met until about a hundred days ago, then simply stopped: forum_lapsed (past 3× its cadence).
    ops_dates = [d for d in schedule(add_months(started, 1), 30, today) if d <= today - dt.timedelta(days=100)]
    hold_sessions(
        ops,
        ops_dates,
        lambda i, day: Meeting(
            present=ops_members[:3],
            agenda=[discussed("Branch queues", customer_item=False), discussed("Customer slot: complaints backlog")],
        ),
        ops_members,
    )

    # The champion was never an officer, so readiness was unmet: the COO forced the launch, with a reason.
    transition(
        program,
        ProgramStatus.ACTIVE,
        started,
        reason="Launched at the service kick-off; an officer champion was promised for later",
        force=True,
    )

    def session_near(days_ago: int):
        held = [
            s for s in sessions if s.status == SessionStatus.HELD and (today - s.scheduled_for.date()).days >= days_ago
        ]
        return max(held, key=lambda s: s.scheduled_for)

    # Negotiated away, each within the last year (metric_negotiated_away).
    revise(
        m["top_nps"],
        today - dt.timedelta(days=120),
        "Sales asked for a realistic goal in a tough pipeline year",
        target=Decimal("30"),
    )
    Exemption.objects.create(
        metric=m["top_nps"],
        person=cast["star_seller"],
        granted_by=cast["sales_director"],
        reason="Top producer: excused from the satisfaction goal this year",
        starts_on=today - dt.timedelta(days=60),
    )
    approving = session_near(100)
    revise(
        m["callback"],
        approving.scheduled_for.date(),
        "Telephony upgrade slipped; steering agreed to wait",
        approved_in=approving,
        target_on=m["callback"].target_on + dt.timedelta(days=200),
    )
    revise(m["complaints"], today - dt.timedelta(days=50), "Bonus plan simplified by People team", incentive_weight=0)
    build_loopholes(cast, program, m, sessions, today, rng)
    build_struggling_work(cast, program, stages, today, session_near)
    return program
