"""Meeting mode (SPEC §5): record a forum session after it happened, in one transaction.

`session_record` writes, all or nothing: the session's status and notes; each person's
attendance (present, absent, or represented by a delegate); the outcome of each agenda
item (and new items); new action items with owners and due dates; and the metric
changes decided there, each through `metrics.services.metric_update` with its reason and
`approved_in` = this session (so the revision and the negotiated-away detector read it
like any other). Called by the dashboard's meeting mode and `POST /api/v1/sessions/{id}/record/`.

Who may record (`may_record`): the forum's chair, the office and integration users of its
organization. Every row written carries the actor (user or API key) in its history.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from metrics.choices import GUARDED_FIELDS
from metrics.models import Metric
from metrics.services import metric_update
from programs.access import role_in
from programs.actors import Actor, stamp
from programs.choices import Role
from programs.dates import check_sane_dates
from programs.models import Person

from .choices import AgendaOutcome, SessionStatus
from .models import ActionItem, AgendaItem, Attendance, ForumSession

PRESENCE = ("present", "absent", "delegate")
# The metric fields a forum decides on in meeting mode (the rest stay in the admin and the API).
DECIDED_FIELDS = ("target", "target_on", "incentive_weight", "owner", "baseline", "status")


@dataclass
class AttendanceEntry:
    person: Person
    presence: str  # present, absent or delegate
    delegate: Person | None = None


@dataclass
class AgendaEntry:
    outcome: str
    item: AgendaItem | None = None  # an item already on the agenda, else a new one titled:
    title: str = ""
    customer_item: bool = True


@dataclass
class ActionEntry:
    owner: Person
    description: str
    due_on: dt.date


@dataclass
class MetricChange:
    metric: Metric
    field: str
    value: Any
    reason: str


@dataclass
class SessionRecord:
    status: str
    notes: str | None = None
    attendance: list[AttendanceEntry] = field(default_factory=list)
    agenda: list[AgendaEntry] = field(default_factory=list)
    actions: list[ActionEntry] = field(default_factory=list)
    metric_changes: list[MetricChange] = field(default_factory=list)


def metric_value(metric: Metric, field_name: str, raw: Any) -> Any:
    """A decided value as typed in a form or sent as JSON, as the metric field takes it:
    a Decimal, a date, a whole number, a Person of the organization or a status. Raises
    ValidationError naming the field."""
    text = "" if raw is None else str(raw).strip()
    try:
        if field_name == "owner":
            person = Person.objects.filter(pk=int(text), organization_id=metric.program.organization_id).first()
            if person is None:
                raise ValueError
            return person
        if field_name in ("target", "baseline"):
            value = Decimal(text)
            if not value.is_finite():
                raise ValueError
            return value
        if field_name == "target_on":
            return dt.date.fromisoformat(text)
        if field_name == "incentive_weight":
            return int(text)
        return text
    except (ValueError, ArithmeticError, TypeError):
        raise ValidationError({field_name: f"“{text[:40]}” is not a valid {field_name.replace('_', ' ')}."})


def may_record(user, session: ForumSession) -> bool:
    """The forum's chair (the person linked to the user), the office and integration users."""
    organization_id = session.forum.program.organization_id
    role = role_in(user, organization_id)
    if role in (Role.OFFICE, Role.INTEGRATION):
        return True
    if role is None or getattr(user, "api_key", None) is not None or session.forum.chair_id is None:
        return False
    return Person.objects.filter(pk=session.forum.chair_id, user_id=user.pk).exists()


def _stamp(row, actor: Actor):
    """Name the actor on the row's history snapshot (programs.actors.stamp), then the row."""
    stamp(row, actor)
    return row


