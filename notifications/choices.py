from django.db import models


class WebhookEvent(models.TextChoices):
    FLAG_RAISED = "flag.raised", "flag.raised"
    FLAG_ESCALATED = "flag.escalated", "flag.escalated"
    FLAG_RESOLVED = "flag.resolved", "flag.resolved"
    RISK_LEVEL_CHANGED = "risk.level_changed", "risk.level_changed"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed (gave up)"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed (gave up)"
    CANCELLED = "cancelled", "Cancelled (no longer true)"


class WebhookFormat(models.TextChoices):
    """The body a webhook receives (docs/webhooks.md): cxgov's signed JSON, or a chat message."""

    CXGOV = "cxgov", "cxgov JSON (signed)"
    SLACK = "slack", "Slack incoming webhook (Block Kit)"
    TEAMS = "teams", "Microsoft Teams workflow (Adaptive Card)"
