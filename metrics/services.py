"""Writes on metrics that carry rules or history."""

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from programs.models import Person

from .choices import GUARDED_FIELDS, MetricStatus
from .models import Exemption, Measurement, Metric, MetricRevision


def _as_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, Person):
        return str(value.pk)
    if isinstance(value, Metric):
        return str(value.pk)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    return str(value)


def guarded_changes(metric: Metric, changes: dict) -> dict[str, tuple]:
    """{field: (old, new)} for each guarded field whose value actually changes."""
    out = {}
    for field in GUARDED_FIELDS:
        if field not in changes:
            continue
        old = getattr(metric, field)
        new = changes[field]
        if field == "target" and new is not None:
            new = Decimal(str(new))
        if _as_text(old) != _as_text(new):
            out[field] = (old, new)
    return out


@transaction.atomic
def metric_update(
    *,
    metric: Metric,
    changes: dict,
    reason: str = "",
    actor=None,
    approved_in=None,
    at=None,
) -> Metric:
    """Apply `changes` to a metric; each guarded field that changes writes a MetricRevision.

    Changing target, target_on, incentive_weight, owner or status needs a reason; without
    one nothing is written. `approved_in` (a ForumSession of the same program) records
    where the change was decided. Re-running with the same values writes nothing more.
    """
    reason = (reason or "").strip()
    guarded = guarded_changes(metric, changes)
    if guarded and not reason:
        raise ValidationError({"change_reason": f"Changing {', '.join(guarded)} needs a reason (change_reason)."})
    if approved_in is not None and approved_in.forum.program_id != metric.program_id:
        raise ValidationError({"approved_in": "The approving session must be a forum of this metric's program."})
    new_status = changes.get("status", metric.status)
    if new_status not in MetricStatus.values:
        raise ValidationError({"status": f"'{new_status}' is not a metric status."})
    replaced_by = changes.get("replaced_by", metric.replaced_by)
    if replaced_by is not None and (replaced_by.program_id != metric.program_id or replaced_by.pk == metric.pk):
        raise ValidationError({"replaced_by": "The replacement must be another metric of the same program."})

    at = at or timezone.now()
    for field, value in changes.items():
        setattr(metric, field, value)
    metric.full_clean(exclude=["program"])
    metric._change_reason = reason
    metric.save()
    MetricRevision.objects.bulk_create(
        MetricRevision(
            metric=metric,
            field=field,
            old_value=_as_text(old),
            new_value=_as_text(new),
            reason=reason,
            changed_by=actor if getattr(actor, "is_authenticated", False) and getattr(actor, "pk", None) else None,
            changed_at=at,
            approved_in=approved_in,
        )
        for field, (old, new) in guarded.items()
    )
    return metric


def metric_delete(*, metric: Metric) -> None:
    """Delete a metric that was never measured; a measured metric is only ever retired."""
    if metric.measurements.exists():
        raise ValidationError("This metric has measurements: retire it instead of deleting it.")
    metric.delete()


def validate_value(value) -> Decimal:
    try:
        value = Decimal(str(value))
    except (ArithmeticError, ValueError, TypeError):
        raise ValidationError({"value": "A number is required."}) from None
    if not value.is_finite():
        raise ValidationError({"value": "The value must be a finite number (not NaN or Infinity)."})
    if abs(value) >= Decimal("1e16"):
        raise ValidationError({"value": "The value is out of range (at most 16 digits before the point)."})
    return value.quantize(Decimal("0.0001"))


@transaction.atomic
def measurement_upsert(*, metric: Metric, period_end: date, value, source: str = "") -> tuple[Measurement, bool]:
    """Write the value of (metric, period_end); writing it again updates it.

    Idempotent: the same call twice leaves one row and no extra history. A changed value
    keeps the old one in the measurement's history.
    """
    value = validate_value(value)
    existing = Measurement.objects.select_for_update().filter(metric=metric, period_end=period_end).first()
    if existing is None:
        return Measurement.objects.create(metric=metric, period_end=period_end, value=value, source=source), True
    if existing.value == value and existing.source == source:
        return existing, False
    existing.value = value
    existing.source = source
    existing.recorded_at = timezone.now()
    existing.save()
    return existing, False


@transaction.atomic
def exemption_grant(
    *,
    metric: Metric,
    person: Person,
    reason: str,
    starts_on: date,
    ends_on: date | None = None,
    granted_by: Person | None = None,
) -> Exemption:
    """Excuse a person from a metric. The exemption counts against the metric's integrity."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "An exemption needs a reason."})
    org_id = metric.program.organization_id
    if person.organization_id != org_id or (granted_by and granted_by.organization_id != org_id):
        raise ValidationError({"person": "People must belong to the metric's organization."})
    if ends_on is not None and ends_on < starts_on:
        raise ValidationError({"ends_on": "The exemption cannot end before it starts."})
    return Exemption.objects.create(
        metric=metric, person=person, reason=reason, starts_on=starts_on, ends_on=ends_on, granted_by=granted_by
    )
