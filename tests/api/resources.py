"""The API's resources as data: what to create, change and delete, and who may.

Each builder takes the caller's World (and the other organization's, for the
cross-organization case) and returns a fresh body, so every role's attempt is independent.
"""

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.factories import (
    ActionItemFactory,
    AgendaItemFactory,
    AttendanceFactory,
    BusinessUnitFactory,
    CommitmentAssessmentFactory,
    EscalationFactory,
    ExemptionFactory,
    ForumFactory,
    ForumSessionFactory,
    InitiativeFactory,
    MeasurementFactory,
    MetricFactory,
    PersonFactory,
    ProgramFactory,
    ProgressUpdateFactory,
    RoadmapStageFactory,
)

OFFICE = {"office"}
OFFICE_EXECUTIVE = {"office", "executive"}
OFFICE_INTEGRATION = {"office", "integration"}
NOBODY: set[str] = set()
ROLES = ("office", "executive", "integration")

_n = itertools.count(1)


def unique() -> int:
    return next(_n)


@dataclass
class Resource:
    path: str
    attr: str  # World attribute holding one row
    create: Callable | None  # (world) -> body
    cross: Callable | None  # (world, other) -> body referencing the other organization
    update: Callable | None  # (world) -> PATCH body
    fresh: Callable | None  # (world) -> a deletable row
    create_roles: set = field(default_factory=lambda: OFFICE)
    update_roles: set = field(default_factory=lambda: OFFICE)
    delete_roles: set = field(default_factory=lambda: OFFICE)

    def __str__(self) -> str:
        return self.path


def _assessment(w) -> dict:
    answers = dict.fromkeys(
        [
            "clear_destination",
            "understands_scope",
            "builds_new_skills",
            "commits_resources",
            "true_partner",
            "insists_on_patience",
            "pushes_customer_metrics",
            "drives_reliability",
            "defines_differentiation",
        ],
        3,
    )
    return {"program": w.program.pk, "assessed_on": "2024-09-01", "assessor": w.person.pk, **answers}


def _period() -> str:
    return (dt.date(2020, 1, 1) + dt.timedelta(days=unique())).isoformat()


