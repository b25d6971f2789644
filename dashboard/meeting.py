"""Meeting mode's page: what the form shows, and the submitted form read into a SessionRecord.

The page lists the forum's members (and anyone already on the session's attendance), the
session's agenda items, a few empty rows for new agenda items, action items and metric
changes. `read_form` turns the POST into `accountability.session_record.SessionRecord`
(ids resolved within the session's organization and program: anything else is refused),
and `session_record` writes it. A refused submit shows the page again with what was typed.
"""

import datetime as dt
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils import timezone

from accountability.choices import AgendaOutcome, SessionStatus
from accountability.models import AgendaItem, Attendance, ForumSession
from accountability.session_record import (
    DECIDED_FIELDS,
    ActionEntry,
    AgendaEntry,
    AttendanceEntry,
    MetricChange,
    SessionRecord,
    metric_value,
    validate_record,
)
from metrics.choices import MetricStatus
from metrics.models import Metric
from programs.models import Person
from programs.numbers import is_digits

NEW_AGENDA_ROWS, NEW_ACTION_ROWS, CHANGE_ROWS = 2, 3, 2
FIELD_LABELS = {
    "target": "Target",
    "target_on": "Target date",
    "incentive_weight": "Incentive weight (%)",
    "owner": "Owner (choose below)",
    "baseline": "Baseline",
    "status": "Status (active or retired)",
}


@dataclass
class MeetingPage:
    session: ForumSession
    members: list[dict]
    agenda: list[dict]
    new_agenda: list[dict]
    new_actions: list[dict]
    changes: list[dict]
    people: list[dict]
    metrics: list[dict]
    statuses: list[tuple[str, str]] = field(default_factory=lambda: list(SessionStatus.choices))
    outcomes: list[tuple[str, str]] = field(default_factory=lambda: list(AgendaOutcome.choices))
    fields: list[tuple[str, str]] = field(default_factory=lambda: [(f, FIELD_LABELS[f]) for f in DECIDED_FIELDS])
    status: str = ""
    notes: str = ""


def meeting_session(session_id: int, organization_ids) -> ForumSession:
    sessions = ForumSession.objects.select_related("forum__program__organization", "forum__chair")
    if organization_ids is not None:
        sessions = sessions.for_organizations(list(organization_ids))
    return sessions.get(pk=session_id)


def meeting_page(session: ForumSession, post: QueryDict | None = None) -> MeetingPage:
    """The page's rows, with the submitted values when `post` is given. Six queries."""
    post = post or QueryDict()
    forum = session.forum
    attendance = {a.person_id: a for a in Attendance.objects.filter(session=session).select_related("person")}
    people = list(
        Person.objects.filter(organization_id=forum.program.organization_id, active=True)
        .order_by("name")
        .values("id", "name", "title")
    )
    members = list(forum.members.order_by("name").values("id", "name", "title"))
    member_ids = {m["id"] for m in members}
    members += [
        {"id": a.person_id, "name": a.person.name, "title": a.person.title}
        for a in attendance.values()
        if a.person_id not in member_ids
    ]
    for m in members:
        row = attendance.get(m["id"])
        saved = "" if row is None else "present" if row.present else "delegate" if row.delegate_id else "absent"
        m["presence"] = post.get(f"att-{m['id']}", saved)
        m["delegate"] = post.get(f"del-{m['id']}", str(row.delegate_id) if row and row.delegate_id else "")
    agenda = [
        {"id": item.pk, "title": item.title, "outcome": post.get(f"agenda-{item.pk}", item.outcome)}
        for item in AgendaItem.objects.filter(session=session).order_by("id")
    ]
    metrics = list(
        Metric.objects.filter(program_id=forum.program_id, status=MetricStatus.ACTIVE)
        .order_by("name")
        .values("id", "name")
    )

    def rows(prefix: str, n: int, keys: tuple[str, ...]) -> list[dict]:
        return [{"n": i, **{k: post.get(f"{prefix}-{k}-{i}", "") for k in keys}} for i in range(n)]

    past = session.scheduled_for <= timezone.now()
    default_status = session.status if session.status != SessionStatus.SCHEDULED or not past else SessionStatus.HELD
    return MeetingPage(
        session=session,
        members=members,
        agenda=agenda,
        new_agenda=rows("new-agenda", NEW_AGENDA_ROWS, ("title", "outcome")),
        new_actions=rows("action", NEW_ACTION_ROWS, ("owner", "description", "due")),
        changes=rows("change", CHANGE_ROWS, ("metric", "field", "value", "owner", "reason")),
        people=people,
        metrics=metrics,
        status=post.get("status", default_status),
        notes=post.get("notes", session.notes),
    )


