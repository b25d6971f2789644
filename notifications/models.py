import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from programs.models import Organization, scoped_queryset

from .choices import DeliveryStatus


class Webhook(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=200)
    events = models.JSONField(default=list, help_text="Any of flag.raised, flag.resolved, risk.level_changed.")
    active = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = scoped_queryset("organization").as_manager()

    class Meta:
        ordering = ["organization", "url"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event for one webhook; retried until delivered or given up."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.UUIDField(default=uuid.uuid4)
    event = models.CharField(max_length=40)
    payload = models.JSONField()
    status = models.CharField(max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = scoped_queryset("webhook__organization").as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "webhook deliveries"
        constraints = [models.UniqueConstraint(fields=["webhook", "event_id"], name="delivery_one_per_event")]
        indexes = [models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="delivery_pending_due")]

    def __str__(self) -> str:
        return f"{self.event} → {self.webhook} ({self.status})"


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    attempted_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    objects = scoped_queryset("delivery__webhook__organization").as_manager()

    class Meta:
        ordering = ["-attempted_at"]

    def __str__(self) -> str:
        return f"{self.delivery}: {self.status_code or self.error[:40]}"


class Notification(models.Model):
    """An email sent for an event; the unique key makes "never twice" a database fact."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="notifications")
    key = models.CharField(max_length=200, help_text="What the email was about, e.g. flag:12:raised.")
    recipient = models.EmailField()
    subject = models.CharField(max_length=300)
    sent_at = models.DateTimeField(default=timezone.now)

    objects = scoped_queryset("organization").as_manager()

    class Meta:
        ordering = ["-sent_at"]
        constraints = [models.UniqueConstraint(fields=["key", "recipient"], name="notification_once_per_key")]

    def __str__(self) -> str:
        return f"{self.key} → {self.recipient}"
