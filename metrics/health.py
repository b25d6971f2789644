"""Metric health: the latest value against the target trajectory."""

from datetime import date
from decimal import Decimal

from .choices import Direction, Health

# Worse than expected by at most this share of |target − baseline| is "at risk".
AT_RISK_TOLERANCE = Decimal("0.10")


def expected_value(*, baseline: Decimal, baseline_on: date, target: Decimal, target_on: date, on: date) -> Decimal:
    """Linear interpolation from (baseline_on, baseline) to (target_on, target), held at the ends."""
    if on <= baseline_on or target_on <= baseline_on:
        return baseline if on < target_on else target
    if on >= target_on:
        return target
    share = Decimal((on - baseline_on).days) / Decimal((target_on - baseline_on).days)
    return baseline + (target - baseline) * share


def health(
    *,
    direction: str,
    baseline: Decimal | None,
    baseline_on: date | None,
    target: Decimal | None,
    target_on: date | None,
    latest_value: Decimal | None,
    latest_period_end: date | None,
) -> Health:
    if latest_value is None or latest_period_end is None:
        return Health.NO_DATA
    if target is None:
        # Nothing to compare with: data exists, but no trajectory; treat as on track.
        return Health.ON_TRACK
    if baseline is None or baseline_on is None or target_on is None:
        expected = target
        span = abs(target - baseline) if baseline is not None else abs(target)
    else:
        expected = expected_value(
            baseline=baseline, baseline_on=baseline_on, target=target, target_on=target_on, on=latest_period_end
        )
        span = abs(target - baseline)
    shortfall = (expected - latest_value) if direction == Direction.INCREASE else (latest_value - expected)
    if shortfall <= 0:
        return Health.ON_TRACK
    if shortfall <= span * AT_RISK_TOLERANCE:
        return Health.AT_RISK
    return Health.OFF_TRACK
