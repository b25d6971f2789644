""" "Claims Without Friction": the program done right. On `today` it raises no flag and scores low risk.

The CEO sponsors it and turns up; an officer (the CCO) champions it with most of her time;
every strategic metric cascades to operational ones with owners and fresh measurements;
targets only ever get tougher; forums meet on time with steady attendance; work is
funded, updated every two weeks, and escalations get resolved.
"""

import datetime as dt
import random
from decimal import Decimal

from accountability import choices
from accountability.choices import ActionStatus
from accountability.models import ActionItem, Escalation, Forum
from metrics.choices import Cadence, Direction, Kind, Level, MetricStatus
from metrics.models import Exemption
from programs.choices import InitiativeStatus, ProgramStatus, StageStatus
from programs.models import Program

from . import HEALTHY_PROGRAM
from .builders import assess, new_initiative, new_metric, new_program, new_stage, revise, steady_updates, transition
from .people import Cast
from .timeline import Meeting, Trend, add_months, deferred, discussed, hold_sessions, measure, save_dated, schedule


def build_healthy(cast: Cast, today: dt.date, rng: random.Random) -> Program:
    started = add_months(today, -26)
    created = started - dt.timedelta(days=45)
    until = today - dt.timedelta(days=1)
    program = new_program(
        cast,
        created=created,
        name=HEALTHY_PROGRAM,
        customer_vision="A customer with a home or motor claim is told what happens next at every step, "
        "settles in days rather than weeks, and never has to chase us.",
        business_case="Claims is where customers decide to stay: each point of claims retention keeps about "
        "$4.1M of premium a year, and straight-through handling cuts the cost per claim by a fifth.",
        executive_sponsor=cast["ceo"],
        customer_champion=cast["cco"],
        champion_time_pct=60,
        committed_horizon_months=60,
        first_results_due_on=add_months(started, 18),
        budget=Decimal("3200000"),
        stall_after_days=30,
        exit_criteria="Reconsidered only if claims retention has not risen two points by the end of year three, "
        "or the cost per settled claim rises for two quarters running.",
    )

    stages = [
        new_stage(
            program,
            created,
            sequence=1,
            name="Listen and map the claim journey",
            budget=Decimal("600000"),
            starts_on=started,
            ends_on=add_months(started, 6),
            status=StageStatus.DONE,
            expectations="Journey maps for home and motor claims; the ten worst moments ranked by customers.",
        ),
        new_stage(
            program,
            created,
            sequence=2,
            name="One handler from notice to settlement",
            budget=Decimal("900000"),
            starts_on=add_months(started, 6),
            ends_on=add_months(started, 16),
            status=StageStatus.DONE,
            expectations="Every claim has a named handler; hand-offs between teams halved.",
        ),
        new_stage(
            program,
            created,
            sequence=3,
            name="Digital claims and proactive updates",
            budget=Decimal("1400000"),
            starts_on=add_months(today, -5),
            ends_on=add_months(today, 7),
            status=StageStatus.IN_PROGRESS,
            expectations="Half of first notices of loss arrive digitally; customers get status before asking.",
        ),
        new_stage(
            program,
            created,
            sequence=4,
            name="Settlement in 24 hours",
            budget=Decimal("900000"),
            starts_on=today + dt.timedelta(days=60),
            ends_on=add_months(today, 14),
            status=StageStatus.PLANNED,
            expectations="Simple claims paid within a day of approval.",
        ),
        new_stage(
            program,
            created,
            sequence=5,
            name="Claims as a loyalty moment",
            budget=None,
            starts_on=add_months(today, 8),
            ends_on=add_months(today, 20),
            status=StageStatus.PLANNED,
            expectations="To be funded in next year's budget round.",
        ),
    ]

    m = {}
    m["retention"] = new_metric(
        program,
        started,
        "Claims customer retention (12-month)",
        level=Level.STRATEGIC,
        kind=Kind.OUTCOME,
        owner=cast["claims_vp"],
        baseline="82.0",
        target="87.0",
        target_on=add_months(started, 48),
        cadence=Cadence.QUARTERLY,
        unit="%",
        business_unit=cast.unit("Claims"),
        incentive_weight=10,
    )
    m["cost"] = new_metric(
        program,
        started,
        "Cost per settled claim",
        level=Level.STRATEGIC,
        kind=Kind.OUTCOME,
        owner=cast["finance_bp"],
        baseline="1450",
        target="1250",
        target_on=add_months(started, 36),
        direction=Direction.DECREASE,
        unit="USD",
        business_unit=cast.unit("Finance"),
    )
    m["nps"] = new_metric(
        program,
        started,
        "Claims NPS",
        level=Level.TACTICAL,
        kind=Kind.PERCEPTION,
        owner=cast["cco"],
        baseline="18",
        target="32",
        target_on=add_months(started, 36),
        parent=m["retention"],
        business_unit=cast.unit("Claims"),
        incentive_weight=10,
    )
    m["fcr"] = new_metric(
        program,
        started,
        "First-contact resolution, claims line",
        level=Level.OPERATIONAL,
        kind=Kind.OPERATIONAL,
        owner=cast["claims_ops"],
        baseline="64",
        target="80",
        target_on=add_months(started, 30),
        cadence=Cadence.WEEKLY,
        unit="%",
        parent=m["nps"],
        business_unit=cast.unit("Customer Service"),
        incentive_weight=15,
    )
    m["days"] = new_metric(
        program,
        started,
        "Days from notice to settlement",
        level=Level.OPERATIONAL,
        kind=Kind.OPERATIONAL,
        owner=cast["claims_ops"],
        baseline="21",
        target="12",
        target_on=add_months(started, 30),
        direction=Direction.DECREASE,
        unit="days",
        parent=m["nps"],
        business_unit=cast.unit("Claims"),
    )
    m["stp"] = new_metric(
        program,
        started,
        "Claims handled straight-through",
        level=Level.OPERATIONAL,
        kind=Kind.OPERATIONAL,
        owner=cast["claims_ops"],
        baseline="22",
        target="45",
        target_on=add_months(started, 36),
        unit="%",
        parent=m["cost"],
        business_unit=cast.unit("Claims"),
    )
    m["wait"] = new_metric(
        program,
        started,
        "Claims call wait time",
        level=Level.OPERATIONAL,
        kind=Kind.OPERATIONAL,
        owner=cast["contact_centres"],
        baseline="240",
        target="90",
        target_on=add_months(started, 24),
        direction=Direction.DECREASE,
        unit="seconds",
        parent=m["nps"],
        business_unit=cast.unit("Customer Service"),
    )
    digital_from = add_months(today, -8)
    m["digital"] = new_metric(
        program,
        digital_from,
        "Digital first notice of loss share",
        level=Level.OPERATIONAL,
        kind=Kind.OPERATIONAL,
        owner=cast["digital_head"],
        baseline="18",
        target="50",
        target_on=add_months(today, 12),
        unit="%",
        parent=m["nps"],
        business_unit=cast.unit("Digital"),
    )

    measure(m["retention"], Trend(82.0, 85.1, 0.3), since=started, until=until, rng=rng)
    measure(m["cost"], Trend(1450, 1318, 12, 0), since=started, until=until, rng=rng)
    measure(m["nps"], Trend(18, 31, 1.5, 0), since=started, until=until, rng=rng)
    measure(m["fcr"], Trend(64, 77, 1.2), since=started, until=until, rng=rng)
    measure(m["days"], Trend(21, 13.5, 0.6), since=started, until=until, rng=rng)
    measure(m["stp"], Trend(22, 39, 1.0), since=started, until=until, rng=rng)
    retired_on = today - dt.timedelta(days=210)
    measure(m["wait"], Trend(240, 120, 8, 0), since=started, until=retired_on, rng=rng)
    measure(m["digital"], Trend(18, 31, 1.0), since=digital_from, until=until, rng=rng)

    council = Forum.objects.create(
        program=program,
        name="Claims Customer Council",
        cadence=choices.Cadence.MONTHLY,
        started_on=started,
        chair=cast["cco"],
        dedicated=True,
        purpose="Monthly review of claims customers' experience: metrics, verbatims, initiatives and blockers.",
    )
    council_members = [cast[k] for k in ("cco", "ceo", "claims_vp", "claims_ops", "insight", "claims_adjuster_lead")]
    council.members.set(council_members)
    council.metrics_reviewed.set([m["retention"], m["nps"], m["fcr"], m["days"]])
    council_dates = schedule(started, 30, today + dt.timedelta(days=60))

    def council_meeting(i: int, day: dt.date) -> Meeting:
        if day >= today:
            return Meeting(status=choices.SessionStatus.SCHEDULED)
        if i == 11:
            return Meeting(status=choices.SessionStatus.POSTPONED, notes="Moved a week: storm surge in claims.")
        absent = {council_members[1 + i % 5].pk} if i % 3 == 0 else set()
        if (today - day).days < 180 and i % 6 == 2:
            absent.add(cast["ceo"].pk)  # the CEO misses one meeting in six, no more
        agenda = [
            discussed("Claims NPS and verbatims", metric=m["nps"]),
            discussed("Settlement time deep-dive", metric=m["days"]),
            discussed("Initiative progress and blockers", customer_item=True),
        ]
        if i == 7:
            agenda.append(deferred("Complaint themes from brokers"))
        return Meeting(present=[p for p in council_members if p.pk not in absent], agenda=agenda)

    sessions = hold_sessions(council, council_dates, council_meeting, council_members)

    review = Forum.objects.create(
        program=program,
        name="Executive Customer Review",
        cadence=choices.Cadence.QUARTERLY,
        started_on=add_months(started, 1),
        chair=cast["ceo"],
        dedicated=True,
        purpose="The CEO and officers review the customer programs' outcomes each quarter.",
    )
    review_members = [cast[k] for k in ("ceo", "cco", "coo", "cfo")]
    review.members.set(review_members)
    review.metrics_reviewed.set([m["retention"], m["cost"]])

    def review_meeting(i: int, day: dt.date) -> Meeting:
        if day >= today:
            return Meeting(status=choices.SessionStatus.SCHEDULED)
        return Meeting(
            present=review_members if i % 4 else review_members[:3],
            agenda=[discussed("Claims retention and cost per claim", metric=m["retention"])],
        )

    hold_sessions(
        review, schedule(add_months(started, 1), 91, today + dt.timedelta(days=120)), review_meeting, review_members
    )

    # Went live once ready; everything after is dated later in the program's history.
    transition(program, ProgramStatus.ACTIVE, started, reason="Readiness met; launched at the leadership offsite")

    # Targets only ever got tougher; a retired metric has its replacement; an exemption has ended.
    revise(
        m["retention"], today - dt.timedelta(days=420), "Retention now in the officers' bonus plan", incentive_weight=15
    )
    approving = max(
        (s for s in sessions if s.scheduled_for.date() <= today - dt.timedelta(days=150)), key=lambda s: s.scheduled_for
    )
    revise(
        m["nps"],
        approving.scheduled_for.date(),
        "Ahead of plan for two quarters: the council raised the bar",
        approved_in=approving,
        target=Decimal("35"),
    )
    revise(
        m["wait"],
        retired_on,
        "Customers now start claims online; wait time no longer tells the story",
        status=MetricStatus.RETIRED,
        replaced_by=m["digital"],
    )
    revise(
        m["days"],
        today - dt.timedelta(days=90),
        "Settlement now run by the adjusters' team",
        owner=cast["claims_adjuster_lead"],
    )
    Exemption.objects.create(
        metric=m["fcr"],
        person=cast["claims_adjuster_lead"],
        reason="Seconded to the storm-response team",
        granted_by=cast["claims_vp"],
        starts_on=today - dt.timedelta(days=240),
        ends_on=today - dt.timedelta(days=120),
    )

    save_dated(
        program, today - dt.timedelta(days=120), reason="Budget raised for digital claims", budget=Decimal("3600000")
    )

    claims = cast.unit("Claims")
    service = cast.unit("Customer Service")
    digital = cast.unit("Digital")
    new_initiative(
        program,
        "Journey map of a home-insurance claim",
        owner=cast["insight"],
        status=InitiativeStatus.DONE,
        stage=stages[0],
        starts_on=started,
        due_on=add_months(started, 5),
        units=[claims, service],
        updates=steady_updates(
            started + dt.timedelta(days=14),
            add_months(started, 5) - dt.timedelta(days=3),
            21,
            10,
            100,
            ["Interviews done", "Maps drafted", "Validated with customers"],
        ),
    )
    new_initiative(
        program,
        "Single claim handler from notice to settlement",
        owner=cast["claims_vp"],
        status=InitiativeStatus.DONE,
        stage=stages[1],
        starts_on=add_months(started, 6),
        due_on=add_months(started, 15),
        units=[claims, service],
        updates=steady_updates(
            add_months(started, 6) + dt.timedelta(days=10),
            add_months(started, 15) - dt.timedelta(days=5),
            21,
            5,
            100,
            ["Pilot team live", "Second region live", "All regions live"],
        ),
    )
    photo = new_initiative(
        program,
        "Photo-based damage assessment",
        owner=cast["digital_head"],
        status=InitiativeStatus.IN_PROGRESS,
        stage=stages[2],
        starts_on=add_months(today, -5),
        due_on=add_months(today, 5),
        units=[claims, digital],
        updates=steady_updates(
            add_months(today, -5) + dt.timedelta(days=7),
            today - dt.timedelta(days=6),
            14,
            5,
            55,
            ["Vendor selected", "App flow tested", "Adjusters trained"],
        ),
    )
    new_initiative(
        program,
        "Proactive claim status messages",
        owner=cast["claims_ops"],
        status=InitiativeStatus.IN_PROGRESS,
        stage=stages[2],
        starts_on=add_months(today, -3),
        due_on=add_months(today, 4),
        units=[claims, digital],
        updates=steady_updates(
            add_months(today, -3) + dt.timedelta(days=7),
            today - dt.timedelta(days=10),
            14,
            5,
            40,
            ["Message templates agreed", "SMS pilot in one region"],
        ),
    )
    new_initiative(
        program,
        "Settlement payment within 24 hours",
        owner=cast["finance_bp"],
        status=InitiativeStatus.PLANNED,
        stage=stages[3],
        starts_on=today + dt.timedelta(days=60),
        due_on=add_months(today, 9),
        units=[claims, cast.unit("Finance")],
    )

    Escalation.objects.create(
        program=program,
        initiative=photo,
        raised_by=cast["cco"],
        raised_to=cast["ceo"],
        raised_on=today - dt.timedelta(days=120),
        resolved_on=today - dt.timedelta(days=108),
        decision="CEO signed the image-assessment vendor contract over procurement's objection.",
    )
    past = [s for s in sessions if s.status == choices.SessionStatus.HELD]
    ActionItem.objects.bulk_create(
        [
            ActionItem(
                program=program,
                session=past[-3],
                owner=cast["insight"],
                due_on=today - dt.timedelta(days=40),
                description="Share broker complaint themes with the council",
                status=ActionStatus.DONE,
                completed_on=today - dt.timedelta(days=45),
            ),
            ActionItem(
                program=program,
                session=past[-2],
                owner=cast["claims_ops"],
                due_on=today - dt.timedelta(days=8),
                description="Publish weekly settlement-time chart per region",
                status=ActionStatus.DONE,
                completed_on=today - dt.timedelta(days=12),
            ),
            ActionItem(
                program=program,
                session=past[-1],
                owner=cast["digital_head"],
                due_on=today + dt.timedelta(days=12),
                description="Report photo-assessment accuracy against adjusters' estimates",
            ),
        ]
    )

    for months_ago, answers in (
        (10, [4, 3, 3, 4, 4, 3, 3, 3, 4]),
        (7, [4, 4, 3, 4, 4, 3, 4, 3, 4]),
        (4, [4, 4, 4, 4, 4, 4, 4, 3, 4]),
        (1, [5, 4, 4, 4, 5, 4, 4, 4, 4]),
    ):
        assess(
            program,
            cast["cco"],
            add_months(today, -months_ago),
            answers,
            note="The CEO chairs the quarterly review and asks about claims retention first.",
        )

    return program
