"""Follow-through detectors: overdue action items and escalations left without air cover."""

import datetime as dt
from collections.abc import Collection

from django.db.models import Q

from programs.dates import local_date
from programs.models import Organization
from programs.money import format_day

from ..choices import FlagKind, Severity, SubjectType
from ..findings import Finding
from ..models import ActionItem, Escalation
from .common import days_between, iso, scope_q

ACTION_MEDIUM_AFTER_DAYS = 14
ESCALATION_OPEN_DAYS = 30


def detect_action_overdue(
    *, organization: Organization, as_of: dt.date, program_ids: Collection[int] | None = None
) -> list[Finding]:
    """Open action items past their due date.

    Open on as_of (`ActionItem.objects.open_on`: status open, or done with completed_on
    after as_of, so a past as_of replays what was open then) and due_on before as_of → low; more than 14 days past →
    medium. One query; read-only.
    """
    rows = (
        ActionItem.objects.open_on(as_of)
        .filter(scope_q(organization, program_ids), due_on__lt=as_of)
        .order_by("program_id", "id")
        .values("id", "description", "owner_id", "program_id", "due_on", "session_id", "session__scheduled_for")
    )
    findings = []
    for row in rows:
        days = days_between(row["due_on"], as_of)
        severity = Severity.MEDIUM if days > ACTION_MEDIUM_AFTER_DAYS else Severity.LOW
        short = row["description"] if len(row["description"]) <= 80 else row["description"][:77] + "…"
        findings.append(
            Finding(
                kind=FlagKind.ACTION_OVERDUE,
                program_id=row["program_id"],
                subject_type=SubjectType.ACTION_ITEM,
                subject_id=row["id"],
                severity=severity,
                owner_id=row["owner_id"],
                title=f"Action '{short}' is {days} days overdue",
                detail=f"Due on {format_day(row['due_on'])} and still open.",
                evidence={
                    "action_item_id": row["id"],
                    "description": row["description"],
                    "due_on": iso(row["due_on"]),
                    "days_overdue": days,
                    "session_id": row["session_id"],
                    "session_date": iso(local_date(row["session__scheduled_for"])),
                    "medium_after_days": ACTION_MEDIUM_AFTER_DAYS,
                },
                identity={"action_item_id": row["id"], "due_on": iso(row["due_on"]), "severity": severity},
            )
        )
    return findings


def detect_escalation_unresolved(
    *, organization: Organization, as_of: dt.date, program_ids: Collection[int] | None = None
) -> list[Finding]:
    """Escalations open for more than 30 days: the sponsor has not given air cover.

    Open on as_of = raised on or before as_of and not resolved on or before as_of.
    (as_of - raised_on) > 30 days → high, owned by the person it was raised to.
    One query; read-only.
    """
    rows = (
        Escalation.objects.filter(
            scope_q(organization, program_ids),
            Q(resolved_on__isnull=True) | Q(resolved_on__gt=as_of),
            raised_on__lt=as_of - dt.timedelta(days=ESCALATION_OPEN_DAYS),
        )
        .order_by("program_id", "id")
        .values(
            "id",
            "program_id",
            "raised_on",
            "raised_by_id",
            "raised_by__name",
            "raised_to_id",
            "raised_to__name",
            "initiative_id",
            "initiative__name",
            "metric_id",
            "metric__name",
        )
    )
    findings = []
    for row in rows:
        days = days_between(row["raised_on"], as_of)
        if row["initiative_id"]:
            subject = f"initiative '{row['initiative__name']}'"
        else:
            subject = f"metric '{row['metric__name']}'"
        findings.append(
            Finding(
                kind=FlagKind.ESCALATION_UNRESOLVED,
                program_id=row["program_id"],
                subject_type=SubjectType.ESCALATION,
                subject_id=row["id"],
                severity=Severity.HIGH,
                owner_id=row["raised_to_id"],
                title=f"Escalation on {subject} unresolved for {days} days",
                detail=(
                    f"Raised by {row['raised_by__name']} to {row['raised_to__name']} on "
                    f"{format_day(row['raised_on'])}; no decision yet."
                ),
                evidence={
                    "escalation_id": row["id"],
                    "raised_on": iso(row["raised_on"]),
                    "days_open": days,
                    "raised_by_id": row["raised_by_id"],
                    "raised_by": row["raised_by__name"],
                    "raised_to_id": row["raised_to_id"],
                    "raised_to": row["raised_to__name"],
                    "initiative_id": row["initiative_id"],
                    "initiative": row["initiative__name"],
                    "metric_id": row["metric_id"],
                    "metric": row["metric__name"],
                    "open_after_days": ESCALATION_OPEN_DAYS,
                },
                identity={"escalation_id": row["id"], "raised_on": iso(row["raised_on"])},
            )
        )
    return findings
