"""Initiative detectors: stalled and overdue work, plus the stalled counts the risk assessment reuses."""

import datetime as dt
from collections.abc import Collection

from programs.choices import InitiativeStatus
from programs.models import Initiative, Organization, Program
from programs.money import format_day

from ..choices import FlagKind, Severity, SubjectType
from ..evidence_words import word
from ..findings import Finding
from ..selectors import in_flight_initiatives
from .common import days_between, id_list, iso, scope_q

CLOSED = (InitiativeStatus.DONE, InitiativeStatus.CANCELLED)
OVERDUE_HIGH_AFTER_DAYS = 30


def _in_flight_rows(organization: Organization, as_of: dt.date, program_ids: Collection[int] | None) -> list[dict]:
    """In-progress/blocked initiatives of the scanned programs in scope, with their last
    activity and stall on `as_of` (`accountability.selectors.in_flight_initiatives`; one query)."""
    return in_flight_initiatives(as_of=as_of, where=scope_q(organization, program_ids))


def stalled_initiatives(
    *, organization: Organization, as_of: dt.date, program_ids: Collection[int] | None = None
) -> dict[int, tuple[int, int]]:
    """Per scanned program: (stalled, in_flight) initiative counts on `as_of`.

    `in_flight` counts every in-progress or blocked initiative; `stalled` those that
    `initiative_stalled` would flag (any severity). Every scanned program in scope has an
    entry ((0, 0) without in-flight work). Two queries, read-only.
    """
    program_ids = id_list(program_ids)
    counts: dict[int, list[int]] = {}
    for row in _in_flight_rows(organization, as_of, program_ids):
        entry = counts.setdefault(row["program_id"], [0, 0])
        entry[1] += 1
        if row["stall_severity"]:
            entry[0] += 1
    program_list = Program.objects.filter(scope_q(organization, program_ids, prefix="")).values_list("id", flat=True)
    return {pid: tuple(counts.get(pid, (0, 0))) for pid in program_list}


def detect_initiative_stalled(
    *, organization: Organization, as_of: dt.date, program_ids: Collection[int] | None = None
) -> list[Finding]:
    """In-progress or blocked initiatives without progress for longer than the program allows.

    Last activity (latest update on or before as_of, else starts_on) older than the
    program's stall_after_days → medium; older than twice that → high. Initiatives with
    neither an update nor a start date are skipped. One query; read-only, safe to re-run.
    """
    findings = []
    for row in _in_flight_rows(organization, as_of, program_ids):
        severity = row["stall_severity"]
        if severity is None:
            continue
        days = row["days_silent"]
        since = "no progress update" if row["last_update_on"] else "no progress update since it started"
        identity = {
            "initiative_id": row["id"],
            "last_activity_on": iso(row["last_activity_on"]),
            "severity": severity,
        }
        findings.append(
            Finding(
                kind=FlagKind.INITIATIVE_STALLED,
                program_id=row["program_id"],
                subject_type=SubjectType.INITIATIVE,
                subject_id=row["id"],
                severity=severity,
                owner_id=row["owner_id"],
                title=f"Initiative '{row['name']}' has had {since} for {days} days",
                detail=(
                    f"Status: {word(row['status'])}; last activity on {format_day(row['last_activity_on'])}. "
                    f"The program expects an update at least every {row['program__stall_after_days']} days."
                ),
                evidence={
                    "initiative_id": row["id"],
                    "initiative": row["name"],
                    "status": row["status"],
                    "last_update_on": iso(row["last_update_on"]),
                    "starts_on": iso(row["starts_on"]),
                    "last_activity_on": iso(row["last_activity_on"]),
                    "days_since_activity": days,
                    "stall_after_days": row["program__stall_after_days"],
                    "high_after_days": 2 * row["program__stall_after_days"],
                },
                identity=identity,
            )
        )
    return findings


def detect_initiative_overdue(
    *, organization: Organization, as_of: dt.date, program_ids: Collection[int] | None = None
) -> list[Finding]:
    """Initiatives past their due date and not done or cancelled.

    due_on before as_of → medium; more than 30 days past → high. One query; read-only.
    """
    rows = (
        Initiative.objects.filter(scope_q(organization, program_ids), due_on__lt=as_of)
        .exclude(status__in=CLOSED)
        .order_by("program_id", "id")
        .values("id", "name", "status", "owner_id", "program_id", "due_on", "percent_complete")
    )
    findings = []
    for row in rows:
        days = days_between(row["due_on"], as_of)
        severity = Severity.HIGH if days > OVERDUE_HIGH_AFTER_DAYS else Severity.MEDIUM
        findings.append(
            Finding(
                kind=FlagKind.INITIATIVE_OVERDUE,
                program_id=row["program_id"],
                subject_type=SubjectType.INITIATIVE,
                subject_id=row["id"],
                severity=severity,
                owner_id=row["owner_id"],
                title=f"Initiative '{row['name']}' is {days} days overdue",
                detail=(
                    f"Due on {format_day(row['due_on'])}, still {word(row['status'])} at "
                    f"{row['percent_complete']}% complete."
                ),
                evidence={
                    "initiative_id": row["id"],
                    "initiative": row["name"],
                    "status": row["status"],
                    "due_on": iso(row["due_on"]),
                    "days_overdue": days,
                    "percent_complete": row["percent_complete"],
                    "high_after_days": OVERDUE_HIGH_AFTER_DAYS,
                },
                identity={"initiative_id": row["id"], "due_on": iso(row["due_on"]), "severity": severity},
            )
        )
    return findings
