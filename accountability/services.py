"""Writes on the meeting record that carry rules: what may be deleted, and what is evidence.

A forum session that is no longer `scheduled` (held, cancelled, postponed: now or at any
point of its history) is evidence (SPEC §2): it, its attendance and its agenda items are
corrected, never deleted. The models hold the same rule for every ORM path (their
`delete()`, their querysets' `delete()`, and `protect_evidence` on the foreign keys that
would cascade); these services are the entry points the API and the admin call, and say
the rule in a ValidationError.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model

from .models import AgendaItem, Attendance, ForumSession
from .models.forums import SESSION_EVIDENCE_RULE, evidence_q

__all__ = [
    "SESSION_EVIDENCE_RULE",
    "agenda_item_delete",
    "attendance_delete",
    "session_delete",
    "session_record_delete_refusal",
]


def _is_evidence(row: Model) -> bool:
    path = "" if isinstance(row, ForumSession) else "session__"
    return type(row)._base_manager.filter(pk=row.pk).filter(evidence_q(path)).exists()


def session_record_delete_refusal(row: ForumSession | Attendance | AgendaItem) -> str | None:
    """Why a session, an attendance row or an agenda item may not be deleted, or None.

    Read-only (one query), for pages that offer or refuse a delete up front; the delete
    services decide again under a lock.
    """
    return SESSION_EVIDENCE_RULE if _is_evidence(row) else None


def _history_user(row: Model, actor) -> None:
    if getattr(actor, "is_authenticated", False) and getattr(actor, "pk", None):
        row._history_user = actor  # the deletion's history row names who deleted it


def _delete(row: Model, actor) -> None:
    # The session row is locked, so a status change racing the delete (scheduled → held)
    # lands either before it (and the delete is refused) or after it (and finds no row).
    session_id = row.pk if isinstance(row, ForumSession) else row.session_id
    ForumSession.objects.select_for_update().filter(pk=session_id).first()
    if _is_evidence(row):
        raise ValidationError(SESSION_EVIDENCE_RULE, code="evidence")
    _history_user(row, actor)
    row.delete()


@transaction.atomic
def session_delete(*, session: ForumSession, actor=None) -> None:
    """Delete a session that is still only scheduled, with its planned attendance and agenda.

    A session that is or was held, cancelled or postponed raises ValidationError with
    SESSION_EVIDENCE_RULE and nothing is written. Not idempotent (the history keeps one
    deletion row per call).
    """
    _delete(session, actor)


@transaction.atomic
def attendance_delete(*, attendance: Attendance, actor=None) -> None:
    """Delete an attendance row of a session still only scheduled; evidence is refused (ValidationError)."""
    _delete(attendance, actor)


@transaction.atomic
def agenda_item_delete(*, agenda_item: AgendaItem, actor=None) -> None:
    """Delete an agenda item of a session still only scheduled; evidence is refused (ValidationError)."""
    _delete(agenda_item, actor)
