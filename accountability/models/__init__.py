from .flags import Flag, RiskAssessment, ScanRun
from .forums import ActionItem, AgendaItem, Attendance, Escalation, Forum, ForumSession
from .notifications import Notification, Webhook, WebhookAttempt, WebhookDelivery

__all__ = [
    "ActionItem",
    "AgendaItem",
    "Attendance",
    "Escalation",
    "Flag",
    "Forum",
    "ForumSession",
    "Notification",
    "RiskAssessment",
    "ScanRun",
    "Webhook",
    "WebhookAttempt",
    "WebhookDelivery",
]
