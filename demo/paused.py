""" "Digital First Onboarding": the program about to be abandoned (early-bail risk, critical).

Launched ten months ago with results promised after six, it lost half its budget, had its
five-year horizon cut to two, lost its officer champion to a director already giving 70% of
her time to another program, saw its board meetings cancelled while the CFO sponsor stayed
away, and was paused three weeks ago when operations delivered an ultimatum: the pause and
the shorter horizon both come long before the earliest review the board committed to at
launch (commitment_breached). Its only business-outcome metric was retired with the pause,
without a replacement.
"""

import datetime as dt
import random
from decimal import Decimal

from accountability.choices import Cadence as ForumCadence
from accountability.choices import SessionStatus
from accountability.models import ActionItem, Escalation, Forum
from metrics.choices import Cadence, Direction, Kind, Level, MetricStatus
from programs.choices import InitiativeStatus, ProgramStatus, Rag, StageStatus
from programs.models import Program

from . import PAUSED_PROGRAM
from .builders import assess, new_initiative, new_metric, new_program, new_stage, revise, steady_updates, transition
from .people import Cast
from .timeline import Meeting, Trend, add_months, discussed, hold_sessions, measure, save_dated


def build_paused(cast: Cast, today: dt.date, rng: random.Random) -> Program:
    started = add_months(today, -10)
    until = today - dt.timedelta(days=1)
    program = new_program(
        cast,
        created=add_months(started, -1),
        name=PAUSED_PROGRAM,
        customer_vision="A new customer is covered, welcomed and confident within a day, without paper.",
        business_case="One new customer in four leaves within a year; onboarding is the reason most give. "
        "Five points of first-year retention is worth $7M a year.",
        executive_sponsor=cast["cfo"],
        customer_champion=cast["cco"],
        champion_time_pct=50,
        committed_horizon_months=60,
        first_results_due_on=add_months(started, 6),  # results_expected_early: under 12 months
        budget=Decimal("2400000"),
        exit_criteria="Reconsidered only if first-year retention has not moved after two full years.",
    )
    paperless = new_stage(
        program,
        started,
        sequence=1,
        name="Paperless application",
        budget=Decimal("800000"),
        starts_on=started,
        ends_on=add_months(started, 9),
        status=StageStatus.IN_PROGRESS,
        expectations="Applications signed and issued online in one sitting.",
    )
    identity = new_stage(
        program,
        started,
        sequence=2,
        name="Instant identity check",
        budget=Decimal("600000"),
        starts_on=today + dt.timedelta(days=30),
        ends_on=add_months(today, 8),
        status=StageStatus.PLANNED,
        expectations="No branch visit to prove who you are.",
    )

    retention = new_metric(
        program,
        started,
        "New-customer 12-month retention",
        level=Level.STRATEGIC,
        kind=Kind.OUTCOME,
        owner=cast["cfo"],
        baseline="71",
        target="78",
        target_on=add_months(started, 36),
        unit="%",
        business_unit=cast.unit("Finance"),
    )
    nps = new_metric(
        program,
        started,
        "Onboarding NPS",
        level=Level.STRATEGIC,
        kind=Kind.PERCEPTION,
        owner=cast["cmo"],
        baseline="12",
        target="30",
        target_on=add_months(started, 30),
        business_unit=cast.unit("Marketing"),
    )
    activation = new_metric(
        program,
        started,
        "Days to activate a new policy",
        level=Level.OPERATIONAL,
        kind=Kind.OPERATIONAL,
        owner=cast["onboarding_ops"],
        baseline="9",
        target="3",
        target_on=add_months(started, 18),
        direction=Direction.DECREASE,
        cadence=Cadence.WEEKLY,
        unit="days",
        parent=nps,
        business_unit=cast.unit("Underwriting"),
    )
    retired_on = today - dt.timedelta(days=30)
    measure(retention, Trend(71, 71.8, 0.5), since=started, until=retired_on, rng=rng)
    measure(nps, Trend(12, 15, 2, 0), since=started, until=until, rng=rng)
    measure(activation, Trend(9, 7.2, 0.4), since=started, until=until, rng=rng)

    members = [cast[k] for k in ("cco", "cfo", "onboarding_ops", "digital_head", "underwriting")]
    board = Forum.objects.create(
        program=program,
        name="Onboarding Experience Board",
        cadence=ForumCadence.MONTHLY,
        started_on=started + dt.timedelta(days=7),
        chair=cast["cco"],
        dedicated=True,
        purpose="Monthly: first-year retention, onboarding NPS, the paperless roll-out.",
    )
    board.members.set(members)
    board.metrics_reviewed.set([retention, nps, activation])
    last = today - dt.timedelta(days=10)
    dates = sorted(d for d in (add_months(last, -k) for k in range(12)) if d >= board.started_on)

    def board_meeting(i: int, day: dt.date) -> Meeting:
        age = (today - day).days
        if age < 90:  # the last three: cancelled, postponed, cancelled (forum_sessions_cancelled, lapsed)
            status = SessionStatus.POSTPONED if 30 <= age < 60 else SessionStatus.CANCELLED
            return Meeting(status=status, notes="Sponsor unavailable; operations backlog first.")
        # The CFO sponsor came at the start, then once in his last three.
        sponsor_here = age > 200 or i % 3 == 0
        present = [p for p in members if p.pk != cast["cfo"].pk or sponsor_here]
        return Meeting(
            present=present, agenda=[discussed("Onboarding NPS", metric=nps), discussed("Paperless roll-out status")]
        )

    sessions = hold_sessions(board, dates, board_meeting, members)
    transition(program, ProgramStatus.ACTIVE, started, reason="Board approved the onboarding business case")

    # The last 180 days of the program's history, in order: each one a risk factor.
    save_dated(program, today - dt.timedelta(days=75), reason="Cost programme", budget=Decimal("1200000"))
    save_dated(paperless, today - dt.timedelta(days=70), reason="Cost programme", budget=Decimal("400000"))
    save_dated(
        program,
        today - dt.timedelta(days=60),
        reason="Board wants results this financial year",
        committed_horizon_months=24,
    )
    # The Head of Service Experience takes it on top of Service Everywhere (70%): 110% of one
    # person's time (champion_overloaded), and not an officer (champion_not_officer).
    save_dated(
        program,
        today - dt.timedelta(days=40),
        reason="CCO refocused on claims; the Head of Service Experience takes it on alongside Service Everywhere",
        customer_champion=cast["service_head"],
        champion_time_pct=40,
    )
    board.chair = cast["service_head"]
    board.save(update_fields=["chair"])
    transition(
        program,
        ProgramStatus.PAUSED,
        today - dt.timedelta(days=21),
        reason="Operations ultimatum: clear the onboarding backlog before any more change",
    )
    revise(retention, retired_on, "Paused with the program", status=MetricStatus.RETIRED)

    form = new_initiative(
        program,
        "Paperless application form",
        owner=cast["digital_head"],
        status=InitiativeStatus.IN_PROGRESS,
        stage=paperless,
        starts_on=add_months(started, 1),
        due_on=add_months(today, 2),
        units=[cast.unit("Digital"), cast.unit("Underwriting")],
        updates=steady_updates(
            add_months(started, 1),
            today - dt.timedelta(days=50),
            21,
            5,
            60,
            ["Form designed", "E-signature live in test", "Pilot with brokers"],
        ),
    )
    new_initiative(
        program,
        "Welcome call in the first week",
        owner=cast["onboarding_ops"],
        status=InitiativeStatus.DONE,
        stage=paperless,
        starts_on=started,
        due_on=add_months(started, 3),
        units=[cast.unit("Customer Service")],
        updates=[(add_months(started, 3) - dt.timedelta(days=4), Rag.GREEN, 100, "All new customers called")],
    )
    new_initiative(
        program,
        "Instant identity check",
        owner=cast["crm_owner"],
        status=InitiativeStatus.PLANNED,
        stage=identity,
        starts_on=today + dt.timedelta(days=30),
        due_on=add_months(today, 8),
        units=[cast.unit("Digital")],
    )

    Escalation.objects.create(
        program=program,
        metric=activation,
        raised_by=cast["onboarding_ops"],
        raised_to=cast["cfo"],
        raised_on=today - dt.timedelta(days=35),
    )
    Escalation.objects.create(
        program=program,
        initiative=form,
        raised_by=cast["digital_head"],
        raised_to=cast["cfo"],
        raised_on=today - dt.timedelta(days=150),
        resolved_on=today - dt.timedelta(days=120),
        decision="E-signature vendor approved.",
    )
    ActionItem.objects.create(
        program=program,
        session=sessions[-4],
        owner=cast["cmo"],
        due_on=today + dt.timedelta(days=14),
        description="Bring a restart plan to the board",
    )
    assess(
        program,
        cast["cco"],
        add_months(today, -7),
        [4, 4, 4, 4, 4, 3, 4, 4, 4],
        note="Strong start: the CEO opened the kick-off and set the retention goal.",
    )
    assess(
        program,
        cast["cmo"],
        today - dt.timedelta(days=25),
        [3, 3, 2, 2, 3, 2, 3, 3, 3],
        note="Patience ran out with the backlog; the CEO has not mentioned onboarding since the pause.",
    )
    return program
