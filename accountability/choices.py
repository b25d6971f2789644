from django.db import models


class Cadence(models.TextChoices):
    WEEKLY = "weekly", "Weekly"
    BIWEEKLY = "biweekly", "Every two weeks"
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"


CADENCE_DAYS = {Cadence.WEEKLY: 7, Cadence.BIWEEKLY: 14, Cadence.MONTHLY: 30, Cadence.QUARTERLY: 91}


class SessionStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    HELD = "held", "Held"
    CANCELLED = "cancelled", "Cancelled"
    POSTPONED = "postponed", "Postponed"


class AgendaOutcome(models.TextChoices):
    DISCUSSED = "discussed", "Discussed"
    DEFERRED = "deferred", "Deferred"
    DROPPED = "dropped", "Dropped"


class ActionStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class FlagKind(models.TextChoices):
    INITIATIVE_STALLED = "initiative_stalled", "Initiative stalled"
    INITIATIVE_OVERDUE = "initiative_overdue", "Initiative overdue"
    ACTION_OVERDUE = "action_overdue", "Action item overdue"
    ESCALATION_UNRESOLVED = "escalation_unresolved", "Escalation unresolved"
    METRIC_NEGOTIATED_AWAY = "metric_negotiated_away", "Metric negotiated away"
    METRIC_UNOWNED = "metric_unowned", "Metric without an owner"
    METRIC_NOT_CASCADED = "metric_not_cascaded", "Metric not cascaded"
    METRIC_STALE = "metric_stale", "Metric not measured"
    NO_BUSINESS_OUTCOME = "no_business_outcome", "No business outcome"
    CHAMPION_NOT_OFFICER = "champion_not_officer", "Champion not an officer"
    ROADMAP_UNFUNDED = "roadmap_unfunded", "Roadmap stage unfunded"
    FORUM_LAPSED = "forum_lapsed", "Forum lapsed"
    FORUM_SESSIONS_CANCELLED = "forum_sessions_cancelled", "Forum sessions cancelled"
    CUSTOMER_AGENDA_DEFERRED = "customer_agenda_deferred", "Customer agenda deferred"
    FORUM_ATTENDANCE_FALLING = "forum_attendance_falling", "Forum attendance falling"
    SPONSOR_DISENGAGED = "sponsor_disengaged", "Sponsor disengaged"
    EARLY_BAIL_RISK = "early_bail_risk", "Early-bail risk"
    COMMITMENT_BREACHED = "commitment_breached", "Commitment breached"
    SPONSOR_DELEGATING = "sponsor_delegating", "Sponsor delegating"
    CHAMPION_OVERLOADED = "champion_overloaded", "Champion overloaded"
    KUMBAYA_METRIC = "kumbaya_metric", "Satisfaction metric tied to no business outcome"


# Flags about the program's sponsor: owned by the sponsor, who must act on them (SPEC §3).
SPONSOR_KINDS = (FlagKind.SPONSOR_DISENGAGED, FlagKind.SPONSOR_DELEGATING, FlagKind.COMMITMENT_BREACHED)


class EscalationLevel(models.IntegerChoices):
    """A flag's place on the escalation ladder (SPEC §4): who has been told."""

    OWNER = 0, "Owner"
    MANAGER = 1, "Owner's manager"
    SPONSOR = 2, "Sponsor"
    BOARD = 3, "Board contact"


class Severity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


SEVERITY_RANK = {Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3, Severity.CRITICAL: 4}


class SubjectType(models.TextChoices):
    PROGRAM = "program", "Program"
    STAGE = "stage", "Roadmap stage"
    INITIATIVE = "initiative", "Initiative"
    METRIC = "metric", "Metric"
    FORUM = "forum", "Forum"
    ACTION_ITEM = "action_item", "Action item"
    ESCALATION = "escalation", "Escalation"


class FlagStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"
    DISMISSED = "dismissed", "Dismissed"


LIVE_FLAG_STATUSES = (FlagStatus.OPEN, FlagStatus.ACKNOWLEDGED)


class RiskLevel(models.TextChoices):
    LOW = "low", "Low"
    ELEVATED = "elevated", "Elevated"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


def risk_level(score: int) -> "RiskLevel":
    if score >= 75:
        return RiskLevel.CRITICAL
    if score >= 50:
        return RiskLevel.HIGH
    if score >= 25:
        return RiskLevel.ELEVATED
    return RiskLevel.LOW


class ScanStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
