"""Writes on the programs domain that carry rules or history."""

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import router, transaction
from django.db.models import ProtectedError, Q, RestrictedError
from django.db.models.deletion import Collector
from django.utils import timezone
from django.utils.text import slugify

from .actors import Actor, stamp
from .changelog import bulk_history
from .choices import PROGRAM_TRANSITIONS, ProgramStatus, Role
from .dates import add_months, check_sane_dates
from .history import secret_changed
from .models import (
    DEFAULT_REVIEW_MONTHS,
    ApiKey,
    Initiative,
    Organization,
    Person,
    Program,
    ProgramStatusChange,
    ProgressUpdate,
    new_calendar_token,
)

# Moves that must say why: stopping, pausing and restarting a program are decisions.
_REASON_REQUIRED = {
    (ProgramStatus.ACTIVE, ProgramStatus.PAUSED),
    (ProgramStatus.PAUSED, ProgramStatus.ACTIVE),
    (ProgramStatus.DRAFT, ProgramStatus.CANCELLED),
    (ProgramStatus.ACTIVE, ProgramStatus.CANCELLED),
    (ProgramStatus.PAUSED, ProgramStatus.CANCELLED),
}


class TransitionRefused(ValidationError):
    pass


@transaction.atomic
def program_transition(
    *,
    program: Program,
    to: str,
    reason: str = "",
    force: bool = False,
    actor=None,
    at: datetime | None = None,
) -> ProgramStatusChange:
    """Move a program to status `to`, keeping a ProgramStatusChange.

    Refuses (TransitionRefused, nothing written) a move the lifecycle does not allow, a
    pause, cancel or resume without a reason, and draft→active while readiness is unmet
    unless `force` is given with a reason. draft→active fixes `earliest_review_on`: the
    date set on the draft, else `started_on` + 24 months (refused when before the start).
    Not idempotent: a repeated call is refused because the program is already in `to`.
    """
    at = at or timezone.now()
    actor = Actor.of(actor)
    reason = (reason or "").strip()
    locked = Program.objects.select_for_update().get(pk=program.pk)
    current = locked.status
    if to not in ProgramStatus.values:
        raise TransitionRefused({"to": f"'{to}' is not a program status."})
    if to not in PROGRAM_TRANSITIONS[current]:
        allowed = ", ".join(sorted(PROGRAM_TRANSITIONS[current])) or "none (it is final)"
        raise TransitionRefused({"to": f"A {current} program cannot become {to}. Allowed from {current}: {allowed}."})
    if (current, to) in _REASON_REQUIRED and not reason:
        raise TransitionRefused({"reason": f"Say why the program goes from {current} to {to}."})

    unmet: list[str] = []
    if current == ProgramStatus.DRAFT and to == ProgramStatus.ACTIVE:
        unmet = locked.readiness
        if unmet and not force:
            raise TransitionRefused({"to": ["The program is not ready to go live: " + " ".join(unmet)]})
        if unmet and not reason:
            raise TransitionRefused({"reason": "Forcing activation past unmet readiness needs a reason."})

    update = {"status": to}
    if to == ProgramStatus.ACTIVE and locked.started_on is None:
        update["started_on"] = timezone.localdate(at) if timezone.is_aware(at) else at.date()
    if current == ProgramStatus.DRAFT and to == ProgramStatus.ACTIVE:
        update["earliest_review_on"] = _review_date_at_launch(locked, update.get("started_on", locked.started_on))
    for field, value in update.items():
        setattr(locked, field, value)
    locked._change_reason = reason or f"{current} → {to}"
    stamp(locked, actor)
    locked.save(update_fields=list(update))
    for field, value in update.items():
        setattr(program, field, value)

    return ProgramStatusChange.objects.create(
        program=locked,
        from_status=current,
        to_status=to,
        reason=reason,
        forced=bool(unmet),
        unmet_readiness=unmet,
        committed_horizon_months=locked.committed_horizon_months,
        **actor.fields("changed_by"),
        at=at,
    )


