"""The forum sessions import, with attendance: one row per attendee of a session.

`program`, `forum` (names) and `scheduled_for` (a date-time in the site's time zone:
`YYYY-MM-DD HH:MM`, or a date-time cell) name the session; `status` and `notes` are its
fields (rows of one session must agree). `person` (email), `present` (yes/no) and
`delegate` (email) record one attendance; a row without `person` is a session alone.
Sessions are matched on (forum, scheduled_for), attendance on (session, person). Writes
are the models' own with history rows naming the importer, as the admin's forms do.
"""

from datetime import date, datetime

from django.utils import timezone

from accountability.choices import SessionStatus
from accountability.models import Attendance, Forum, ForumSession
from programs.actors import stamp
from programs.models import Person
from programs.numbers import is_digits

from .imports import NEW, UNCHANGED, UPDATE, PlannedRow, RowByRowResource, office_organization_ids
from .measurements import IMPORT_REASON, _text
from .people import _flag

_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")


def moment(value) -> datetime | str:
    """A date-time cell in the current time zone, or the message saying what is wrong."""
    if isinstance(value, datetime):
        found = value
    elif isinstance(value, date):
        return "A time is needed too: YYYY-MM-DD HH:MM."
    else:
        text = _text(value)
        if not text:
            return "This field is required."
        if is_digits(text.replace(".", "", 1)):
            return f"{text} is an Excel serial number, not a date-time: format the column as a date-time."
        for pattern in _FORMATS:
            try:
                found = datetime.strptime(text, pattern)
                break
            except ValueError:
                continue
        else:
            return "Date-time has wrong format. Use YYYY-MM-DD HH:MM."
    return found if timezone.is_aware(found) else timezone.make_aware(found)


class ForumSessionResource(RowByRowResource):
    sheet_name = "sessions"
    required = ("program", "forum", "scheduled_for")
    optional = ("status", "notes", "person", "present", "delegate")
    example = {
        "program": "Customer Onboarding",
        "forum": "Steering committee",
        "scheduled_for": "2026-03-05 10:00",
        "status": "held",
        "notes": "",
        "person": "ceo@example.com",
        "present": "yes",
        "delegate": "",
    }

    def prepare(self, rows: list[PlannedRow], user) -> None:
        scope = office_organization_ids(user)
        forums = Forum.objects.select_related("program")
        if scope is not None:
            forums = forums.filter(program__organization_id__in=scope)
        by_name: dict[tuple[str, str], list[Forum]] = {}
        names = {_text(row.values.get("forum")) for row in rows}
        for forum in forums.filter(name__in=names):
            by_name.setdefault((forum.program.name, forum.name), []).append(forum)
        organizations = {f.program.organization_id for found in by_name.values() for f in found}
        people = {
            (p.organization_id, p.email.lower()): p
            for p in Person.objects.filter(organization_id__in=organizations).exclude(email="")
        }
        sessions: dict[tuple, tuple[int, dict]] = {}
        attendees: dict[tuple, int] = {}
        for row in rows:
            key = (_text(row.values.get("program")), _text(row.values.get("forum")))
            found = by_name.get(key, [])
            forum = found[0] if len(found) == 1 else None
            if forum is None:
                # Reported, and every other column is checked all the same (but the emails).
                row.errors["forum"] = [
                    f"{len(found)} forums are named {key[1]!r} in {key[0]}."
                    if found
                    else f"No forum {key[1]!r} of a program {key[0]!r} in your organizations."
                ]
            when = moment(row.values.get("scheduled_for"))
            if isinstance(when, str):
                row.errors["scheduled_for"] = [when]
            fields = {"notes": _text(row.values.get("notes"))} if "notes" in row.values else {}
            status = _text(row.values.get("status")).lower()
            if status:
                if status in SessionStatus.values:
                    fields["status"] = status
                else:
                    row.errors["status"] = [f"{status!r} is not one of: {', '.join(SessionStatus.values)}."]
            attendance = None
            email = _text(row.values.get("person")).lower()
            if email and forum is None:
                _flag(row, "present", False)  # the emails need the forum's organization: not checked
            elif email:
                person = people.get((forum.program.organization_id, email))
                if person is None:
                    row.errors["person"] = [f"No person with the email {email!r} in the program's organization."]
                delegate_email = _text(row.values.get("delegate")).lower()
                delegate = people.get((forum.program.organization_id, delegate_email)) if delegate_email else None
                if delegate_email and delegate is None:
                    row.errors["delegate"] = [f"No person with the email {delegate_email!r} in the organization."]
                attendance = {"person": person, "present": _flag(row, "present", False), "delegate": delegate}
            if forum is None:
                continue
            row.item = {"forum": forum, "scheduled_for": when, "fields": fields, "attendance": attendance}
            if row.errors:
                continue
            session_key = (forum.pk, when)
            if session_key in sessions and sessions[session_key][1] != fields:
                row.errors["status"] = [f"Row {sessions[session_key][0]} gives this session other values."]
            sessions.setdefault(session_key, (row.number, fields))
            if attendance is not None:
                attendee = (*session_key, attendance["person"].pk)
                if attendee in attendees:
                    row.errors["person"] = [f"Duplicate of row {attendees[attendee]}: one row per attendee."]
                attendees.setdefault(attendee, row.number)

    def start(self, rows: list[PlannedRow], user) -> dict:
        forums = {row.item["forum"] for row in rows}
        sessions = {(s.forum_id, s.scheduled_for): s for s in ForumSession.objects.filter(forum__in=forums)}
        attendance = {
            (a.session_id, a.person_id): a for a in Attendance.objects.filter(session__in=list(sessions.values()))
        }
        return {"sessions": sessions, "attendance": attendance}

    def _save(self, obj, user) -> None:
        obj.full_clean()
        stamp(obj, user)
        obj._change_reason = IMPORT_REASON
        obj.save()

    def write_row(self, row: PlannedRow, state: dict, user) -> None:
        forum, when, fields = row.item["forum"], row.item["scheduled_for"], row.item["fields"]
        session = state["sessions"].get((forum.pk, when))
        if session is None:
            session = ForumSession(forum=forum, scheduled_for=when, **fields)
            self._save(session, user)
            state["sessions"][(forum.pk, when)] = session
            row.kind = NEW
        else:
            changed = {k: v for k, v in fields.items() if getattr(session, k) != v}
            for key, value in changed.items():
                setattr(session, key, value)
            if changed:
                self._save(session, user)
            row.kind = UPDATE if changed else UNCHANGED
        wanted = row.item["attendance"]
        if wanted is None:
            return
        record = state["attendance"].get((session.pk, wanted["person"].pk))
        if record is None:
            # The forum came with its program: saves Attendance.save() asking for it again.
            record = Attendance(session=session, organization_id=forum.program.organization_id, **wanted)
            self._save(record, user)
            state["attendance"][(session.pk, wanted["person"].pk)] = record
            row.kind = NEW if row.kind == UNCHANGED else row.kind
            return
        changed = {k: v for k, v in wanted.items() if getattr(record, k) != v}
        if changed:
            for key, value in changed.items():
                setattr(record, key, value)
            self._save(record, user)
            row.kind = UPDATE if row.kind == UNCHANGED else row.kind
