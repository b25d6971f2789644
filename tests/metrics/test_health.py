import datetime as dt
from decimal import Decimal as D

import pytest

from metrics.choices import Health
from metrics.health import expected_value, health
from metrics.models import Metric
from tests.factories import MeasurementFactory, MetricFactory

START, END = dt.date(2024, 1, 1), dt.date(2025, 1, 1)  # 366 days


def h(value, on=END, direction="increase", baseline=D("50"), target=D("70")):
    return health(
        direction=direction,
        baseline=baseline,
        baseline_on=START,
        target=target,
        target_on=END,
        latest_value=None if value is None else D(value),
        latest_period_end=on,
    )


def test_expected_value_is_interpolated_and_held_at_the_ends():
    kw = dict(baseline=D("50"), baseline_on=START, target=D("70"), target_on=END)
    assert expected_value(**kw, on=START - dt.timedelta(days=10)) == D("50")
    assert expected_value(**kw, on=START) == D("50")
    assert expected_value(**kw, on=dt.date(2024, 7, 2)) == D("50") + D("20") * D(183) / D(366)
    assert expected_value(**kw, on=END) == D("70")
    assert expected_value(**kw, on=END + dt.timedelta(days=100)) == D("70")


def test_no_measurement_is_no_data():
    assert h(None, on=None) == Health.NO_DATA


@pytest.mark.parametrize(
    "value, expected",
    [
        ("70.0001", Health.ON_TRACK),
        ("70", Health.ON_TRACK),  # equal counts as on track
        ("69.9999", Health.AT_RISK),
        ("68", Health.AT_RISK),  # worse by exactly 10% of |70 − 50| = 2
        ("67.9999", Health.OFF_TRACK),
    ],
)
def test_increase_boundaries(value, expected):
    assert h(value) == expected


@pytest.mark.parametrize(
    "value, expected",
    [("20", Health.ON_TRACK), ("23", Health.AT_RISK), ("23.0001", Health.OFF_TRACK), ("19", Health.ON_TRACK)],
)
def test_decrease_boundaries(value, expected):
    # Wait time from 50 down to 20: tolerance 10% × 30 = 3.
    assert h(value, direction="decrease", baseline=D("50"), target=D("20")) == expected


def test_compared_with_the_trajectory_on_its_period_end():
    mid = dt.date(2024, 7, 2)  # expected 60.0 (183 of 366 days)
    assert h("60", on=mid) == Health.ON_TRACK
    assert h("58", on=mid) == Health.AT_RISK
    assert h("57.99", on=mid) == Health.OFF_TRACK


@pytest.mark.django_db
def test_model_health_uses_the_latest_measurement(django_assert_num_queries):
    metric = MetricFactory(baseline=D("50"), target=D("70"), baseline_on=START, target_on=END)
    MeasurementFactory(metric=metric, period_end=END - dt.timedelta(days=31), value=D("10"))
    MeasurementFactory(metric=metric, period_end=END, value=D("71"))
    assert Metric.objects.get(pk=metric.pk).health == Health.ON_TRACK
    with django_assert_num_queries(1):
        rows = list(Metric.objects.with_latest())
        assert [m.health for m in rows] == [Health.ON_TRACK]


# The database decides the same rule (`health_expression`, through `with_health`): every
# case above and the held ends, decided both ways, must agree.
MID = dt.date(2024, 7, 2)  # 183 of 366 days: expected 60 on the way from 50 to 70
CASES = [
    # (direction, baseline, baseline_on, target, target_on, value, period_end)
    ("increase", "50", START, "70", END, "70.0001", END),
    ("increase", "50", START, "70", END, "70", END),
    ("increase", "50", START, "70", END, "69.9999", END),
    ("increase", "50", START, "70", END, "68", END),
    ("increase", "50", START, "70", END, "67.9999", END),
    ("decrease", "50", START, "20", END, "20", END),
    ("decrease", "50", START, "20", END, "23", END),
    ("decrease", "50", START, "20", END, "23.0001", END),
    ("increase", "50", START, "70", END, "60", MID),
    ("increase", "50", START, "70", END, "58", MID),
    ("increase", "50", START, "70", END, "57.9999", MID),
    ("increase", "50", START, "70", END, "57.99", MID),
    # a third of the way, where dividing first would round: 50 + 20 × 122 / 366 = 56.666…
    ("increase", "50", START, "70", END, "54.6667", dt.date(2024, 5, 2)),
    ("increase", "50", START, "70", END, "54.6666", dt.date(2024, 5, 2)),
    ("increase", "50", START, "70", END, "49", START - dt.timedelta(days=10)),  # held at the baseline
    ("increase", "50", START, "70", END, "48", START),  # at risk: 2 under 50
    ("increase", "50", START, "70", END, "68", END + dt.timedelta(days=100)),  # held at the target
    ("increase", "50", END, "70", START, "68", MID),  # target date before the baseline's: held
    ("increase", None, None, "70", END, "63", END),  # no baseline: 10% of |70|
    ("increase", None, None, "70", END, "62.9999", END),
    ("decrease", "50", None, "20", END, "22", MID),  # no baseline date: against the target
    ("increase", "50", START, "70", None, "69", MID),
    ("increase", "50", START, None, None, "1", END),  # no target: on track
    ("increase", "50", START, "70", END, None, None),  # no measurement: no data
]


@pytest.mark.django_db
def test_the_database_decides_health_exactly_as_python():
    metrics = {}
    for i, (direction, baseline, baseline_on, target, target_on, value, period_end) in enumerate(CASES):
        metric = MetricFactory(
            direction=direction,
            baseline=None if baseline is None else D(baseline),
            baseline_on=baseline_on,
            target=None if target is None else D(target),
            target_on=target_on,
        )
        if value is not None:
            MeasurementFactory(metric=metric, period_end=period_end, value=D(value))
        metrics[metric.pk] = i
    decided = dict(Metric.objects.filter(pk__in=metrics).with_health().values_list("id", "latest_health"))
    expected = {}
    for pk, i in metrics.items():
        direction, baseline, baseline_on, target, target_on, value, period_end = CASES[i]
        expected[pk] = health(
            direction=direction,
            baseline=None if baseline is None else D(baseline),
            baseline_on=baseline_on,
            target=None if target is None else D(target),
            target_on=target_on,
            latest_value=None if value is None else D(value),
            latest_period_end=period_end,
        ).value
    assert decided == expected
    # Both sides of each boundary are in the cases: every state is reached.
    assert set(expected.values()) == {h.value for h in Health}


@pytest.mark.django_db
def test_with_health_on_a_past_day_reads_the_measurement_of_that_day():
    metric = MetricFactory(baseline=D("50"), target=D("70"), baseline_on=START, target_on=END)
    MeasurementFactory(metric=metric, period_end=MID, value=D("50"))  # off track then
    MeasurementFactory(metric=metric, period_end=END, value=D("70"))  # on track now
    on = dict(Metric.objects.filter(pk=metric.pk).with_health().values_list("id", "latest_health"))
    then = dict(Metric.objects.filter(pk=metric.pk).with_health(as_of=MID).values_list("id", "latest_health"))
    before = dict(Metric.objects.filter(pk=metric.pk).with_health(as_of=START).values_list("id", "latest_health"))
    assert (on, then, before) == ({metric.pk: "on_track"}, {metric.pk: "off_track"}, {metric.pk: "no_data"})
