from django.db import models


class Role(models.TextChoices):
    OFFICE = "office", "Program office"
    EXECUTIVE = "executive", "Executive"
    INTEGRATION = "integration", "Integration"


class ProgramStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


# Allowed status moves; anything else is refused.
PROGRAM_TRANSITIONS: dict[str, set[str]] = {
    ProgramStatus.DRAFT: {ProgramStatus.ACTIVE, ProgramStatus.CANCELLED},
    ProgramStatus.ACTIVE: {ProgramStatus.PAUSED, ProgramStatus.COMPLETED, ProgramStatus.CANCELLED},
    ProgramStatus.PAUSED: {ProgramStatus.ACTIVE, ProgramStatus.CANCELLED},
    ProgramStatus.COMPLETED: set(),
    ProgramStatus.CANCELLED: set(),
}

# Statuses the governance scan looks at.
SCANNED_STATUSES = (ProgramStatus.ACTIVE, ProgramStatus.PAUSED)


class StageStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"


class InitiativeStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    BLOCKED = "blocked", "Blocked"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class Rag(models.TextChoices):
    GREEN = "green", "Green"
    AMBER = "amber", "Amber"
    RED = "red", "Red"


# The nine questions of a CEO commitment assessment, in order.
COMMITMENT_QUESTIONS: list[tuple[str, str]] = [
    ("clear_destination", "Is the CEO clear about what they want to accomplish for customers?"),
    ("understands_scope", "Does the CEO understand the sweeping scope of the work?"),
    ("builds_new_skills", "Will the CEO develop the new skills the company needs?"),
    ("commits_resources", "Is the CEO committing company time and resources?"),
    ("true_partner", "Is the CEO a true partner to the customer champion?"),
    ("insists_on_patience", "Does the CEO insist on corporate patience?"),
    ("pushes_customer_metrics", "Is the CEO pushing hard for strategic customer metrics?"),
    ("drives_reliability", "Is the CEO driving reliability in operations?"),
    ("defines_differentiation", "Has the CEO defined the differentiated value to deliver?"),
]


class ChangeAction(models.TextChoices):
    """What a change did to its record (simple-history's history_type)."""

    CREATED = "+", "created"
    CHANGED = "~", "changed"
    DELETED = "-", "deleted"


class AlertPreference(models.TextChoices):
    """How a person hears of low and medium flags they own or champion (high and critical are always emailed)."""

    INSTANT = "instant", "An email for each"
    DAILY = "daily", "A daily digest"
    NONE = "none", "Nothing"
