"""Metric health: the latest value against the target trajectory.

The rule is written once for values in hand (`health`) and once for the database
(`health_expression`), side by side and in the same exact form: the shortfall as a
fraction N / M with M > 0, compared without dividing, so PostgreSQL's numeric and Python's
Decimal decide every boundary alike (tests/metrics/test_health.py runs both over the same
cases). Lists of metrics (the API, the portfolio's counts) let the database decide; a
metric rolled back to a past day (`metrics.selectors.metrics_on`) is decided in Python.
"""

from datetime import date
from decimal import Decimal, localcontext

from django.db.models import (
    Case,
    CharField,
    DecimalField,
    Expression,
    ExpressionWrapper,
    Func,
    IntegerField,
    Q,
    Value,
    When,
)
from django.db.models.functions import Abs, Coalesce
from django.db.models.lookups import Exact, GreaterThanOrEqual, IsNull, LessThan, LessThanOrEqual

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
    span = abs(target - (baseline or 0))
    sign = 1 if direction == Direction.INCREASE else -1
    on = latest_period_end
    # Exact products: a value has 20 digits, a day count 6; the default 28 digits could round.
    with localcontext(prec=80):
        if baseline is None or baseline_on is None or target_on is None:
            shortfall, scale = sign * (target - latest_value), 1
        elif on <= baseline_on or target_on <= baseline_on:
            shortfall, scale = sign * ((baseline if on < target_on else target) - latest_value), 1
        elif on >= target_on:
            shortfall, scale = sign * (target - latest_value), 1
        else:
            # expected = baseline + (target − baseline) × d / D, times D (> 0):
            d, D = (on - baseline_on).days, (target_on - baseline_on).days
            shortfall, scale = sign * ((baseline - latest_value) * D + (target - baseline) * d), D
        if shortfall <= 0:
            return Health.ON_TRACK
        if shortfall <= span * AT_RISK_TOLERANCE * scale:
            return Health.AT_RISK
    return Health.OFF_TRACK


class DaysBetween(Func):
    """Whole days from the second date to the first (PostgreSQL's `date - date`)."""

    arity = 2
    template = "(%(expressions)s)"
    arg_joiner = " - "
    output_field = IntegerField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="CAST(julianday(%(expressions)s) AS INTEGER)",
            arg_joiner=") - julianday(",
            **extra,
        )


def health_expression(
    *,
    direction: Expression,
    baseline: Expression,
    baseline_on: Expression,
    target: Expression,
    target_on: Expression,
    latest_value: Expression,
    latest_period_end: Expression,
) -> Case:
    """`health` as a database expression over the same seven inputs (fields, `OuterRef`s).

    Evaluate it where the latest measurement is a row (`MetricQuerySet.with_latest`):
    referencing an annotated subquery several times would run it once per reference.
    """
    decimal = DecimalField(max_digits=60, decimal_places=8)

    def number(expression) -> ExpressionWrapper:
        return ExpressionWrapper(expression, output_field=decimal)

    on = latest_period_end
    sign = Case(When(Exact(direction, Value(Direction.INCREASE.value)), then=Value(1)), default=Value(-1))
    span = Abs(number(target - Coalesce(baseline, Value(Decimal(0)))))
    d, D = DaysBetween(on, baseline_on), DaysBetween(target_on, baseline_on)
    held_at_target = number(sign * (target - latest_value))
    unanchored = Q(IsNull(baseline, True)) | Q(IsNull(baseline_on, True)) | Q(IsNull(target_on, True))
    held = unanchored | Q(LessThanOrEqual(on, baseline_on)) | Q(LessThanOrEqual(target_on, baseline_on))
    held |= Q(GreaterThanOrEqual(on, target_on))
    # Held at the baseline only before the trajectory starts (and before its target date).
    at_baseline = ~unanchored & Q(LessThanOrEqual(on, baseline_on)) & Q(LessThan(on, target_on))
    shortfall = Case(
        When(at_baseline, then=number(sign * (baseline - latest_value))),
        When(held, then=held_at_target),
        default=number(sign * ((baseline - latest_value) * D + (target - baseline) * d)),
        output_field=decimal,
    )
    scale = Case(When(held, then=Value(1)), default=D, output_field=IntegerField())
    return Case(
        When(Q(IsNull(latest_value, True)) | Q(IsNull(latest_period_end, True)), then=Value(Health.NO_DATA.value)),
        When(IsNull(target, True), then=Value(Health.ON_TRACK.value)),
        When(LessThanOrEqual(shortfall, Value(Decimal(0))), then=Value(Health.ON_TRACK.value)),
        When(
            LessThanOrEqual(shortfall, number(span * Value(AT_RISK_TOLERANCE) * scale)),
            then=Value(Health.AT_RISK.value),
        ),
        default=Value(Health.OFF_TRACK.value),
        output_field=CharField(),
    )
