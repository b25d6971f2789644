"""Flags moved by people: acknowledge, resolve, dismiss.

Every move is a conditional update (`filter(pk=..., status__in=...).update(...)`, then
the count), so two people acting on one flag at once cannot both succeed. The actor is
a person's user or an API key (`programs.actors.Actor`): it goes in `acknowledged_by` /
`acknowledged_by_key` or `resolved_by` / `resolved_by_key`, and on the flag's history
snapshot and change-log entry (an `update()` sends no signal, so the move writes them).
"""

from collections.abc import Collection

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from programs.actors import Actor
from programs.changelog import bulk_history

from . import events
from .choices import LIVE_FLAG_STATUSES, FlagStatus
from .models import Flag


def _move(flag: Flag, *, allowed_from: Collection[str], verb: str, actor: Actor, reason: str = "", **values) -> Flag:
    """Apply `values` only if the flag is still in one of `allowed_from`; refuse otherwise.
    The flag as written gets its snapshot and change-log entry, naming `actor`."""
    updated = Flag.objects.filter(pk=flag.pk, status__in=list(allowed_from)).update(**values)
    if updated != 1:
        current = Flag.objects.filter(pk=flag.pk).values_list("status", flat=True).first()
        if current is None:
            raise ValidationError("This flag no longer exists.")
        raise ValidationError(f"A flag that is {current} cannot be {verb}.", code="invalid_transition")
    # Re-read under the row lock the update took: the snapshot is the row as it now is.
    flag.refresh_from_db()
    bulk_history(Flag, [flag], update=True, actor=actor, reason=reason)
    return flag


@transaction.atomic
def flag_acknowledge(*, flag: Flag, actor) -> Flag:
    """Someone owns the problem: open → acknowledged. Refused from any other status.

    Rescans keep the flag acknowledged while the condition lasts. Not idempotent by
    design: acknowledging twice is refused with a clear message.
    """
    actor = Actor.of(actor)
    return _move(
        flag,
        allowed_from=[FlagStatus.OPEN],
        verb="acknowledged",
        status=FlagStatus.ACKNOWLEDGED,
        actor=actor,
        acknowledged_at=timezone.now(),
        **actor.fields("acknowledged_by"),
    )


@transaction.atomic
def flag_resolve(*, flag: Flag, actor, note: str = "") -> Flag:
    """A person says the problem is fixed: open/acknowledged → resolved, with an optional note.

    If a later scan still finds the condition it raises a new flag (the resolution is
    kept as history). Announces `flags_changed(resolved=...)` in the transaction.
    """
    actor = Actor.of(actor)
    flag = _move(
        flag,
        allowed_from=LIVE_FLAG_STATUSES,
        verb="resolved",
        status=FlagStatus.RESOLVED,
        resolved_at=timezone.now(),
        actor=actor,
        reason=(note or "").strip(),
        closed_on=timezone.localdate(),  # open until the day the person acted, not on it
        **actor.fields("resolved_by"),
        resolution_note=(note or "").strip(),
    )
    events.flags_changed(resolved=[flag])  # in the transaction: its messages commit with it
    return flag


@transaction.atomic
def flag_dismiss(*, flag: Flag, actor, reason: str) -> Flag:
    """A person decides the flag does not call for action: open/acknowledged → dismissed.

    The reason is required. The same (kind, subject) is not raised again until its
    evidence fingerprint changes (a new revision, a new missed session...).
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why this flag is dismissed."})
    actor = Actor.of(actor)
    return _move(
        flag,
        allowed_from=LIVE_FLAG_STATUSES,
        verb="dismissed",
        status=FlagStatus.DISMISSED,
        resolved_at=timezone.now(),
        actor=actor,
        reason=reason,
        closed_on=timezone.localdate(),
        **actor.fields("resolved_by"),
        resolution_note=reason,
    )
