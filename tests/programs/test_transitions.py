import datetime as dt

import pytest

from programs.choices import ProgramStatus
from programs.models import Program, ProgramStatusChange
from programs.services import TransitionRefused, program_transition
from tests.factories import ForumFactory, MetricFactory, ProgramFactory, RoadmapStageFactory, UserFactory

pytestmark = pytest.mark.django_db

S = ProgramStatus
ALLOWED = [
    (S.DRAFT, S.ACTIVE),
    (S.ACTIVE, S.PAUSED),
    (S.PAUSED, S.ACTIVE),
    (S.ACTIVE, S.COMPLETED),
    (S.DRAFT, S.CANCELLED),
    (S.ACTIVE, S.CANCELLED),
    (S.PAUSED, S.CANCELLED),
]
REFUSED = [(a, b) for a in S.values for b in S.values if (a, b) not in ALLOWED]


def ready_program(status=S.DRAFT, **kwargs):
    program = ProgramFactory(status=status, started_on=None, **kwargs)
    ForumFactory(program=program)
    MetricFactory(program=program, level="strategic", kind="outcome")
    RoadmapStageFactory(program=program, sequence=1, budget=50000)
    return program


@pytest.mark.parametrize("current, to", ALLOWED)
def test_allowed_transition_is_applied_and_recorded(current, to):
    program = ready_program(status=current)
    user = UserFactory()
    change = program_transition(program=program, to=to, reason="Board decision of 3 March", actor=user)
    program.refresh_from_db()
    assert program.status == to
    assert (change.from_status, change.to_status, change.reason, change.changed_by) == (
        current,
        to,
        "Board decision of 3 March",
        user,
    )
    assert change.committed_horizon_months == program.committed_horizon_months
    assert ProgramStatusChange.objects.filter(program=program).count() == 1


@pytest.mark.parametrize("current, to", REFUSED)
def test_refused_transition_changes_nothing(current, to):
    program = ready_program(status=current)
    with pytest.raises(TransitionRefused) as exc:
        program_transition(program=program, to=to, reason="because")
    assert f"A {current} program cannot become {to}" in str(exc.value)
    assert Program.objects.get(pk=program.pk).status == current
    assert not ProgramStatusChange.objects.exists()


def test_unknown_status_is_refused():
    program = ready_program()
    with pytest.raises(TransitionRefused, match="not a program status"):
        program_transition(program=program, to="archived")


@pytest.mark.parametrize(
    "current, to",
    [
        (S.ACTIVE, S.PAUSED),
        (S.PAUSED, S.ACTIVE),
        (S.DRAFT, S.CANCELLED),
        (S.ACTIVE, S.CANCELLED),
        (S.PAUSED, S.CANCELLED),
    ],
)
def test_pause_cancel_and_resume_need_a_reason(current, to):
    program = ready_program(status=current)
    with pytest.raises(TransitionRefused) as exc:
        program_transition(program=program, to=to, reason="   ")
    assert "reason" in exc.value.message_dict
    assert Program.objects.get(pk=program.pk).status == current


@pytest.mark.parametrize("current, to", [(S.DRAFT, S.ACTIVE), (S.ACTIVE, S.COMPLETED)])
def test_activation_and_completion_need_no_reason(current, to):
    program = ready_program(status=current)
    program_transition(program=program, to=to)
    assert Program.objects.get(pk=program.pk).status == to


def test_activation_is_refused_while_readiness_is_unmet():
    program = ready_program()
    Program.objects.filter(pk=program.pk).update(business_case="")
    with pytest.raises(TransitionRefused) as exc:
        program_transition(program=program, to=S.ACTIVE)
    assert "A business case is written." in str(exc.value)
    assert Program.objects.get(pk=program.pk).status == S.DRAFT


def test_forced_activation_needs_a_reason_and_keeps_what_was_unmet():
    program = ready_program()
    Program.objects.filter(pk=program.pk).update(business_case="")
    with pytest.raises(TransitionRefused) as exc:
        program_transition(program=program, to=S.ACTIVE, force=True)
    assert "reason" in exc.value.message_dict
    change = program_transition(program=program, to=S.ACTIVE, force=True, reason="Board wants to start now")
    assert change.forced is True
    assert change.unmet_readiness == ["A business case is written."]
    assert Program.objects.get(pk=program.pk).status == S.ACTIVE


def test_first_activation_sets_started_on_and_later_ones_keep_it():
    program = ready_program()
    at = dt.datetime(2025, 3, 4, 10, 0, tzinfo=dt.UTC)
    program_transition(program=program, to=S.ACTIVE, at=at)
    program.refresh_from_db()
    assert program.started_on == dt.date(2025, 3, 4)
    program_transition(program=program, to=S.PAUSED, reason="ops ultimatum", at=at + dt.timedelta(days=40))
    program_transition(program=program, to=S.ACTIVE, reason="back on", at=at + dt.timedelta(days=80))
    program.refresh_from_db()
    assert program.started_on == dt.date(2025, 3, 4)
    assert list(program.status_changes.order_by("at").values_list("to_status", flat=True)) == [
        S.ACTIVE,
        S.PAUSED,
        S.ACTIVE,
    ]


def test_status_changes_are_kept_in_program_history():
    program = ready_program()
    program_transition(program=program, to=S.ACTIVE)
    program_transition(program=program, to=S.PAUSED, reason="budget freeze")
    statuses = list(program.history.order_by("history_date").values_list("status", flat=True))
    assert statuses[-2:] == [S.ACTIVE, S.PAUSED]
