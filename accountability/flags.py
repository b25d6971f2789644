"""The flag lifecycle: findings become raised, refreshed and resolved flags; people
acknowledge, resolve and dismiss them.

At most one live (open or acknowledged) flag exists per (kind, subject): the database
holds that rule with a partial unique constraint, and `flags_sync` copes with another
scan inserting the same flag at the same moment. Every person-driven move is a
conditional update (`filter(pk=..., status__in=...).update(...)`, then the count), so two
people acting on one flag at once cannot both succeed.
"""

import datetime as dt
import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from programs.changelog import bulk_history
from programs.copy_insert import insert_many
from programs.models import Organization

from . import events
from .choices import LIVE_FLAG_STATUSES, SEVERITY_RANK, FlagStatus
from .findings import Finding
from .models import Flag

logger = logging.getLogger(__name__)

CONDITION_CLEARED = "condition cleared"
# Fields a rescan rewrites on a live flag (status is kept: an acknowledged flag stays acknowledged).
REFRESH_FIELDS = [
    "program",
    "severity",
    "owner",
    "title",
    "detail",
    "evidence",
    "evidence_fingerprint",
    "last_detected_at",
    "last_detected_on",
]
TOUCH_BATCH = 5000  # ids per "still there" UPDATE

Key = tuple[str, str, int]


@dataclass
class SyncResult:
    """What one `flags_sync` did: counts and the ids of the flags concerned."""

    raised_ids: list[int] = field(default_factory=list)
    refreshed_ids: list[int] = field(default_factory=list)
    resolved_ids: list[int] = field(default_factory=list)
    escalated_ids: list[int] = field(default_factory=list)
    # Flags moved up the escalation ladder (`accountability.escalation`), by the scan.
    climbed_ids: list[int] = field(default_factory=list)
    # Findings not raised because a dismissed flag with the same evidence stands.
    suppressed: int = 0

    @property
    def raised(self) -> int:
        return len(self.raised_ids)

    @property
    def refreshed(self) -> int:
        return len(self.refreshed_ids)

    @property
    def resolved(self) -> int:
        return len(self.resolved_ids)

    def __add__(self, other: "SyncResult") -> "SyncResult":
        return SyncResult(
            raised_ids=self.raised_ids + other.raised_ids,
            refreshed_ids=self.refreshed_ids + other.refreshed_ids,
            resolved_ids=self.resolved_ids + other.resolved_ids,
            escalated_ids=self.escalated_ids + other.escalated_ids,
            climbed_ids=self.climbed_ids + other.climbed_ids,
            suppressed=self.suppressed + other.suppressed,
        )


def _key(flag: Flag) -> Key:
    return (flag.kind, flag.subject_type, flag.subject_id)


def _dedupe(findings: Iterable[Finding], kinds: Collection[str]) -> dict[Key, Finding]:
    """One finding per (kind, subject); a detector that repeats itself keeps its most severe."""
    by_key: dict[Key, Finding] = {}
    for finding in findings:
        if finding.kind not in kinds:
            raise ValueError(f"finding of kind {str(finding.kind)!r} passed to a sync of kinds {sorted(kinds)}")
        current = by_key.get(finding.key)
        if current is None or SEVERITY_RANK[finding.severity] > SEVERITY_RANK[current.severity]:
            by_key[finding.key] = finding
    return by_key


def _subjects_q(keys: Iterable[Key]) -> Q:
    """(kind, subject_type, subject_id) in keys, as one OR per (kind, subject_type) with an IN list."""
    grouped: dict[tuple[str, str], list[int]] = {}
    for kind, subject_type, subject_id in keys:
        grouped.setdefault((kind, subject_type), []).append(subject_id)
    q = Q(pk__in=[])
    for (kind, subject_type), ids in grouped.items():
        q |= Q(kind=kind, subject_type=subject_type, subject_id__in=ids)
    return q


def _kept_q(keep: Collection[tuple[str, int]]) -> Q:
    """Flags of the (kind, program id) pairs in `keep`, as one OR per kind with an IN list."""
    grouped: dict[str, list[int]] = {}
    for kind, program_id in keep:
        grouped.setdefault(kind, []).append(program_id)
    q = Q(pk__in=[])
    for kind, ids in grouped.items():
        q |= Q(kind=kind, program_id__in=ids)
    return q


# The fields a finding sets on a flag (the detection times come on top).
_CONTENT = ("program_id", "severity", "owner_id", "title", "detail", "evidence", "evidence_fingerprint")


