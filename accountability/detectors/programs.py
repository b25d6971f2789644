"""Program-level detectors: business outcome, the champion, and funding of the roadmap."""

import datetime as dt
from collections.abc import Collection

from django.db.models import Exists, OuterRef, Q

from metrics.choices import Kind, Level, MetricStatus
from metrics.models import Metric
from programs.choices import StageStatus
from programs.models import Organization, Program, RoadmapStage

from ..choices import FlagKind, Severity, SubjectType
from ..findings import Finding
from .common import iso, scope_q

CHAMPION_MIN_TIME_PCT = 50
ROADMAP_LOOKAHEAD_DAYS = 90


def detect_no_business_outcome(
    *, organization: Organization, as_of: dt.date, program_ids: Collection[int] | None = None
) -> list[Finding]:
    """Programs without an active strategic metric of kind outcome → high, owned by the champion.

    One query; read-only.
    """
    has_outcome = Exists(
        Metric.objects.filter(
            program_id=OuterRef("pk"), level=Level.STRATEGIC, kind=Kind.OUTCOME, status=MetricStatus.ACTIVE
        )
    )
    rows = (
        Program.objects.filter(scope_q(organization, program_ids, prefix=""))
        .annotate(has_outcome=has_outcome)
        .filter(has_outcome=False)
        .order_by("id")
        .values("id", "name", "customer_champion_id", "business_case")
    )
    return [
        Finding(
            kind=FlagKind.NO_BUSINESS_OUTCOME,
            program_id=row["id"],
            subject_type=SubjectType.PROGRAM,
            subject_id=row["id"],
            severity=Severity.HIGH,
            owner_id=row["customer_champion_id"],
            title=f"Program '{row['name']}' has no strategic business-outcome metric",
            detail=(
                "No active strategic metric of kind outcome (revenue, retention, cost, risk) ties the "
                "program to business results."
            ),
            evidence={"program_id": row["id"], "program": row["name"], "business_case": row["business_case"]},
            identity={"program_id": row["id"]},
        )
        for row in rows
    ]


def detect_champion_not_officer(
    *, organization: Organization, as_of: dt.date, program_ids: Collection[int] | None = None
) -> list[Finding]:
    """The customer champion must be an officer with real time for the job; owned by the sponsor.

    No champion, an inactive champion (gone from the company) or one who is not an
    officer → high; otherwise champion_time_pct < 50 → medium. One query; read-only.
    """
    rows = (
        Program.objects.filter(scope_q(organization, program_ids, prefix=""))
        .filter(
            Q(customer_champion__isnull=True)
            | Q(customer_champion__active=False)
            | Q(customer_champion__is_officer=False)
            | Q(champion_time_pct__lt=CHAMPION_MIN_TIME_PCT)
        )
        .order_by("id")
        .values(
            "id",
            "name",
            "executive_sponsor_id",
            "champion_time_pct",
            "customer_champion_id",
            "customer_champion__name",
            "customer_champion__title",
            "customer_champion__is_officer",
            "customer_champion__active",
        )
    )
    findings = []
    for row in rows:
        champion = row["customer_champion__name"]
        if row["customer_champion_id"] is None:
            severity, problem = Severity.HIGH, "has no customer champion"
        elif not row["customer_champion__active"]:
            severity, problem = Severity.HIGH, f"has a champion ({champion}) who is no longer active"
        elif not row["customer_champion__is_officer"]:
            severity, problem = Severity.HIGH, f"has a champion ({champion}) who is not an officer"
        else:
            severity = Severity.MEDIUM
            problem = f"has a champion ({champion}) giving it only {row['champion_time_pct']}% of their time"
        findings.append(
            Finding(
                kind=FlagKind.CHAMPION_NOT_OFFICER,
                program_id=row["id"],
                subject_type=SubjectType.PROGRAM,
                subject_id=row["id"],
                severity=severity,
                owner_id=row["executive_sponsor_id"],
                title=f"Program '{row['name']}' {problem}",
                detail=(
                    "The customer champion must be an officer of the company with at least "
                    f"{CHAMPION_MIN_TIME_PCT}% of their time for the program."
                ),
                evidence={
                    "program_id": row["id"],
                    "program": row["name"],
                    "champion_id": row["customer_champion_id"],
                    "champion": champion,
                    "champion_title": row["customer_champion__title"],
                    "champion_is_officer": row["customer_champion__is_officer"],
                    "champion_active": row["customer_champion__active"],
                    "champion_time_pct": row["champion_time_pct"],
                    "min_time_pct": CHAMPION_MIN_TIME_PCT,
                },
            )
        )
    return findings


def detect_roadmap_unfunded(
    *, organization: Organization, as_of: dt.date, program_ids: Collection[int] | None = None
) -> list[Finding]:
    """Roadmap stages in progress, or planned to start within 90 days, with no budget → medium.

    "Starting within 90 days" = status planned and as_of <= starts_on <= as_of + 90.
    No budget = budget empty or 0 (a zero budget funds nothing). Owned by the program's
    champion. One query; read-only.
    """
    horizon = as_of + dt.timedelta(days=ROADMAP_LOOKAHEAD_DAYS)
    rows = (
        RoadmapStage.objects.filter(scope_q(organization, program_ids))
        .filter(Q(budget__isnull=True) | Q(budget=0))
        .filter(
            Q(status=StageStatus.IN_PROGRESS)
            | Q(status=StageStatus.PLANNED, starts_on__gte=as_of, starts_on__lte=horizon)
        )
        .order_by("program_id", "sequence")
        .values(
            "id",
            "name",
            "sequence",
            "status",
            "starts_on",
            "ends_on",
            "budget",
            "program_id",
            "program__name",
            "program__customer_champion_id",
        )
    )
    findings = []
    for row in rows:
        in_progress = row["status"] == StageStatus.IN_PROGRESS
        when = "is in progress" if in_progress else f"starts on {iso(row['starts_on'])}"
        findings.append(
            Finding(
                kind=FlagKind.ROADMAP_UNFUNDED,
                program_id=row["program_id"],
                subject_type=SubjectType.STAGE,
                subject_id=row["id"],
                severity=Severity.MEDIUM,
                owner_id=row["program__customer_champion_id"],
                title=f"Roadmap stage {row['sequence']} '{row['name']}' {when} with no budget",
                detail=f"Program '{row['program__name']}': a roadmap that is not funded is not realistic.",
                evidence={
                    "stage_id": row["id"],
                    "stage": row["name"],
                    "sequence": row["sequence"],
                    "status": row["status"],
                    "starts_on": iso(row["starts_on"]),
                    "ends_on": iso(row["ends_on"]),
                    "budget": None if row["budget"] is None else str(row["budget"]),
                    "lookahead_days": ROADMAP_LOOKAHEAD_DAYS,
                },
            )
        )
    return findings