def validate_record(session: ForumSession, record: SessionRecord) -> None:
    """Every rule a record must meet before `session_record` writes it (ValidationError keyed
    by entry, e.g. `metric_changes[0]`); meeting mode asks it first to word its refusals."""
    errors: dict[str, list[str]] = {}
    organization_id = session.forum.program.organization_id

    def refuse(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    if record.status not in SessionStatus.values:
        refuse("status", f"“{record.status}” is not a session status.")
    if record.status == SessionStatus.HELD and session.scheduled_for > timezone.now():
        refuse("status", "A session scheduled in the future cannot be recorded as held yet.")
    seen: set[int] = set()
    for i, a in enumerate(record.attendance):
        if a.person.organization_id != organization_id:
            refuse(f"attendance[{i}]", "Attendance is for people of the forum's organization.")
        if a.person.pk in seen:
            refuse(f"attendance[{i}]", f"{a.person.name} is listed twice.")
        seen.add(a.person.pk)
        if a.presence not in PRESENCE:
            refuse(f"attendance[{i}]", "Say present, absent or delegate.")
        if a.presence == "delegate":
            if a.delegate is None:
                refuse(f"attendance[{i}]", f"Name who came instead of {a.person.name}.")
            elif a.delegate.organization_id != organization_id or a.delegate.pk == a.person.pk:
                refuse(f"attendance[{i}]", "The delegate is another person of the forum's organization.")
    for i, g in enumerate(record.agenda):
        if g.outcome not in AgendaOutcome.values:
            refuse(f"agenda[{i}]", "Say discussed, deferred or dropped.")
        if g.item is not None and g.item.session_id != session.pk:
            refuse(f"agenda[{i}]", "That agenda item belongs to another session.")
        if g.item is None and not g.title.strip():
            refuse(f"agenda[{i}]", "A new agenda item needs a title.")
    for i, a in enumerate(record.actions):
        if a.owner.organization_id != organization_id:
            refuse(f"actions[{i}]", "The owner is a person of the forum's organization.")
        if not a.description.strip():
            refuse(f"actions[{i}]", "Say what is to be done.")
        try:
            check_sane_dates(due_on=a.due_on)
        except ValidationError as error:
            refuse(f"actions[{i}]", " ".join(error.messages))
    if record.metric_changes and record.status != SessionStatus.HELD:
        refuse("metric_changes", "Only a held session decides metric changes.")
    for i, c in enumerate(record.metric_changes):
        if c.metric.program_id != session.forum.program_id:
            refuse(f"metric_changes[{i}]", "The metric is one of this forum's program.")
        if c.field not in DECIDED_FIELDS or c.field not in GUARDED_FIELDS:
            refuse(f"metric_changes[{i}]", f"Choose one of: {', '.join(DECIDED_FIELDS)}.")
        if not (c.reason or "").strip():
            refuse(f"metric_changes[{i}]", "Each metric change needs the reason given in the meeting.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def session_record(*, session: ForumSession, record: SessionRecord, actor) -> ForumSession:
    """Write the whole record of `session` (see the module), or nothing: any refusal raises
    ValidationError naming the entry (`attendance[2]`, `metric_changes[0]`...). Re-running
    with the same record writes the same rows again (attendance and outcomes are set, not
    added; actions and metric revisions already written are not repeated only if the
    caller does not send them again)."""
    session = ForumSession.objects.select_for_update().select_related("forum__program").get(pk=session.pk)
    validate_record(session, record)
    actor = Actor.of(actor)

    session.status = record.status
    if record.notes is not None:
        session.notes = record.notes.strip()
    _stamp(session, actor).save(update_fields=["status", "notes"])

    existing = {a.person_id: a for a in Attendance.objects.filter(session=session)}
    for entry in record.attendance:
        row = existing.get(entry.person.pk) or Attendance(
            session=session, organization_id=session.forum.program.organization_id, person=entry.person
        )
        row.present = entry.presence == "present"
        row.delegate = entry.delegate if entry.presence == "delegate" else None
        _stamp(row, actor).save()

    for entry in record.agenda:
        item = entry.item or AgendaItem(
            session=session,
            organization_id=session.forum.program.organization_id,
            title=entry.title.strip()[:300],
            customer_item=entry.customer_item,
        )
        item.outcome = entry.outcome
        _stamp(item, actor).save()

    for entry in record.actions:
        action = ActionItem(
            program=session.forum.program,
            session=session,
            owner=entry.owner,
            description=entry.description.strip(),
            due_on=entry.due_on,
        )
        action.full_clean()
        _stamp(action, actor).save()

    for i, change in enumerate(record.metric_changes):
        metric = Metric.objects.select_for_update().get(pk=change.metric.pk)
        try:
            metric_update(
                metric=metric,
                changes={change.field: change.value},
                reason=change.reason,
                actor=actor,
                approved_in=session,
            )
        except ValidationError as error:
            raise ValidationError({f"metric_changes[{i}]": error.messages}) from error
    return session