def _apply(flag: Flag, finding: Finding, now: dt.datetime, as_of: dt.date) -> tuple[str | None, bool]:
    """Copy a finding onto a live flag.

    Returns (the previous severity if it went up, whether anything but the detection
    times changed): unchanged flags only need their detection times written.
    """
    previous = flag.severity
    values = {
        "program_id": finding.program_id,
        "severity": finding.severity,
        "owner_id": finding.owner_id,
        "title": finding.title[:300],
        "detail": finding.detail,
        "evidence": finding.evidence,
        "evidence_fingerprint": finding.fingerprint,
    }
    changed = any(getattr(flag, name) != value for name, value in values.items())
    for name, value in values.items():
        setattr(flag, name, value)
    flag.last_detected_at = now
    flag.last_detected_on = as_of
    escalated_from = previous if SEVERITY_RANK.get(finding.severity, 0) > SEVERITY_RANK.get(previous, 0) else None
    return escalated_from, changed


# What flags_sync reads of each live flag, in this order.
_LIVE_COLUMNS = (
    "id",
    "kind",
    "subject_type",
    "subject_id",
    "program_id",
    "severity",
    "owner_id",
    "title",
    "detail",
    "evidence",
    "evidence_fingerprint",
    "last_detected_on",
)


def _row_key(row: tuple) -> Key:
    return (row[1], row[2], row[3])


def _differs(row: tuple, finding: Finding) -> bool:
    """Whether a finding changes anything of a live flag but its detection times."""
    _, _, _, _, program_id, severity, owner_id, title, detail, evidence, fingerprint, _ = row
    return (
        program_id != finding.program_id
        or severity != finding.severity
        or owner_id != finding.owner_id
        or title != finding.title[:300]
        or detail != finding.detail
        or evidence != finding.evidence
        or fingerprint != finding.fingerprint
    )


# Column types for the VALUES list of `_bulk_refresh` on PostgreSQL (parameters arrive untyped).
_PG_TYPES = {
    "id": "bigint",
    "program": "bigint",
    "owner": "bigint",
    "severity": "varchar",
    "title": "varchar",
    "detail": "text",
    "evidence": "jsonb",
    "evidence_fingerprint": "varchar",
    "last_detected_at": "timestamptz",
    "last_detected_on": "date",
}
REFRESH_BATCH = 1000  # rows per UPDATE: 10 parameters each, well under every database's limit


def _bulk_refresh(flags: list[Flag]) -> None:
    """Write REFRESH_FIELDS of many flags: one `UPDATE … FROM (VALUES …)` per 1,000 rows.

    Django's bulk_update builds a CASE expression per field and row; at 20,000 flags that
    costs minutes of Python. This is the same update as plain SQL (PostgreSQL, and SQLite
    ≥ 3.33), values prepared by each field so JSON, dates and times are stored as the ORM
    would store them.
    """
    fields = [Flag._meta.get_field(name) for name in REFRESH_FIELDS]
    pk_field = Flag._meta.pk
    quote = connection.ops.quote_name
    postgres = connection.vendor == "postgresql"
    placeholders = ", ".join(f"%s::{_PG_TYPES[name]}" if postgres else "%s" for name in ["id", *REFRESH_FIELDS])
    assignments = ", ".join(f"{quote(field.column)} = v.column{i + 2}" for i, field in enumerate(fields))
    table = quote(Flag._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(flags), REFRESH_BATCH):
            batch = flags[start : start + REFRESH_BATCH]
            params: list = []
            for flag in batch:
                params.append(flag.pk)
                params.extend(field.get_db_prep_save(getattr(flag, field.attname), connection) for field in fields)
            values = ", ".join([f"({placeholders})"] * len(batch))
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM (VALUES {values}) AS v "
                f"WHERE {table}.{quote(pk_field.column)} = v.column1",
                params,
            )


def _new_flag(organization: Organization, finding: Finding, now: dt.datetime, as_of: dt.date) -> Flag:
    return Flag(
        organization=organization,
        program_id=finding.program_id,
        kind=finding.kind,
        severity=finding.severity,
        subject_type=finding.subject_type,
        subject_id=finding.subject_id,
        owner_id=finding.owner_id,
        title=finding.title[:300],
        detail=finding.detail,
        evidence=finding.evidence,
        evidence_fingerprint=finding.fingerprint,
        status=FlagStatus.OPEN,
        first_detected_at=now,
        last_detected_at=now,
        first_detected_on=as_of,
        last_detected_on=as_of,
        # The starting level (a breached commitment, a CEO sponsor: the board contact at once);
        # later climbs are the ladder's, so a refresh never touches these two fields.
        escalation_level=finding.escalation_level,
        escalated_at=now if finding.escalation_level else None,
    )


