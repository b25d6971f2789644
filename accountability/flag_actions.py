"""Flags moved by people: acknowledge, resolve, dismiss, comment on, hand to someone else.

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
from programs.models import Person

from . import events
from .choices import LIVE_FLAG_STATUSES, FlagStatus
from .models import Flag, FlagComment

COMMENT_MAX_CHARS = 5000


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


def _author(flag: Flag, actor: Actor) -> dict:
    """The comment's author columns: the user's person in the flag's organization (if any),
    the user, or the API key."""
    person = None
    if actor.user is not None:
        person = Person.objects.filter(organization_id=flag.organization_id, user=actor.user).first()
    return {"author": person, "author_user": actor.user, "author_key": actor.api_key}


@transaction.atomic
def flag_comment(*, flag: Flag, actor, text: str) -> FlagComment:
    """Add a note to a flag, in any status (a closed flag's thread stays readable and open to
    a last word). The text is required, at most COMMENT_MAX_CHARS characters."""
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Write the comment."})
    if len(text) > COMMENT_MAX_CHARS:
        raise ValidationError({"text": f"A comment has at most {COMMENT_MAX_CHARS} characters."})
    actor = Actor.of(actor)
    return FlagComment.objects.create(flag=flag, text=text, **_author(flag, actor))


@transaction.atomic
def flag_assign(*, flag: Flag, owner: Person, actor, note: str = "") -> Flag:
    """Hand a live flag to another active person of its organization. The move is kept three
    ways: the flag's snapshot and change-log entry, a comment naming both owners (the
    flag's thread shows who handed it to whom), and `events.flag_assigned`, on which the
    new owner is told by email (through the outbox, in this transaction)."""
    if owner.organization_id != flag.organization_id:
        raise ValidationError({"owner": "Choose a person of the flag's organization."})
    if not owner.active:
        raise ValidationError({"owner": f"{owner.name} is no longer active: choose someone who can act."})
    if flag.owner_id == owner.pk:
        raise ValidationError({"owner": f"{owner.name} already owns this flag."})
    actor = Actor.of(actor)
    previous = flag.owner
    note = (note or "").strip()
    text = f"Handed this flag {'from ' + previous.name + ' ' if previous else ''}to {owner.name}."
    text += f" {note}" if note else ""
    flag = _move(flag, allowed_from=LIVE_FLAG_STATUSES, verb="reassigned", actor=actor, reason=text, owner=owner)
    comment = flag_comment(flag=flag, actor=actor, text=text[:COMMENT_MAX_CHARS])
    events.flag_assigned(flag=flag, previous_owner=previous, comment=comment)
    return flag