RESOURCES = [
    Resource(
        "people",
        "person",
        create=lambda w: {"name": "New Person", "email": "new@example.com", "reports_to": w.person.pk},
        cross=lambda w, o: {"name": "New Person", "reports_to": o.person.pk},
        update=lambda w: {"title": "VP Service"},
        fresh=lambda w: PersonFactory(organization=w.organization),
    ),
    Resource(
        "business-units",
        "business_unit",
        create=lambda w: {"name": f"Unit new {unique()}"},
        cross=lambda w, o: {"name": f"Unit new {unique()}", "organization": o.organization.pk},
        update=lambda w: {"name": f"Renamed {unique()}"},
        fresh=lambda w: BusinessUnitFactory(organization=w.organization),
    ),
    Resource(
        "programs",
        "program",
        create=lambda w: {"name": "New program", "executive_sponsor": w.person.pk, "champion_time_pct": 50},
        cross=lambda w, o: {"name": "New program", "executive_sponsor": o.person.pk},
        update=lambda w: {"customer_vision": "One contact resolves everything."},
        fresh=lambda w: ProgramFactory(organization=w.organization, status="draft"),
    ),
    Resource(
        "stages",
        "stage",
        create=lambda w: {"program": w.program.pk, "sequence": 100 + unique(), "name": "Scale", "budget": "5000.00"},
        cross=lambda w, o: {"program": o.program.pk, "sequence": 100 + unique(), "name": "Scale"},
        update=lambda w: {"expectations": "All regions live."},
        fresh=lambda w: RoadmapStageFactory(program=w.program, sequence=200 + unique()),
    ),
    Resource(
        "initiatives",
        "initiative",
        create=lambda w: {
            "program": w.program.pk,
            "name": "Callback service",
            "owner": w.person.pk,
            "business_units": [w.business_unit.pk],
        },
        cross=lambda w, o: {
            "program": w.program.pk,
            "name": "Callback service",
            "owner": w.person.pk,
            "business_units": [o.business_unit.pk],
        },
        update=lambda w: {"percent_complete": 55},
        fresh=lambda w: InitiativeFactory(program=w.program, owner=w.person),
    ),
    Resource(
        "progress-updates",
        "progress_update",
        create=lambda w: {
            "initiative": w.initiative.pk,
            "author": w.person.pk,
            "reported_on": "2024-03-01",
            "rag": "amber",
            "percent_complete": 30,
        },
        cross=lambda w, o: {
            "initiative": w.initiative.pk,
            "author": o.person.pk,
            "reported_on": "2024-03-01",
            "rag": "amber",
            "percent_complete": 30,
        },
        update=None,
        fresh=lambda w: ProgressUpdateFactory(initiative=w.initiative, author=w.person),
        create_roles=OFFICE_INTEGRATION,
    ),
    Resource(
        "commitment-assessments",
        "commitment_assessment",
        create=_assessment,
        cross=lambda w, o: {**_assessment(w), "assessor": o.person.pk},
        update=lambda w: {"note": "Better focus this quarter."},
        fresh=lambda w: CommitmentAssessmentFactory(program=w.program),
        create_roles=OFFICE_EXECUTIVE,
    ),
    Resource(
        "metrics",
        "metric",
        create=lambda w: {
            "program": w.program.pk,
            "parent": w.metric.pk,
            "name": "First-contact resolution",
            "level": "operational",
            "kind": "operational",
            "owner": w.person.pk,
        },
        cross=lambda w, o: {
            "program": w.program.pk,
            "parent": o.metric.pk,
            "name": "First-contact resolution",
            "level": "operational",
            "kind": "operational",
        },
        update=lambda w: {"description": "Share of contacts resolved at once."},
        fresh=lambda w: MetricFactory(program=w.program, owner=w.person),
    ),
    Resource(
        "measurements",
        "measurement",
        create=lambda w: {"metric": w.metric.pk, "period_end": _period(), "value": 42.5, "source": "crm"},
        cross=lambda w, o: {"metric": o.metric.pk, "period_end": _period(), "value": 42.5},
        update=lambda w: {"value": "64.25"},
        fresh=lambda w: MeasurementFactory(metric=w.metric, period_end=_period()),
        create_roles=OFFICE_INTEGRATION,
        update_roles=OFFICE_INTEGRATION,
    ),
    Resource(
        "exemptions",
        "exemption",
        create=lambda w: {
            "metric": w.metric.pk,
            "person": w.person.pk,
            "reason": "Top seller",
            "starts_on": "2024-02-01",
        },
        cross=lambda w, o: {"metric": w.metric.pk, "person": o.person.pk, "reason": "x", "starts_on": "2024-02-01"},
        update=lambda w: {"ends_on": "2024-12-31"},
        fresh=lambda w: ExemptionFactory(metric=w.metric, person=w.person),
    ),
    Resource(
        "forums",
        "forum",
        create=lambda w: {
            "program": w.program.pk,
            "name": "Customer council",
            "cadence": "monthly",
            "chair": w.person.pk,
            "members": [w.person.pk],
            "metrics_reviewed": [w.metric.pk],
        },
        cross=lambda w, o: {"program": w.program.pk, "name": "Council", "members": [w.person.pk, o.person.pk]},
        update=lambda w: {"purpose": "Review the customer metrics."},
        fresh=lambda w: ForumFactory(program=w.program),
    ),
    Resource(
        "sessions",
        "session",
        create=lambda w: {"forum": w.forum.pk, "scheduled_for": "2024-03-01T09:00:00Z", "status": "held"},
        cross=lambda w, o: {"forum": o.forum.pk, "scheduled_for": "2024-03-01T09:00:00Z"},
        update=lambda w: {"notes": "Quorum reached."},
        # Only a session still scheduled (and its record) may be deleted: the others are evidence.
        fresh=lambda w: ForumSessionFactory(forum=w.forum, status="scheduled"),
        create_roles=OFFICE_INTEGRATION,
        update_roles=OFFICE_INTEGRATION,
        delete_roles=OFFICE_INTEGRATION,
    ),
    Resource(
        "attendance",
        "attendance",
        create=lambda w: {
            "session": w.session.pk,
            "person": PersonFactory(organization=w.organization).pk,
            "present": True,
        },
        cross=lambda w, o: {
            "session": w.session.pk,
            "person": PersonFactory(organization=w.organization).pk,
            "present": False,
            "delegate": o.person.pk,
        },
        update=lambda w: {"present": False},
        fresh=lambda w: AttendanceFactory(
            session=ForumSessionFactory(forum=w.forum, status="scheduled"),
            person=PersonFactory(organization=w.organization),
        ),
        create_roles=OFFICE_INTEGRATION,
        update_roles=OFFICE_INTEGRATION,
        delete_roles=OFFICE_INTEGRATION,
    ),
    Resource(
        "agenda-items",
        "agenda_item",
        create=lambda w: {"session": w.session.pk, "title": "NPS review", "metric": w.metric.pk},
        cross=lambda w, o: {"session": w.session.pk, "title": "NPS review", "initiative": o.initiative.pk},
        update=lambda w: {"outcome": "deferred"},
        fresh=lambda w: AgendaItemFactory(session=ForumSessionFactory(forum=w.forum, status="scheduled")),
        create_roles=OFFICE_INTEGRATION,
        update_roles=OFFICE_INTEGRATION,
        delete_roles=OFFICE_INTEGRATION,
    ),
    Resource(
        "action-items",
        "action_item",
        create=lambda w: {
            "program": w.program.pk,
            "session": w.session.pk,
            "owner": w.person.pk,
            "description": "Fix the IVR loop",
            "due_on": "2024-04-01",
        },
        cross=lambda w, o: {
            "program": w.program.pk,
            "owner": o.person.pk,
            "description": "Fix the IVR loop",
            "due_on": "2024-04-01",
        },
        update=lambda w: {"status": "done", "completed_on": "2024-03-15"},
        fresh=lambda w: ActionItemFactory(program=w.program, owner=w.person),
        create_roles=OFFICE_INTEGRATION,
        update_roles=OFFICE_INTEGRATION,
        delete_roles=OFFICE_INTEGRATION,
    ),
    Resource(
        "escalations",
        "escalation",
        create=lambda w: {
            "program": w.program.pk,
            "metric": w.metric.pk,
            "raised_by": w.person.pk,
            "raised_to": w.program.executive_sponsor_id,
            "raised_on": "2024-03-01",
        },
        cross=lambda w, o: {
            "program": w.program.pk,
            "metric": w.metric.pk,
            "raised_by": w.person.pk,
            "raised_to": o.person.pk,
            "raised_on": "2024-03-01",
        },
        update=lambda w: {"resolved_on": "2024-03-20", "decision": "Budget released."},
        fresh=lambda w: EscalationFactory(program=w.program, initiative=w.initiative),
    ),
    Resource(
        "flags",
        "flag",
        create=None,
        cross=None,
        update=None,
        fresh=None,
        create_roles=NOBODY,
        update_roles=NOBODY,
        delete_roles=NOBODY,
    ),
]

WRITABLE = [r for r in RESOURCES if r.create]
UPDATABLE = [r for r in RESOURCES if r.update]
DELETABLE = [r for r in RESOURCES if r.fresh]
