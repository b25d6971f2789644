"""metrics.selectors: a metric as it stood on a date, its health then, and the cascade."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from metrics.choices import Direction, Health, Kind, Level, MetricStatus
from metrics.selectors import (
    deadline_later,
    in_force,
    metric_health_counts,
    metric_tree,
    metrics_on,
    revision_value,
    target_easier,
)
from metrics.services import metric_update
from tests.factories import MeasurementFactory, MetricFactory, PersonFactory, ProgramFactory

pytestmark = pytest.mark.django_db

PAST = dt.date(2025, 6, 30)


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)


def only(program, as_of, **kw):
    (metric,) = metrics_on(program_ids=[program.id], as_of=as_of, **kw)
    return metric


@pytest.fixture
def program(organization):
    return ProgramFactory(organization=organization)


@pytest.fixture
def metric(program):
    """50 → 70 from 2024-01-01 to 2025-01-01; measured 60 for January 2025 (past the target
    date the expected value is the target: 10 short of 70, more than 10% of the 20 asked)."""
    metric = MetricFactory(
        program=program,
        baseline=Decimal("50"),
        baseline_on=dt.date(2024, 1, 1),
        target=Decimal("70"),
        target_on=dt.date(2025, 1, 1),
    )
    MeasurementFactory(metric=metric, period_end=dt.date(2025, 1, 31), value=Decimal("60"))
    return metric


def test_a_target_loosened_today_shows_the_old_target_and_its_health_on_a_past_date(program, metric):
    metric_update(metric=metric, changes={"target": Decimal("55")}, reason="Market is harder than planned")
    today = timezone.localdate()

    then = only(program, PAST)
    assert then.target == Decimal("70")
    assert then.health == Health.OFF_TRACK  # 60 against 70
    assert then.changed_since == ("target",)
    now = only(program, today)
    assert now.target == Decimal("55")
    assert now.health == Health.ON_TRACK  # 60 against 55
    assert now.changed_since == ()


def test_a_revision_is_in_force_from_the_end_of_its_own_day(program, metric):
    day = dt.date(2025, 3, 10)
    metric_update(metric=metric, changes={"target": Decimal("62")}, reason="r", at=at(day, 23))
    assert only(program, day - dt.timedelta(days=1)).target == Decimal("70")
    assert only(program, day).target == Decimal("62")


def test_several_revisions_after_the_date_roll_back_to_the_first_old_value(program, metric):
    metric_update(metric=metric, changes={"target": Decimal("65")}, reason="r", at=at(dt.date(2025, 8, 1)))
    metric_update(metric=metric, changes={"target": Decimal("58")}, reason="r", at=at(dt.date(2025, 9, 1)))
    assert only(program, PAST).target == Decimal("70")
    assert only(program, dt.date(2025, 8, 15)).target == Decimal("65")


def test_deadline_baseline_owner_weight_and_status_as_in_force(program, metric):
    metric_update(metric=metric, changes={"incentive_weight": 20}, reason="r", at=at(dt.date(2024, 1, 1)))
    old_owner = metric.owner
    new_owner = PersonFactory(organization=program.organization, name="Nora New")
    metric_update(
        metric=metric,
        changes={
            "target_on": dt.date(2026, 1, 1),
            "owner": new_owner,
            "incentive_weight": 0,
            "status": MetricStatus.RETIRED,
        },
        reason="Reorganisation",
        at=at(dt.date(2025, 7, 15)),
    )
    metric.refresh_from_db()
    then = only(program, PAST, detail=True)
    assert then.target_on == dt.date(2025, 1, 1)
    assert (then.owner_id, then.owner_name) == (old_owner.id, old_owner.name)
    assert then.status == MetricStatus.ACTIVE
    assert then.incentive_weight == 20
    assert set(then.changed_since) == {"target_on", "owner", "status", "incentive_weight"}
    assert then.changed_since_text.startswith("target on")
    now = only(program, dt.date(2025, 7, 15), detail=True)
    assert (now.owner_name, now.status, now.target_on) == ("Nora New", MetricStatus.RETIRED, dt.date(2026, 1, 1))


def test_the_deadline_in_force_drives_the_health(program, metric):
    """Moving the deadline a year later (on 2025-07-01) makes January's 60 on track against
    the new trajectory; before the move it was off track."""
    metric_update(metric=metric, changes={"target_on": dt.date(2026, 1, 1)}, reason="r", at=at(dt.date(2025, 7, 1)))
    assert only(program, dt.date(2025, 6, 30)).health == Health.OFF_TRACK
    # Expected on 2025-01-31: 50 + 20 × 396/731 ≈ 60.8 → 0.8 short, within 10% of 20: at risk.
    assert only(program, dt.date(2025, 7, 1)).health == Health.AT_RISK


def test_latest_value_is_the_last_period_ending_on_or_before_the_date(program, metric):
    MeasurementFactory(metric=metric, period_end=dt.date(2025, 6, 30), value=Decimal("71"))
    MeasurementFactory(metric=metric, period_end=dt.date(2025, 7, 31), value=Decimal("40"))
    on_the_day = only(program, dt.date(2025, 6, 30))
    assert (on_the_day.latest_value, on_the_day.latest_period_end) == (Decimal("71"), dt.date(2025, 6, 30))
    assert on_the_day.health == Health.ON_TRACK
    day_before = only(program, dt.date(2025, 6, 29))
    assert day_before.latest_period_end == dt.date(2025, 1, 31) and day_before.health == Health.OFF_TRACK
    assert only(program, dt.date(2025, 1, 30)).health == Health.NO_DATA


def test_health_counts_count_the_metrics_active_on_the_date(program, metric):
    other = MetricFactory(program=program, target=None)
    MeasurementFactory(metric=other, period_end=dt.date(2025, 1, 31), value=Decimal("1"))
    metric_update(metric=other, changes={"status": MetricStatus.RETIRED}, reason="r", at=at(dt.date(2025, 8, 1)))
    assert metric_health_counts(program_ids=[program.id], as_of=PAST)[program.id] == {
        "off_track": 1,
        "at_risk": 0,
        "on_track": 1,
        "no_data": 0,
    }
    assert metric_health_counts(program_ids=[program.id], as_of=dt.date(2025, 8, 1))[program.id]["on_track"] == 0
    # Changes of fields the counts do not read (owner, weight), and of the target, after the date.
    metric_update(
        metric=metric,
        changes={"owner": PersonFactory(organization=program.organization), "incentive_weight": 5, "target": 55},
        reason="r",
        at=at(dt.date(2025, 9, 1)),
    )
    assert metric_health_counts(program_ids=[program.id], as_of=PAST)[program.id]["off_track"] == 1
    assert metric_health_counts(program_ids=[program.id], as_of=dt.date(2025, 9, 1))[program.id]["on_track"] == 1
    assert metric_health_counts(program_ids=[], as_of=PAST) == {}


def test_the_tree_nests_and_orders_the_cascade(program, metric):
    tactical = MetricFactory(program=program, parent=metric, level=Level.TACTICAL, kind=Kind.PERCEPTION, name="b")
    MetricFactory(program=program, parent=tactical, level=Level.OPERATIONAL, kind=Kind.OPERATIONAL, name="Zed")
    MetricFactory(program=program, parent=tactical, level=Level.OPERATIONAL, kind=Kind.OPERATIONAL, name="alpha")
    retired = MetricFactory(program=program, parent=tactical, level=Level.OPERATIONAL, name="Aaa", status="retired")
    (root,) = metric_tree(program_id=program.id, as_of=PAST)
    assert root.metric.id == metric.id
    (child,) = root.children
    assert [n.metric.name for n in child.children] == ["alpha", "Zed", "Aaa"]  # retired last
    assert child.children[-1].metric.id == retired.id


def test_revision_values_and_loosening_rules():
    assert revision_value("target", "55.5") == Decimal("55.5")
    assert revision_value("target_on", "2025-01-01") == dt.date(2025, 1, 1)
    assert revision_value("owner", "12") == 12 and revision_value("owner", None) is None
    assert revision_value("incentive_weight", "20") == 20
    assert revision_value("target", "not a number") is None
    assert in_force("now", []) == "now" and in_force("now", [{"old_value": "then"}, {"old_value": "x"}]) == "then"
    assert target_easier(Direction.INCREASE, Decimal("70"), Decimal("69.9"))
    assert not target_easier(Direction.INCREASE, Decimal("70"), Decimal("70"))
    assert target_easier(Direction.DECREASE, Decimal("200"), Decimal("201"))
    assert target_easier(Direction.DECREASE, Decimal("200"), None) and not target_easier("increase", None, 1)
    assert deadline_later(dt.date(2025, 1, 1), dt.date(2025, 1, 2)) and not deadline_later(None, dt.date(2025, 1, 1))


@pytest.mark.parametrize("size", [1, 8])
def test_query_counts_do_not_grow(organization, size, django_assert_num_queries):
    programs = [ProgramFactory(organization=organization) for _ in range(size)]
    for program in programs:
        for i in range(3):
            metric = MetricFactory(program=program)
            MeasurementFactory(metric=metric, period_end=dt.date(2025, 1, 31), value=Decimal(50 + i))
            new_owner = PersonFactory(organization=organization)
            metric_update(metric=metric, changes={"target": Decimal("60"), "owner": new_owner}, reason="r", at=at(PAST))
    ids = [p.id for p in programs]
    with django_assert_num_queries(2):
        assert len(metrics_on(program_ids=ids, as_of=PAST)) == 3 * size
    with django_assert_num_queries(2):
        metric_health_counts(program_ids=ids, as_of=PAST)
    with django_assert_num_queries(3):  # + the metrics revised since, rolled back one by one
        counts = metric_health_counts(program_ids=ids, as_of=PAST - dt.timedelta(days=1))
    assert sum(sum(c.values()) for c in counts.values()) == 3 * size
    with django_assert_num_queries(3):  # + the names of the owners in force then
        metric_tree(program_id=ids[-1], as_of=PAST - dt.timedelta(days=1))
    with django_assert_num_queries(2):  # nobody changed since: no name to look up
        metric_tree(program_id=ids[-1], as_of=PAST)
