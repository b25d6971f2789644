"""A flag's starting place on the escalation ladder: written on raise, never by a refresh."""

import dataclasses
import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from accountability.choices import EscalationLevel, FlagKind, Severity, SubjectType
from accountability.findings import Finding
from accountability.flags import flags_sync
from accountability.models import Flag
from accountability.scans import scan_organization
from programs.choices import ProgramStatus
from programs.services import program_transition
from tests.factories import FlagFactory, ProgramFactory

AS_OF = dt.date(2025, 6, 1)
KIND = FlagKind.SPONSOR_DISENGAGED

pytestmark = pytest.mark.django_db


def finding(program, level: int) -> Finding:
    return Finding(
        kind=KIND,
        program_id=program.pk,
        subject_type=SubjectType.PROGRAM,
        subject_id=program.pk,
        severity=Severity.HIGH,
        owner_id=program.executive_sponsor_id,
        title="Sponsor away",
        evidence={"held": 3, "present": 0},
        escalation_level=level,
    )


def sync(organization, findings):
    return flags_sync(organization=organization, findings=findings, kinds=[KIND], as_of=AS_OF)


@pytest.mark.parametrize(("level", "stamped"), [(EscalationLevel.OWNER, False), (EscalationLevel.BOARD, True)])
def test_a_raised_flag_starts_at_the_findings_level(organization, level, stamped):
    program = ProgramFactory(organization=organization)
    result = sync(organization, [finding(program, level)])
    flag = Flag.objects.get(pk=result.raised_ids[0])
    assert flag.escalation_level == level
    assert (flag.escalated_at is not None) is stamped
    if stamped:
        assert flag.escalated_at == flag.first_detected_at


def test_a_refresh_leaves_the_level_where_the_ladder_put_it(organization):
    program = ProgramFactory(organization=organization)
    raised = sync(organization, [finding(program, EscalationLevel.OWNER)]).raised_ids[0]
    climbed_at = dt.datetime(2025, 6, 8, 5, tzinfo=dt.UTC)
    Flag.objects.filter(pk=raised).update(escalation_level=EscalationLevel.MANAGER, escalated_at=climbed_at)
    changed = dataclasses.replace(finding(program, EscalationLevel.BOARD), evidence={"held": 4, "present": 0})
    result = sync(organization, [changed])
    assert result.refreshed_ids == [raised]
    flag = Flag.objects.get(pk=raised)
    assert (flag.escalation_level, flag.escalated_at) == (EscalationLevel.MANAGER, climbed_at)


@pytest.mark.parametrize("level", [-1, 4])
def test_the_database_holds_the_level_between_0_and_3(organization, level):
    program = ProgramFactory(organization=organization)
    with pytest.raises(IntegrityError), transaction.atomic():
        FlagFactory(program=program, escalation_level=level)


def test_a_scan_raises_a_breached_commitment_at_the_board(organization):
    program = ProgramFactory(
        organization=organization, status=ProgramStatus.DRAFT, started_on=None, earliest_review_on=None
    )
    program_transition(program=program, to=ProgramStatus.ACTIVE, reason="go", force=True)
    program_transition(program=program, to=ProgramStatus.PAUSED, reason="operations ultimatum")
    today = program.started_on
    scan_organization(organization=organization, as_of=today)
    flag = Flag.objects.live().get(kind=FlagKind.COMMITMENT_BREACHED)
    assert (flag.owner_id, flag.escalation_level, flag.severity) == (program.executive_sponsor_id, 3, "critical")
    assert flag.escalated_at is not None
