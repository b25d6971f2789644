"""Fixtures of the API tests: one populated organization per tenant and clients per role."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from programs.services import api_key_create
from tests.factories import (
    ActionItemFactory,
    AgendaItemFactory,
    AttendanceFactory,
    BusinessUnitFactory,
    CommitmentAssessmentFactory,
    EscalationFactory,
    ExemptionFactory,
    FlagFactory,
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


@dataclass
class World:
    """One organization's rows, one of each resource."""

    organization: object
    person: object
    business_unit: object
    program: object
    stage: object
    initiative: object
    progress_update: object
    commitment_assessment: object
    metric: object
    measurement: object
    exemption: object
    forum: object
    session: object
    attendance: object
    agenda_item: object
    action_item: object
    escalation: object
    flag: object


def build_world(organization) -> World:
    program = ProgramFactory(organization=organization)
    person = PersonFactory(organization=organization, is_officer=True)
    business_unit = BusinessUnitFactory(organization=organization)
    stage = RoadmapStageFactory(program=program, sequence=1)
    initiative = InitiativeFactory(program=program, stage=stage, owner=person)
    metric = MetricFactory(program=program, owner=person)
    forum = ForumFactory(program=program)
    forum.members.add(person)
    session = ForumSessionFactory(forum=forum)
    return World(
        organization=organization,
        person=person,
        business_unit=business_unit,
        program=program,
        stage=stage,
        initiative=initiative,
        progress_update=ProgressUpdateFactory(initiative=initiative, author=person),
        commitment_assessment=CommitmentAssessmentFactory(program=program),
        metric=metric,
        measurement=MeasurementFactory(metric=metric, period_end=dt.date(2024, 6, 30), value=Decimal("61")),
        exemption=ExemptionFactory(metric=metric, person=person),
        forum=forum,
        session=session,
        attendance=AttendanceFactory(session=session, person=person),
        agenda_item=AgendaItemFactory(session=session, metric=metric),
        action_item=ActionItemFactory(program=program, session=session, owner=person),
        escalation=EscalationFactory(program=program, initiative=initiative),
        flag=FlagFactory(program=program),
    )


@pytest.fixture
def world(organization) -> World:
    return build_world(organization)


@pytest.fixture
def other_world(other_organization) -> World:
    return build_world(other_organization)


def key_client(organization, role: str) -> APIClient:
    key, raw = api_key_create(organization=organization, name=f"{role} integration", role=role)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.raw_key = raw
    client.api_key = key
    return client


@pytest.fixture
def clients(organization):
    """role → APIClient authenticated by an API key of that role in `organization`."""
    return {role: key_client(organization, role) for role in ("office", "executive", "integration")}


@pytest.fixture
def office(clients) -> APIClient:
    return clients["office"]


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient()


def session_client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client
