"""The work of "Service Everywhere": initiatives that stall and slip, an escalation without air cover,
overdue actions, and flat commitment assessments (see struggling.py for the program itself)."""

import datetime as dt
from collections.abc import Callable

from accountability.choices import ActionStatus
from accountability.models import ActionItem, Escalation, ForumSession
from programs.choices import InitiativeStatus, Rag
from programs.models import Program, RoadmapStage

from .builders import assess, new_initiative, steady_updates
from .people import Cast
from .timeline import add_months


def build_struggling_work(
    cast: Cast,
    program: Program,
    stages: list[RoadmapStage],
    today: dt.date,
    session_near: Callable[[int], ForumSession],
) -> None:
    started = program.started_on
    service, crm = cast.unit("Customer Service"), cast.unit("Digital")
    new_initiative(
        program,
        "Omnichannel contact routing",
        owner=cast["contact_centres"],
        status=InitiativeStatus.DONE,
        stage=stages[0],
        starts_on=started,
        due_on=add_months(started, 5),
        units=[service],
        updates=steady_updates(
            started + dt.timedelta(days=10),
            add_months(started, 5),
            21,
            10,
            100,
            ["Routing rules agreed", "Live in two centres", "Live everywhere"],
        ),
    )
    new_initiative(
        program,
        "Chat in the mobile app",
        owner=cast["digital_head"],
        status=InitiativeStatus.DONE,
        stage=stages[0],
        starts_on=add_months(started, 1),
        due_on=add_months(started, 6),
        units=[service, crm],
        updates=steady_updates(
            add_months(started, 1), add_months(started, 6), 28, 10, 100, ["Vendor chosen", "Beta", "Released"]
        ),
    )
    crm_view = new_initiative(
        program,
        "Unified customer view in the CRM",
        owner=cast["crm_owner"],
        status=InitiativeStatus.BLOCKED,
        stage=stages[1],
        starts_on=add_months(today, -4),
        due_on=add_months(today, 3),
        units=[service, crm],
        updates=[
            (add_months(today, -4) + dt.timedelta(days=12), Rag.GREEN, 10, "Data model agreed"),
            (today - dt.timedelta(days=72), Rag.RED, 15, "Blocked: waiting for the IT budget decision"),
        ],
    )  # stalled, high (72 days > 2 × 30)
    new_initiative(
        program,
        "Callback scheduler",
        owner=cast["contact_centres"],
        status=InitiativeStatus.IN_PROGRESS,
        stage=stages[1],
        starts_on=add_months(today, -5),
        due_on=today - dt.timedelta(days=40),
        units=[service],
        updates=[
            (today - dt.timedelta(days=60), Rag.AMBER, 60, "Telephony integration late"),
            (today - dt.timedelta(days=9), Rag.AMBER, 80, "Testing with one centre"),
        ],
    )  # overdue, high
    new_initiative(
        program,
        "Complaint triage redesign",
        owner=cast["complaints"],
        status=InitiativeStatus.IN_PROGRESS,
        stage=stages[1],
        starts_on=add_months(today, -3),
        due_on=add_months(today, 2),
        units=[service],
        updates=[(today - dt.timedelta(days=41), Rag.AMBER, 20, "Waiting for legal review")],
    )  # stalled
    new_initiative(
        program,
        "Knowledge base for agents",
        owner=cast["quality"],
        status=InitiativeStatus.IN_PROGRESS,
        stage=stages[1],
        starts_on=add_months(today, -2),
        due_on=add_months(today, 3),
        units=[service],
        updates=steady_updates(
            add_months(today, -2),
            today - dt.timedelta(days=5),
            14,
            10,
            45,
            ["Top 50 answers written", "Agents testing"],
        ),
    )
    new_initiative(
        program,
        "Branch greeter pilot",
        owner=cast["branches"],
        status=InitiativeStatus.PLANNED,
        stage=stages[2],
        starts_on=today + dt.timedelta(days=45),
        due_on=add_months(today, 5),
        units=[cast.unit("Operations")],
    )

    Escalation.objects.create(
        program=program,
        initiative=crm_view,
        raised_by=cast["service_head"],
        raised_to=cast["coo"],
        raised_on=today - dt.timedelta(days=50),
    )
    recent = session_near(3)
    ActionItem.objects.bulk_create(
        [
            ActionItem(
                program=program,
                session=session_near(30),
                owner=cast["sales_director"],
                due_on=today - dt.timedelta(days=20),
                description="Send top-account NPS verbatims to the sales team",
            ),
            ActionItem(
                program=program,
                session=recent,
                owner=cast["crm_owner"],
                due_on=today - dt.timedelta(days=5),
                description="Propose a budget for the CRM integration",
            ),
            ActionItem(
                program=program,
                session=recent,
                owner=cast["branches"],
                due_on=today + dt.timedelta(days=10),
                description="Agree the callback promise with the branches",
            ),
            ActionItem(
                program=program,
                session=session_near(120),
                owner=cast["quality"],
                status=ActionStatus.DONE,
                due_on=today - dt.timedelta(days=100),
                completed_on=today - dt.timedelta(days=104),
                description="Sample 200 calls for repeat-contact reasons",
            ),
        ]
    )
    for months_ago, answers in (
        (9, [3, 3, 3, 3, 3, 3, 4, 3, 3]),
        (5, [3, 3, 3, 3, 3, 3, 3, 3, 3]),
        (2, [3, 3, 3, 3, 3, 3, 3, 3, 2]),
    ):
        assess(
            program,
            cast["service_head"],
            add_months(today, -months_ago),
            answers,
            note="The CEO backs the program in town halls; the COO sends his deputy to steering.",
        )