def _review_date_at_launch(program: Program, started_on: date) -> date:
    """The earliest review date a program launches with: its draft's, else start + 24 months."""
    review_on = program.earliest_review_on or add_months(started_on, DEFAULT_REVIEW_MONTHS)
    if review_on < started_on:
        raise TransitionRefused(
            {"earliest_review_on": f"The earliest review date ({review_on}) cannot be before the start ({started_on})."}
        )
    return review_on


@transaction.atomic
def program_review_move(*, program: Program, to: date, reason: str, actor=None) -> Program:
    """Move a launched program's `earliest_review_on` later (the commitment only ever grows).

    Refuses (ValidationError, nothing written) a date earlier than the one in force, a
    move without a reason, and a draft (whose date is still being agreed: edit it
    directly). The reason and the actor are kept in the program's history. Safe to re-run:
    the same date again writes nothing.
    """
    reason = (reason or "").strip()
    locked = Program.objects.select_for_update().get(pk=program.pk)
    if locked.status == ProgramStatus.DRAFT:
        raise ValidationError({"earliest_review_on": "A draft's earliest review date is edited directly."})
    current = locked.earliest_review_on
    if current is not None and to == current:
        return locked
    if current is not None and to < current:
        raise ValidationError(
            {
                "earliest_review_on": f"The earliest review date only ever moves later: {to} is before {current}, "
                "the date committed to."
            }
        )
    if not reason:
        raise ValidationError({"reason": "Say why the earliest review date moves (kept in the history)."})
    locked.earliest_review_on = to
    locked._change_reason = f"earliest review moved from {current or 'none'} to {to}: {reason}"
    if getattr(actor, "is_authenticated", False) and getattr(actor, "pk", None):
        locked._history_user = actor
    locked.save(update_fields=["earliest_review_on"])
    program.earliest_review_on = to
    return locked


#: The rule, as every entry point shows it when it refuses.
PROGRAM_DELETE_RULE = "Only a draft that was never activated can be deleted; cancel it instead."


def _never_activated_draft(program: Program) -> bool:
    if program.status != ProgramStatus.DRAFT:
        return False
    activated = Q(from_status=ProgramStatus.ACTIVE) | Q(to_status=ProgramStatus.ACTIVE)
    return not program.status_changes.filter(activated).exists()


def _kinds_kept(exc: ProtectedError | RestrictedError) -> str:
    rows = exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
    return ", ".join(sorted({str(row._meta.verbose_name_plural) for row in rows}))


def kept_records(obj) -> str | None:
    """The kinds of records that keep `obj` from being deleted (rows that PROTECT or RESTRICT
    it: "forum sessions, attendance"), found as Django's delete would find them, or None.
    Read-only: for pages that refuse a delete up front with the rule."""
    try:
        Collector(using=router.db_for_write(type(obj))).collect([obj])
    except (ProtectedError, RestrictedError) as exc:
        return _kinds_kept(exc)
    return None


def _kept_rows_message(kinds: str) -> str:
    return f"This draft holds {kinds}, which are never deleted; cancel it instead."


def program_delete_refusal(program: Program) -> str | None:
    """Why `program` may not be deleted (the message every entry point shows), or None.

    Read-only, for pages that offer or refuse a delete up front (the admin); besides the
    rule it collects what the delete would take, as Django's delete does, to find rows
    that are never deleted (measurements, metric revisions). `program_delete` decides again
    under a lock.
    """
    if not _never_activated_draft(program):
        return PROGRAM_DELETE_RULE
    kinds = kept_records(program)
    return _kept_rows_message(kinds) if kinds else None


