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
