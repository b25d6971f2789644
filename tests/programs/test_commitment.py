"""earliest_review_on: fixed at launch (default start + 24 months), afterwards only moved later with a reason."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from programs.choices import ProgramStatus
from programs.dates import add_months
from programs.models import Program
from programs.services import TransitionRefused, program_review_move, program_transition
from tests.factories import ProgramFactory, UserFactory

pytestmark = pytest.mark.django_db


def draft(organization, **fields):
    return ProgramFactory(organization=organization, status=ProgramStatus.DRAFT, **fields)


@pytest.mark.parametrize(
    ("started_on", "expected"),
    [(dt.date(2024, 3, 15), dt.date(2026, 3, 15)), (dt.date(2024, 2, 29), dt.date(2026, 2, 28))],
)
def test_launch_defaults_to_two_years_after_the_start(organization, started_on, expected):
    program = draft(organization, started_on=started_on)
    program_transition(program=program, to=ProgramStatus.ACTIVE, reason="go", force=True)
    assert Program.objects.get(pk=program.pk).earliest_review_on == expected == add_months(started_on, 24)


def test_launch_without_a_start_starts_today_and_counts_from_it(organization):
    program = draft(organization, started_on=None)
    program_transition(
        program=program, to=ProgramStatus.ACTIVE, reason="go", force=True, at=dt.datetime(2025, 1, 31, 9, tzinfo=dt.UTC)
    )
    program.refresh_from_db()
    assert (program.started_on, program.earliest_review_on) == (dt.date(2025, 1, 31), dt.date(2027, 1, 31))


def test_launch_keeps_the_date_agreed_on_the_draft(organization):
    program = draft(organization, started_on=dt.date(2024, 1, 1), earliest_review_on=dt.date(2027, 6, 30))
    program_transition(program=program, to=ProgramStatus.ACTIVE, reason="go", force=True)
    assert Program.objects.get(pk=program.pk).earliest_review_on == dt.date(2027, 6, 30)


def test_launch_refuses_a_review_date_before_the_start(organization):
    program = draft(organization, started_on=dt.date(2024, 1, 1), earliest_review_on=dt.date(2023, 12, 31))
    with pytest.raises(TransitionRefused) as refused:
        program_transition(program=program, to=ProgramStatus.ACTIVE, reason="go", force=True)
    assert "earliest_review_on" in refused.value.message_dict
    assert Program.objects.get(pk=program.pk).status == ProgramStatus.DRAFT


def test_pause_and_resume_leave_the_review_date_alone(organization):
    program = draft(organization, started_on=dt.date(2024, 1, 1))
    program_transition(program=program, to=ProgramStatus.ACTIVE, reason="go", force=True)
    program_transition(program=program, to=ProgramStatus.PAUSED, reason="ultimatum")
    program_transition(program=program, to=ProgramStatus.ACTIVE, reason="back")
    assert Program.objects.get(pk=program.pk).earliest_review_on == dt.date(2026, 1, 1)


@pytest.fixture
def launched(organization):
    return ProgramFactory(organization=organization, earliest_review_on=dt.date(2026, 1, 1))


def test_the_review_date_moves_later_with_a_reason_kept_in_history(launched):
    user = UserFactory()
    program_review_move(program=launched, to=dt.date(2026, 7, 1), reason="Board extended the commitment", actor=user)
    assert launched.earliest_review_on == dt.date(2026, 7, 1)
    latest = launched.history.latest()
    assert (latest.earliest_review_on, latest.history_user) == (dt.date(2026, 7, 1), user)
    assert latest.history_change_reason == (
        "earliest review moved from 2026-01-01 to 2026-07-01: Board extended the commitment"
    )


@pytest.mark.parametrize(
    ("to", "reason", "field"),
    [(dt.date(2025, 12, 31), "sooner", "earliest_review_on"), (dt.date(2026, 1, 2), "  ", "reason")],
    ids=["a-day-earlier", "no-reason"],
)
def test_moving_earlier_or_without_a_reason_is_refused(launched, to, reason, field):
    before = launched.history.count()
    with pytest.raises(ValidationError) as refused:
        program_review_move(program=launched, to=to, reason=reason)
    assert field in refused.value.message_dict
    assert Program.objects.get(pk=launched.pk).earliest_review_on == dt.date(2026, 1, 1)
    assert launched.history.count() == before


def test_the_same_date_again_writes_nothing(launched):
    before = launched.history.count()
    program_review_move(program=launched, to=dt.date(2026, 1, 1), reason="")
    assert launched.history.count() == before


def test_a_drafts_review_date_is_not_moved_through_the_service(organization):
    with pytest.raises(ValidationError, match="edited directly"):
        program_review_move(program=draft(organization), to=dt.date(2030, 1, 1), reason="x")