def _insert(
    organization: Organization, new: list[tuple[Finding, Flag]], now: dt.datetime, as_of: dt.date
) -> tuple[list[Flag], list[tuple[Flag, str | None]]]:
    """Insert new flags; returns (created, refreshed-instead) with escalation info for the latter.

    The common case is one bulk insert. If another scan inserted one of the same
    (kind, subject) flags meanwhile, the partial unique index refuses the batch; we then
    go row by row, each in its own savepoint, and refresh the row the other scan created
    instead of duplicating it.
    """
    if not new:
        return [], []
    try:
        with transaction.atomic():
            created = insert_many(Flag, [flag for _, flag in new])
        bulk_history(Flag, created, update=False, reason=f"found by the scan as of {as_of}")
        return created, []
    except IntegrityError:
        logger.info("flags_sync: a concurrent scan raised some of the same flags; merging row by row")
    created, taken_over = [], []
    for finding, flag in new:
        flag.pk = None
        try:
            with transaction.atomic():
                flag.save(force_insert=True)
            created.append(flag)
        except IntegrityError:
            existing = (
                Flag.objects.select_for_update()
                .filter(
                    kind=finding.kind,
                    subject_type=finding.subject_type,
                    subject_id=finding.subject_id,
                    status__in=LIVE_FLAG_STATUSES,
                )
                .first()
            )
            if existing is None:  # the other row went away again; nothing stands in the way now
                flag.save(force_insert=True)
                created.append(flag)
                continue
            escalated_from, _ = _apply(existing, finding, now, as_of)
            existing.save(update_fields=[*REFRESH_FIELDS])
            taken_over.append((existing, escalated_from))
    return created, taken_over


