import pytest

from programs.models import Program
from tests.factories import ForumFactory, MetricFactory, ProgramFactory, RoadmapStageFactory

pytestmark = pytest.mark.django_db

ALL_MESSAGES = [
    "A customer vision is written.",
    "A business case is written.",
    "An executive sponsor is named.",
    "The customer champion is an officer of the company.",
    "At least one active accountability forum.",
    "At least one strategic metric of kind outcome.",
    "The first roadmap stage has a budget.",
]


def ready_program():
    program = ProgramFactory(status="draft")
    ForumFactory(program=program)
    MetricFactory(program=program, level="strategic", kind="outcome")
    RoadmapStageFactory(program=program, sequence=1, budget=50000)
    return program


def test_a_complete_program_is_ready():
    assert ready_program().readiness == []


def test_an_empty_program_lists_every_condition_in_order():
    program = ProgramFactory(
        status="draft", customer_vision="", business_case="", executive_sponsor=None, customer_champion=None
    )
    assert program.readiness == ALL_MESSAGES


@pytest.mark.parametrize(
    "breaker, message",
    [
        (lambda p: Program.objects.filter(pk=p.pk).update(customer_vision=""), ALL_MESSAGES[0]),
        (lambda p: Program.objects.filter(pk=p.pk).update(business_case=""), ALL_MESSAGES[1]),
        (lambda p: Program.objects.filter(pk=p.pk).update(executive_sponsor=None), ALL_MESSAGES[2]),
        (
            lambda p: p.customer_champion.__class__.objects.filter(pk=p.customer_champion_id).update(is_officer=False),
            ALL_MESSAGES[3],
        ),
        (lambda p: p.forums.update(active=False), ALL_MESSAGES[4]),
        (lambda p: p.metrics.update(kind="perception"), ALL_MESSAGES[5]),
        (lambda p: p.metrics.update(level="tactical"), ALL_MESSAGES[5]),
        (lambda p: p.metrics.update(status="retired"), ALL_MESSAGES[5]),
        (lambda p: p.stages.update(budget=None), ALL_MESSAGES[6]),
        (lambda p: RoadmapStageFactory(program=p, sequence=0, budget=None), ALL_MESSAGES[6]),
    ],
)
def test_each_condition_alone_makes_the_program_unready(breaker, message):
    program = ready_program()
    breaker(program)
    assert Program.objects.get(pk=program.pk).readiness == [message]


def test_readiness_of_a_list_is_one_query(django_assert_num_queries):
    for _ in range(5):
        ready_program()
    with django_assert_num_queries(1):
        programs = list(Program.objects.with_readiness())
        assert [p.readiness for p in programs] == [[]] * 5
