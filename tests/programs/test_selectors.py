"""programs.selectors: programs and roadmap stages as they stood on a date."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from programs.choices import ProgramStatus, StageStatus
from programs.models import Program, RoadmapStage
from programs.selectors import programs_on, stages_on
from programs.services import program_transition
from tests.factories import PersonFactory, ProgramFactory, RoadmapStageFactory

pytestmark = pytest.mark.django_db

CUT_ON = dt.date(2025, 3, 1)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)


def dated_save(instance, day: dt.date, **changes) -> None:
    """Change and save a row, its history record dated `day` (as the demo timeline does)."""
    for name, value in changes.items():
        setattr(instance, name, value)
    instance._history_date = at(day)
    instance.save()
    del instance._history_date


def backdate_creation(instance, day: dt.date) -> None:
    """Date the row's first history record (its creation) on `day`."""
    type(instance).history.model.objects.filter(id=instance.pk, history_type="+").update(history_date=at(day, 9))


def test_budgets_and_horizon_as_of_a_date_before_and_after_a_cut(organization):
    program = ProgramFactory(organization=organization, budget=Decimal("1000000"), committed_horizon_months=60)
    stage = RoadmapStageFactory(program=program, sequence=1, budget=Decimal("400000"), status=StageStatus.PLANNED)
    backdate_creation(program, dt.date(2024, 1, 1))
    backdate_creation(stage, dt.date(2024, 1, 1))
    dated_save(program, CUT_ON, budget=Decimal("600000"), committed_horizon_months=36)
    dated_save(stage, CUT_ON, budget=Decimal("250000"), status=StageStatus.IN_PROGRESS)

    before = programs_on(program_ids=[program.id], as_of=CUT_ON - dt.timedelta(days=1))[program.id]
    assert (before.budget, before.committed_horizon_months) == (Decimal("1000000"), 60)
    assert set(before.changed_since) == {"budget", "committed_horizon_months"}
    on_the_day = programs_on(program_ids=[program.id], as_of=CUT_ON)[program.id]
    assert (on_the_day.budget, on_the_day.committed_horizon_months) == (Decimal("600000"), 36)
    assert on_the_day.changed_since == ()

    (stage_before,) = stages_on(program_ids=[program.id], as_of=CUT_ON - dt.timedelta(days=1))
    assert (stage_before.budget, stage_before.status) == (Decimal("400000"), StageStatus.PLANNED)
    assert stage_before.get_status_display() == "Planned"
    (stage_after,) = stages_on(program_ids=[program.id], as_of=CUT_ON)
    assert (stage_after.budget, stage_after.status) == (Decimal("250000"), StageStatus.IN_PROGRESS)
    (stage_today,) = stages_on(program_ids=[program.id], as_of=timezone.localdate())
    assert stage_today.budget == Decimal("250000")


def test_a_cut_made_today_shows_the_old_budget_for_any_past_date(organization):
    """Rows created and cut today (no dated history): a past date shows the values first recorded."""
    program = ProgramFactory(organization=organization, budget=Decimal("500"))
    program.budget = Decimal("100")
    program.save()
    today = timezone.localdate()
    assert programs_on(program_ids=[program.id], as_of=today - dt.timedelta(days=30))[program.id].budget == 500
    assert programs_on(program_ids=[program.id], as_of=today)[program.id].budget == 100


def test_a_row_changed_without_history_reads_its_current_values_today(organization):
    program = ProgramFactory(organization=organization, budget=Decimal("500"))
    Program.objects.filter(pk=program.pk).update(budget=Decimal("50"))  # no history record written
    assert programs_on(program_ids=[program.id], as_of=timezone.localdate())[program.id].budget == 50


def test_status_as_of_a_date_before_a_pause_and_after(organization):
    program = ProgramFactory(organization=organization, status=ProgramStatus.DRAFT)
    program_transition(program=program, to=ProgramStatus.ACTIVE, force=True, reason="pilot", at=at(dt.date(2024, 2, 1)))
    program_transition(program=program, to=ProgramStatus.PAUSED, reason="Budget freeze", at=at(dt.date(2025, 5, 10)))

    def status(day):
        return programs_on(program_ids=[program.id], as_of=day)[program.id].status

    assert status(dt.date(2024, 1, 31)) == ProgramStatus.DRAFT  # before its first change: that change's from
    assert status(dt.date(2024, 2, 1)) == ProgramStatus.ACTIVE
    assert status(dt.date(2025, 5, 9)) == ProgramStatus.ACTIVE
    assert status(dt.date(2025, 5, 10)) == ProgramStatus.PAUSED
    assert "status" in programs_on(program_ids=[program.id], as_of=dt.date(2025, 5, 9))[program.id].changed_since


def test_a_program_that_never_changed_status_reads_its_current_status(organization):
    program = ProgramFactory(organization=organization, status=ProgramStatus.ACTIVE)
    assert programs_on(program_ids=[program.id], as_of=dt.date(2000, 1, 1))[program.id].status == "active"


def test_champion_and_horizon_month_as_of_a_date(organization):
    old = PersonFactory(organization=organization, name="Olga Old", is_officer=True)
    new = PersonFactory(organization=organization, name="Nina New", is_officer=False)
    program = ProgramFactory(organization=organization, customer_champion=old, started_on=dt.date(2024, 1, 15))
    backdate_creation(program, dt.date(2024, 1, 1))
    dated_save(program, dt.date(2025, 1, 1), customer_champion=new, champion_time_pct=20)

    before = programs_on(programs=Program.objects.select_related("customer_champion"), as_of=dt.date(2024, 12, 31))
    assert (before[program.id].champion_name, before[program.id].champion_is_officer) == ("Olga Old", True)
    assert before[program.id].champion_time_pct == 80
    assert before[program.id].month_of_horizon() == 12  # 15 Dec 2024 starts month 12
    after = programs_on(program_ids=[program.id], as_of=dt.date(2025, 1, 1))[program.id]
    assert (after.champion_name, after.champion_is_officer, after.champion_time_pct) == ("Nina New", False, 20)


def test_a_stage_deleted_is_not_shown_and_history_deletions_are_ignored(organization):
    program = ProgramFactory(organization=organization)
    kept = RoadmapStageFactory(program=program, sequence=1)
    RoadmapStageFactory(program=program, sequence=2).delete()
    assert [s.id for s in stages_on(program_ids=[program.id], as_of=timezone.localdate())] == [kept.id]


@pytest.mark.parametrize("size", [1, 6])
def test_query_counts_do_not_grow(organization, size, django_assert_num_queries):
    programs = []
    for i in range(size):
        program = ProgramFactory(organization=organization, budget=Decimal("100"))
        for sequence in range(1, 4):
            RoadmapStageFactory(program=program, sequence=sequence, budget=Decimal("10"))
        dated_save(program, dt.date(2025, 1, 1), budget=Decimal(str(50 + i)))
        program_transition(program=program, to=ProgramStatus.PAUSED, reason="why", at=at(dt.date(2025, 2, 1)))
        programs.append(program)
    ids = [p.id for p in programs]
    with django_assert_num_queries(3):
        assert len(programs_on(program_ids=ids, as_of=dt.date(2025, 1, 15))) == size
    loaded = list(Program.objects.filter(id__in=ids).select_related("customer_champion"))
    with django_assert_num_queries(2):
        programs_on(programs=loaded, as_of=CUT_ON)
    with django_assert_num_queries(2):
        assert len(stages_on(program_ids=ids, as_of=CUT_ON)) == 3 * size
    assert RoadmapStage.objects.count() == 3 * size
