from .flags import Flag, FlagComment, RiskAssessment, ScanRun
from .forums import ActionItem, AgendaItem, Attendance, Escalation, Forum, ForumSession

__all__ = [
    "ActionItem",
    "AgendaItem",
    "Attendance",
    "Escalation",
    "Flag",
    "FlagComment",
    "Forum",
    "ForumSession",
    "RiskAssessment",
    "ScanRun",
]
