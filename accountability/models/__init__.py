from .flags import Flag, RiskAssessment, ScanRun
from .forums import ActionItem, AgendaItem, Attendance, Escalation, Forum, ForumSession

__all__ = [
    "ActionItem",
    "AgendaItem",
    "Attendance",
    "Escalation",
    "Flag",
    "Forum",
    "ForumSession",
    "RiskAssessment",
    "ScanRun",
]
