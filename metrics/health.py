"""Metric health: the latest value against the target trajectory.

The rule is written once for values in hand (`health`) and once for the database
(`health_expression`), side by side and in the same exact form: the shortfall as a
fraction N / M with M > 0, compared without dividing, so PostgreSQL's numeric and Python's
Decimal decide every boundary alike (tests/metrics/test_health.py runs both over the same
cases). Lists of metrics (the API, the portfolio's counts) let the database decide; a
metric rolled back to a past day (`metrics.selectors.metrics_on`) is decided in Python.
"""

import re
from datetime import date
from decimal import Decimal, localcontext

from django.db.models import CharField, Expression, Func

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


def _days(later: str, earlier: str, vendor: str) -> str:
    """Whole days from `earlier` to `later` (SQL fragments): PostgreSQL's `date - date`."""
    if vendor == "sqlite":
        return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"
    return f"({later} - {earlier})"


def _health_sql(vendor: str) -> str:
    """`health` in SQL over the slots {direction} … {on}; the comments name `health`'s branches."""
    sign = f"(CASE WHEN {{direction}} = '{Direction.INCREASE.value}' THEN 1 ELSE -1 END)"
    unanchored = "({baseline} IS NULL OR {baseline_on} IS NULL OR {target_on} IS NULL)"
    # Held at an end: unanchored, before or at the start, a target date not after the start, or past the target.
    held = f"({unanchored} OR {{on}} <= {{baseline_on}} OR {{target_on}} <= {{baseline_on}} OR {{on}} >= {{target_on}})"
    at_baseline = f"(NOT {unanchored} AND {{on}} <= {{baseline_on}} AND {{on}} < {{target_on}})"
    big_d, small_d = _days("{target_on}", "{baseline_on}", vendor), _days("{on}", "{baseline_on}", vendor)
    # The shortfall as N / M (M > 0): between the ends, N = expected × D − value × D.
    shortfall = (
        f"(CASE WHEN {at_baseline} THEN {sign} * ({{baseline}} - {{value}})"
        f" WHEN {held} THEN {sign} * ({{target}} - {{value}})"
        f" ELSE {sign} * (({{baseline}} - {{value}}) * {big_d} + ({{target}} - {{baseline}}) * {small_d}) END)"
    )
    scale = f"(CASE WHEN {held} THEN 1 ELSE {big_d} END)"
    span = "ABS({target} - COALESCE({baseline}, 0))"
    return (
        f"(CASE WHEN {{value}} IS NULL OR {{on}} IS NULL THEN '{Health.NO_DATA.value}'"
        f" WHEN {{target}} IS NULL THEN '{Health.ON_TRACK.value}'"
        f" WHEN {shortfall} <= 0 THEN '{Health.ON_TRACK.value}'"
        f" WHEN {shortfall} <= {span} * {AT_RISK_TOLERANCE} * {scale} THEN '{Health.AT_RISK.value}'"
        f" ELSE '{Health.OFF_TRACK.value}' END)"
    )


_SLOTS = ("direction", "baseline", "baseline_on", "target", "target_on", "value", "on")
_SLOT = re.compile(r"\{(" + "|".join(_SLOTS) + r")\}")


class HealthOf(Func):
    """`health` decided by the database: `HealthOf(direction, baseline, baseline_on, target,
    target_on, latest_value, latest_period_end)`, each a field, an annotation or an `OuterRef`.

    The SQL is one fixed text per database with the seven inputs put in their places, so
    building and compiling it costs what seven column references cost (an expression tree
    of `Case`/`When`/lookups for the same rule took ~10 ms a query to build and compile).
    Use it where the latest measurement is a row (`MetricQuerySet.with_health`): an input
    that is itself a subquery would run once per place it appears.
    """

    arity = len(_SLOTS)
    output_field = CharField()

    def as_sql(self, compiler, connection, **extra):
        compiled = dict(zip(_SLOTS, (compiler.compile(e) for e in self.get_source_expressions()), strict=True))
        template = _health_sql(connection.vendor)
        sql, params, at = [], [], 0
        for match in _SLOT.finditer(template):
            fragment, fragment_params = compiled[match.group(1)]
            sql += [template[at : match.start()], fragment]
            params += fragment_params
            at = match.end()
        sql.append(template[at:])
        return "".join(sql), params


def health_expression(
    *,
    direction: Expression,
    baseline: Expression,
    baseline_on: Expression,
    target: Expression,
    target_on: Expression,
    latest_value: Expression,
    latest_period_end: Expression,
) -> HealthOf:
    """`health` as a database expression over the same seven inputs (`HealthOf`)."""
    return HealthOf(direction, baseline, baseline_on, target, target_on, latest_value, latest_period_end)
