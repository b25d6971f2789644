"""The events the flag lifecycle and the risk assessment announce.

`accountability` may not import `notifications` (it sits above it, SPEC section 1), so
the domain announces what happened through these three signals and `notifications`
subscribes to them when its app is ready (`notifications/receivers.py`). They are the
only signals of the project: they carry facts, not business flow.

All are sent inside the transaction of the change, with the flags or assessments
concerned: what a receiver writes (the outbox rows of the emails and webhook deliveries
the change calls for) commits with the change or rolls back with it, and anything it
sends goes through tasks it queues on commit. A receiver that raises rolls the change
back, rather than letting it commit without its messages.

- `flags_changed(raised, escalated, resolved, climbed)`: flags opened, flags whose
  severity went up (with the previous severity), flags resolved (by a scan or a person),
  flags that climbed the escalation ladder (with the previous level and the person now
  told, `accountability.escalation`).
- `flag_assigned(flag, previous_owner, comment)`: a person handed a flag to someone else
  (the comment names both); the new owner is to be told.
- `risk_level_changed(changes)`: (assessment, previous level) pairs whose risk level
  differs from the program's previous assessment.
- `nudges_found(organization_id, nudges, as_of)`: sent at the end of every scan, with the
  nudges it found due (`accountability.nudges`, maybe none); the receiver writes each
  person's one email of the day (new nudges, and the day's low and medium flags for those
  who chose a daily digest).
"""

from collections.abc import Sequence

from django.dispatch import Signal

from programs.models import Person

from .models import Flag, FlagComment, RiskAssessment

flags_changed_signal = Signal()
flag_assigned_signal = Signal()
risk_level_changed_signal = Signal()
nudges_found_signal = Signal()


def flags_changed(
    *,
    raised: Sequence[Flag] = (),
    escalated: Sequence[tuple[Flag, str]] = (),
    resolved: Sequence[Flag] = (),
    climbed: Sequence[tuple[Flag, int, Person]] = (),
) -> None:
    """Announce a batch of flag events (a scan's, or one person's move)."""
    if raised or escalated or resolved or climbed:
        flags_changed_signal.send(sender=Flag, raised=raised, escalated=escalated, resolved=resolved, climbed=climbed)


def risk_level_changed(changes: Sequence[tuple[RiskAssessment, str | None]]) -> None:
    """Announce programs whose early-bail risk level moved."""
    if changes:
        risk_level_changed_signal.send(sender=RiskAssessment, changes=changes)


def flag_assigned(*, flag: Flag, previous_owner, comment: FlagComment) -> None:
    """Announce that `flag` now belongs to `flag.owner` (it was `previous_owner`'s)."""
    flag_assigned_signal.send(sender=Flag, flag=flag, previous_owner=previous_owner, comment=comment)


def nudges_found(organization_id: int, nudges: Sequence, *, as_of) -> None:
    """Announce the end of a scan for `as_of` with the nudges it found due (`accountability.nudges.Nudge`)."""
    nudges_found_signal.send(sender=Flag, organization_id=organization_id, nudges=nudges, as_of=as_of)