def _pick(rows: dict, raw: str, what: str, where: str):
    raw = (raw or "").strip()
    row = rows.get(int(raw)) if is_digits(raw) and len(raw) < 12 else None
    if row is None:
        raise ValidationError(f"{where}: choose {what} from the list.")
    return row


ENTRY = re.compile(r"^(?P<part>[a-z_]+)\[(?P<i>\d+)\]$")


def worded(error: ValidationError, labels: dict[str, list[str]]) -> list[str]:
    """The refusals of `session_record` in the page's words: `metric_changes[0]` is "Metric
    change 1", `attendance[2]` the person's name (`labels`: each part's entries as the page
    names them, in the record's order); a refusal of the whole form is its sentence alone."""
    if not hasattr(error, "error_dict"):
        return list(error.messages)
    lines = []
    for key, messages in error.message_dict.items():
        match = ENTRY.match(key)
        names = labels.get(match["part"], []) if match else []
        where = names[int(match["i"])] if match and int(match["i"]) < len(names) else ""
        lines += [f"{where}: {m}" if where else m for m in messages]
    return lines


def read_form(session: ForumSession, post: QueryDict) -> SessionRecord:
    """The submitted form as a SessionRecord, checked as `session_record` will check it; ids
    outside the session's organization or program are refused. Refusals (ValidationError)
    name the row as the page does ("Metric change 1: ..."), never a field. Three queries."""
    labels: dict[str, list[str]] = {"attendance": [], "agenda": [], "actions": [], "metric_changes": []}
    record = _read_form(session, post, labels)
    try:
        validate_record(session, record)
    except ValidationError as error:
        raise ValidationError(worded(error, labels)) from error
    return record


def _read_form(session: ForumSession, post: QueryDict, labels: dict[str, list[str]]) -> SessionRecord:
    page = meeting_page(session, post)
    organization_id = session.forum.program.organization_id
    people = {p.pk: p for p in Person.objects.filter(organization_id=organization_id)}
    metrics = {m.pk: m for m in Metric.objects.filter(program_id=session.forum.program_id).select_related("program")}
    items = {i.pk: i for i in AgendaItem.objects.filter(session=session)}
    record = SessionRecord(status=page.status, notes=page.notes)
    for m in page.members:
        if not m["presence"]:
            continue  # not recorded: left as it is
        delegate = _pick(people, m["delegate"], "a delegate", m["name"]) if m["presence"] == "delegate" else None
        record.attendance.append(AttendanceEntry(person=people[m["id"]], presence=m["presence"], delegate=delegate))
        labels["attendance"].append(m["name"])
    for g in page.agenda:
        record.agenda.append(AgendaEntry(item=items[g["id"]], outcome=g["outcome"]))
        labels["agenda"].append(f"Agenda item “{g['title']}”")
    for g in page.new_agenda:
        if g["title"].strip():
            record.agenda.append(AgendaEntry(title=g["title"], outcome=g["outcome"] or AgendaOutcome.DISCUSSED))
            labels["agenda"].append(f"New agenda item {g['n'] + 1}")
    for a in page.new_actions:
        if a["description"].strip() or a["owner"] or a["due"]:
            where = f"Action {a['n'] + 1}"
            try:
                due_on = dt.date.fromisoformat(a["due"].strip())
            except ValueError:
                raise ValidationError(f"{where}: give it a due date (“{a['due'][:20]}” is not one).")
            owner = _pick(people, a["owner"], "an owner", where)
            record.actions.append(ActionEntry(owner=owner, description=a["description"], due_on=due_on))
            labels["actions"].append(where)
    for c in page.changes:
        if c["metric"] or c["value"].strip() or c["reason"].strip():
            where = f"Metric change {c['n'] + 1}"
            metric = _pick(metrics, c["metric"], "a metric", where)
            raw = c["owner"] if c["field"] == "owner" else c["value"]
            try:
                value = metric_value(metric, c["field"], raw) if c["field"] in DECIDED_FIELDS else raw
            except ValidationError as error:
                raise ValidationError([f"{where}: {m}" for m in error.messages]) from error
            record.metric_changes.append(MetricChange(metric=metric, field=c["field"], value=value, reason=c["reason"]))
            labels["metric_changes"].append(where)
    return record