@transaction.atomic
def flags_sync(
    *,
    organization: Organization,
    findings: list[Finding],
    kinds: Collection[str],
    as_of: dt.date,
    program_ids: Collection[int] | None = None,
    scan_run=None,
    keep: Collection[tuple[str, int]] = (),
) -> SyncResult:
    """Turn a scan's findings for `kinds` into raised, refreshed and resolved flags.

    - A finding whose (kind, subject) has a live flag refreshes it: severity, owner, title,
      detail, evidence, fingerprint and last detection; the status (open/acknowledged) stays.
    - Otherwise, if the latest flag of that (kind, subject) was dismissed with the same
      evidence fingerprint, nothing happens (dismissed stays dismissed until the evidence
      changes); else a new open flag is raised (an earlier resolved one stays as history)
      at the finding's starting `escalation_level` (`escalated_at` = now when above 0).
    - A live flag of `kinds` in scope (the organization, narrowed to `program_ids` if
      given) that no finding matches is resolved: no resolver, note "condition cleared",
      `closed_on` = `as_of` (it was last open on the day before).
    - `keep` names (kind, program id) pairs whose computation failed in this scan: their
      live flags are left exactly as they were (neither refreshed nor resolved), and any
      finding for them is ignored.

    Announces the raised, escalated and resolved flags (`events.flags_changed`) inside the
    transaction, so the messages they call for commit with them (an outbox).
    Safe to re-run: the same findings again only refresh `last_detected_*`. Safe to run
    concurrently with itself: the live flags in scope are locked, and a flag raised by a
    concurrent sync at the same moment is refreshed rather than duplicated. A fixed number
    of queries whatever the number of findings (bulk statements, batched).
    """
    kinds = {str(kind) for kind in kinds}
    now = timezone.now()
    result = SyncResult()
    if not kinds:
        return result
    keep = {(str(kind), program_id) for kind, program_id in keep}
    by_key = _dedupe([f for f in findings if (str(f.kind), f.program_id) not in keep], kinds)

    scope = Flag.objects.filter(organization=organization, kind__in=kinds, status__in=LIVE_FLAG_STATUSES)
    if program_ids is not None:
        scope = scope.filter(program_id__in=list(program_ids))
    if keep:
        scope = scope.exclude(_kept_q(keep))
    # Live rows as plain tuples (most are only found again, unchanged), locked in id order:
    # concurrent syncs on the same flags serialise here without deadlock.
    live = {_row_key(row): row for row in scope.select_for_update().order_by("id").values_list(*_LIVE_COLUMNS)}
    in_scope = set(live)
    # A finding can concern a program outside `program_ids`; its live flag is refreshed, never resolved.
    missing = [k for k in by_key if k not in live]
    if missing:
        extra = Flag.objects.select_for_update().filter(_subjects_q(missing), status__in=LIVE_FLAG_STATUSES)
        for row in extra.order_by("id").values_list(*_LIVE_COLUMNS):
            live.setdefault(_row_key(row), row)
        missing = [k for k in by_key if k not in live]
    # A replay of an earlier day (`--as-of` before a later scan) leaves the flags a later
    # day's scan found as they are: it neither moves a live flag's detection back nor
    # resolves it, and its finding for that subject raises nothing (nor for a subject whose
    # flag a later scan found and then closed, below): the later day's word stands.
    later = {key for key, row in live.items() if row[-1] > as_of}
    if later:
        live = {key: row for key, row in live.items() if key not in later}
        by_key = {key: finding for key, finding in by_key.items() if key not in later}
        missing = [k for k in missing if k not in later]

    # The latest closed flag of each new (kind, subject): a dismissal blocks re-raising the same evidence.
    latest_closed: dict[Key, tuple[int, str, str, dt.date]] = {}
    if missing:
        closed = (
            Flag.objects.filter(_subjects_q(missing))
            .exclude(status__in=LIVE_FLAG_STATUSES)
            .values_list(
                "id", "kind", "subject_type", "subject_id", "status", "evidence_fingerprint", "last_detected_on"
            )
        )
        for pk, kind, subject_type, subject_id, status, fingerprint, last_on in closed:
            key = (kind, subject_type, subject_id)
            if key not in latest_closed or pk > latest_closed[key][0]:
                latest_closed[key] = (pk, status, fingerprint, last_on)

    to_touch: list[int] = []  # found again with the same content: only the detection times move
    changed_ids: list[int] = []
    for key, row in live.items():
        finding = by_key.get(key)
        if finding is not None:
            (changed_ids if _differs(row, finding) else to_touch).append(row[0])
    # Only rows of the scope query can be stale: the extra rows above all have a finding.
    stale_ids = [row[0] for key, row in live.items() if key not in by_key and key in in_scope]
    # Whole instances only for the few that change or close (their events carry the flag).
    full = Flag.objects.in_bulk(changed_ids + stale_ids) if changed_ids or stale_ids else {}

    to_refresh: list[Flag] = []
    escalations: list[tuple[Flag, str]] = []
    for pk in changed_ids:
        flag = full[pk]
        previous, _ = _apply(flag, by_key[_key(flag)], now, as_of)
        to_refresh.append(flag)
        if previous:
            escalations.append((flag, previous))
    stale = [full[pk] for pk in stale_ids]

    new: list[tuple[Finding, Flag]] = []
    for key in missing:
        finding = by_key[key]
        closed_flag = latest_closed.get(key)
        if closed_flag and closed_flag[1] == FlagStatus.DISMISSED and closed_flag[2] == finding.fingerprint:
            result.suppressed += 1
            continue
        if closed_flag and closed_flag[3] > as_of:
            # Found by a later day's scan, then closed: a replay of an earlier day leaves it as history.
            continue
        new.append((finding, _new_flag(organization, finding, now, as_of)))

    if to_refresh:
        _bulk_refresh(to_refresh)
        bulk_history(Flag, to_refresh, update=True, reason=f"found again by the scan as of {as_of}")
    for start in range(0, len(to_touch), TOUCH_BATCH):
        Flag.objects.filter(pk__in=to_touch[start : start + TOUCH_BATCH]).update(
            last_detected_at=now, last_detected_on=as_of
        )
    created, taken_over = _insert(organization, new, now, as_of)
    for flag, previous in taken_over:
        to_refresh.append(flag)
        if previous:
            escalations.append((flag, previous))
    if stale:
        # Closed on the scan's day, so a scan run for a past date closes its flags then.
        Flag.objects.filter(pk__in=[f.pk for f in stale], status__in=LIVE_FLAG_STATUSES).update(
            status=FlagStatus.RESOLVED,
            resolved_at=now,
            resolved_by=None,
            resolution_note=CONDITION_CLEARED,
            closed_on=as_of,
        )
        for flag in stale:
            flag.status, flag.resolved_at, flag.resolved_by, flag.resolution_note, flag.closed_on = (
                FlagStatus.RESOLVED,
                now,
                None,
                CONDITION_CLEARED,
                as_of,
            )
        bulk_history(Flag, stale, update=True, reason=CONDITION_CLEARED)

    result.raised_ids = [f.pk for f in created]
    result.refreshed_ids = [f.pk for f in to_refresh] + to_touch
    result.resolved_ids = [f.pk for f in stale]
    result.escalated_ids = [f.pk for f, _ in escalations]
    _send_events(created, escalations, stale)
    logger.debug(
        "flags_sync org=%s scan=%s kinds=%d: %d raised, %d refreshed, %d resolved",
        organization.pk,
        getattr(scan_run, "pk", None),
        len(kinds),
        result.raised,
        result.refreshed,
        result.resolved,
    )
    return result


def _send_events(created: list[Flag], escalations: list[tuple[Flag, str]], resolved: list[Flag]) -> None:
    # Inside the transaction: the receivers write their messages (an outbox) with the flags.
    events.flags_changed(raised=created, escalated=escalations, resolved=resolved)