@transaction.atomic
def program_delete(*, program: Program, actor=None) -> None:
    """Delete a program and everything of it, when it is a draft that was never activated.

    Anything else raises ValidationError with PROGRAM_DELETE_RULE: a rule, never a
    permission error (whether the caller's role may delete at all is the entry point's
    check). A draft holding rows that are never deleted (measurements, metric revisions) is
    refused too, naming them. A refusal writes nothing. The program row is locked first, so
    an activation racing the delete lands either before it (and the delete is refused) or
    after it (and finds no program). Not idempotent: a second call raises DoesNotExist.
    """
    locked = Program.objects.select_for_update().get(pk=program.pk)
    if not _never_activated_draft(locked):
        raise ValidationError(PROGRAM_DELETE_RULE)
    stamp(locked, actor)  # the deletion's history row names who deleted it
    try:
        locked.delete()
    except (ProtectedError, RestrictedError) as exc:
        raise ValidationError(_kept_rows_message(_kinds_kept(exc))) from None


@transaction.atomic
def progress_update_create(
    *,
    initiative: Initiative,
    author: Person,
    reported_on,
    rag: str,
    percent_complete: int,
    note: str = "",
) -> ProgressUpdate:
    """Record a progress update; the initiative takes its percent when it is the latest."""
    check_sane_dates(reported_on=reported_on)
    if author.organization_id != initiative.program.organization_id:
        raise ValidationError({"author": "The author must belong to the initiative's organization."})
    update = ProgressUpdate.objects.create(
        initiative=initiative,
        author=author,
        reported_on=reported_on,
        rag=rag,
        percent_complete=percent_complete,
        note=note,
    )
    latest = initiative.updates.order_by("-reported_on", "-id").first()
    if latest.pk == update.pk and initiative.percent_complete != percent_complete:
        initiative.percent_complete = percent_complete
        initiative._change_reason = f"progress update of {reported_on}"
        initiative.save(update_fields=["percent_complete"])
    return update


def organization_create(*, name: str, slug: str | None = None) -> Organization:
    """Create a tenant; ValidationError by field (the model's own validators and lengths) and
    nothing written when the name or slug is refused."""
    slug = slug or slugify(name)
    if not slug:
        raise ValidationError({"slug": "Give a slug: the name has no letters to make one from."})
    if Organization.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": f"An organization with slug '{slug}' already exists."})
    organization = Organization(name=name, slug=slug)
    # The columns' limits and the slug's characters: SQLite would store anything, PostgreSQL
    # would refuse a long value with a DataError instead of a message.
    organization.full_clean(validate_unique=False)
    organization.save()
    return organization


def api_key_create(*, organization: Organization, name: str, role: str, actor=None) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the raw key, which is never stored or shown again."""
    if role not in Role.values:
        raise ValidationError({"role": f"Role must be one of {', '.join(Role.values)}."})
    raw = ApiKey.generate()
    actor = Actor.of(actor)
    key = ApiKey(organization=organization, name=name, role=role, created_by=actor.user)
    key.set_key(raw)
    # The name's length (a command or script is not held to it by a form): a message, not a
    # DataError from PostgreSQL. The hash of a fresh random key needs no uniqueness query.
    key.full_clean(validate_unique=False)
    stamp(key, actor)
    key.save()
    return key, raw


@transaction.atomic
def api_key_revoke(*, key: ApiKey, actor=None) -> ApiKey:
    """Revoke a key, with its snapshot and change-log entry naming `actor`; safe to re-run (a
    revoked key keeps its first revocation time, and a second call writes nothing)."""
    revoked = ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    key.refresh_from_db()
    if revoked:
        bulk_history(ApiKey, [key], update=True, actor=actor, reason="revoked")
    return key


def person_calendar_token_regenerate(*, person: Person) -> Person:
    """Give `person` a new calendar feed secret: the old feed address answers 404 from now on.

    The token is a secret, kept out of the history (`Person.history` excludes it), so the
    change log says it changed, with who changed it, and never shows it
    (`history.secret_changed`). Safe to re-run: each call revokes the previous one."""
    person.calendar_token = new_calendar_token()
    secret_changed(person, "calendar_token")
    person.save(update_fields=["calendar_token"])
    return person
