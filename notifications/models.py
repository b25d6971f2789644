import uuid

from django.db import models
from django.db.models import Q
from django.utils import dateformat, timezone

from accountability.models import Flag
from programs.history import tracked
from programs.models import Organization, scoped_queryset

from .choices import DeliveryStatus, NotificationStatus, WebhookFormat


class Webhook(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=200)
    events = models.JSONField(
        default=list, help_text="Any of flag.raised, flag.escalated, flag.resolved, risk.level_changed."
    )
    format = models.CharField(
        max_length=10,
        choices=WebhookFormat.choices,
        default=WebhookFormat.CXGOV,
        help_text="The body sent: cxgov's signed JSON, a Slack message or a Microsoft Teams card.",
    )
    active = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    # The secret stays out of the snapshots (and so out of the change log).
    history = tracked(excluded_fields=["secret"])
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
    """One email to one person: an outbox row, written (rendered) in the transaction of the
    change that calls for it and sent after commit (see `emails.py`).

    The unique (key, recipient) makes "never twice" a database fact: a repeated event
    writes nothing. Subject and bodies are rendered when the row is written, so the email
    says what was true then, like a webhook's frozen payload, and sending needs no query
    of the domain.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="notifications")
    key = models.CharField(max_length=200, help_text="What the email is about, e.g. flag:12:severity:high.")
    recipient = models.EmailField()
    recipient_name = models.CharField(max_length=200, blank=True)
    subject = models.CharField(max_length=300)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    flag = models.ForeignKey(
        Flag,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        help_text="For a flag alert: not sent if the flag is closed before it goes out.",
    )
    # One file sent with the email (the monthly board pack), frozen when the row is written.
    attachment_name = models.CharField(max_length=200, blank=True)
    attachment_type = models.CharField(max_length=100, blank=True)
    attachment = models.BinaryField(null=True, blank=True, editable=False)
    status = models.CharField(max_length=20, choices=NotificationStatus.choices, default=NotificationStatus.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = scoped_queryset("organization").as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["key", "recipient"], name="notification_once_per_key")]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="notification_pending_due")
        ]

    def __str__(self) -> str:
        return f"{self.key} → {self.recipient} ({self.status})"


class Nudge(models.Model):
    """One nudge told to one person (SPEC §4, `accountability.nudges`): the record that keeps
    it from being sent twice. `key` is the nudge's subject and due date; `notification` the
    day's grouped email that carried it."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="nudges")
    person = models.ForeignKey("programs.Person", on_delete=models.CASCADE, related_name="nudges")
    key = models.CharField(max_length=200, help_text="kind:subject type:subject id:due date.")
    kind = models.CharField(max_length=30)
    asked = models.CharField(
        max_length=400, blank=True, help_text="What the person was asked to do, as the email said it."
    )
    due_on = models.DateField()
    sent_on = models.DateField(help_text="The scan's as_of when it was told.")
    notification = models.ForeignKey(
        Notification, null=True, blank=True, on_delete=models.SET_NULL, related_name="nudges"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = scoped_queryset("organization").as_manager()

    class Meta:
        ordering = ["-sent_on", "person_id", "due_on"]
        constraints = [models.UniqueConstraint(fields=["key", "person"], name="nudge_once_per_subject_due_person")]

    def __str__(self) -> str:
        # Read in the admin's titles and links: the ask in words, never the key.
        return f"{self.asked or self.kind.replace('_', ' ')}, due {dateformat.format(self.due_on, 'j M Y')}"
