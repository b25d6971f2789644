"""Writes on metrics that carry rules or history: guarded changes and their revisions,
deletion refusals, exemptions. Measurements are written by `metrics.measurements`."""

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from programs.actors import Actor, stamp
from programs.dates import check_sane_dates
from programs.models import Person

from .choices import GUARDED_FIELDS, LEVEL_RANK, MetricStatus
from .models import Exemption, Metric, MetricRevision


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
        if field in ("target", "baseline") and new is not None:
            new = Decimal(str(new))
        if field == "unit":  # an empty unit is "" on the model and may arrive as None
            old, new = old or "", new or ""
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

    Changing a guarded field (`GUARDED_FIELDS`: target, target_on, incentive_weight,
    owner, status, baseline, baseline_on, direction, unit, level, kind) needs a reason;
    without one nothing is written. `approved_in` (a ForumSession of the same program)
    records where the change was decided; whether that approval counts is the detector's
    rule (held, on or before the change, the sponsor present). A level may not drop below
    a child's (the cascade stays ordered). Re-running with the same values writes nothing
    more.
    """
    reason = (reason or "").strip()
    if "unit" in changes and changes["unit"] is None:
        changes = {**changes, "unit": ""}  # no unit is stored as "", never null
    guarded = guarded_changes(metric, changes)
    if guarded and not reason:
        raise ValidationError({"change_reason": f"Changing {', '.join(guarded)} needs a reason (change_reason)."})
    if approved_in is not None and approved_in.forum.program_id != metric.program_id:
        raise ValidationError({"approved_in": "The approving session must be a forum of this metric's program."})
    new_status = changes.get("status", metric.status)
    if new_status not in MetricStatus.values:
        raise ValidationError({"status": f"'{new_status}' is not a metric status."})
    if "level" in guarded:
        _check_children_levels(metric, guarded["level"][1])
    replaced_by = changes.get("replaced_by", metric.replaced_by)
    if replaced_by is not None and (replaced_by.program_id != metric.program_id or replaced_by.pk == metric.pk):
        raise ValidationError({"replaced_by": "The replacement must be another metric of the same program."})

    at = at or timezone.now()
    for field, value in changes.items():
        setattr(metric, field, value)
    metric.full_clean(exclude=["program"])
    metric._change_reason = reason
    actor = Actor.of(actor)
    stamp(metric, actor)
    metric.save()
    MetricRevision.objects.bulk_create(
        MetricRevision(
            metric=metric,
            field=field,
            old_value=_as_text(old),
            new_value=_as_text(new),
            reason=reason,
            **actor.fields("changed_by"),
            changed_at=at,
            approved_in=approved_in,
        )
        for field, (old, new) in guarded.items()
    )
    return metric


def _check_children_levels(metric: Metric, level: str) -> None:
    """A metric moved down the cascade may not end up below one of its children. One query."""
    higher = [
        name
        for name, child_level in metric.children.values_list("name", "level")
        if LEVEL_RANK.get(child_level, 0) > LEVEL_RANK.get(level, 0)
    ]
    if higher:
        raise ValidationError(
            {"level": f"A {level} metric cannot sit above higher-level metrics: move {', '.join(higher)} first."}
        )


#: The rule, as every entry point shows it when it refuses.
METRIC_DELETE_RULE = "A metric with measurements or revisions is never deleted: retire it instead."


def metric_delete_refusal(metric: Metric) -> str | None:
    """Why `metric` may not be deleted (the message every entry point shows), or None.

    Read-only, for pages that offer or refuse a delete up front; `metric_delete` decides
    again under a lock.
    """
    if metric.measurements.exists() or metric.revisions.exists():
        return METRIC_DELETE_RULE
    if metric.children.exists():
        return "Metrics sit under this one in the cascade: move or delete them first."
    return None


@transaction.atomic
def metric_delete(*, metric: Metric, actor=None) -> None:
    """Delete a metric that was never measured nor revised; any other is only retired.

    Refusals raise ValidationError with the rule (nothing written). The metric row is
    locked first: a measurement written meanwhile waits for the delete (its foreign key
    needs the row), then fails, rather than slipping in before it. Not idempotent.
    """
    locked = Metric.objects.select_for_update().get(pk=metric.pk)
    refusal = metric_delete_refusal(locked)
    if refusal:
        raise ValidationError(refusal)
    stamp(locked, actor)  # the deletion's history row names who deleted it
    locked.delete()


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
    check_sane_dates(starts_on=starts_on, ends_on=ends_on)
    if ends_on is not None and ends_on < starts_on:
        raise ValidationError({"ends_on": "The exemption cannot end before it starts."})
    return Exemption.objects.create(
        metric=metric, person=person, reason=reason, starts_on=starts_on, ends_on=ends_on, granted_by=granted_by
    )
