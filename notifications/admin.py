"""Admin for webhooks, their deliveries and attempts, and the email log.

Webhooks are the program office's business: only members with the office role (and
superusers) see them, since a URL may carry a receiver's token. The secret is write-only:
a password input that never renders the stored value; left blank on change, it is kept;
a new one is in the change log as "changed", never with a value.
Deliveries, attempts and notifications (the outbox rows of webhooks and emails) are written
by the system, read-only for all.
"""

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.html import format_html

from accountability.nudges import ASKS
from programs.admin import OrganizationScopedAdmin, ReadOnlyAdminMixin, ScopedModelForm
from programs.admin.scoping import is_superuser
from programs.choices import Role
from programs.history import secret_changed
from programs.scoping import organization_id_of

from .choices import DeliveryStatus, WebhookEvent, WebhookFormat
from .deliveries import ENABLED, webhook_enable
from .emails import pretty_json
from .models import Notification, Nudge, Webhook, WebhookAttempt, WebhookDelivery
from .webhooks import validate_webhook_url

SECRET_MIN_LENGTH = 16


class WebhookForm(ScopedModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https", help_text="http(s) URL that receives the events.")
    secret = forms.CharField(
        required=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=f"Shared secret for the X-Cxgov-Signature HMAC (at least {SECRET_MIN_LENGTH} characters). "
        "Never shown again; leave blank to keep the current one.",
    )
    events = forms.MultipleChoiceField(
        choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple, help_text="Events sent to this URL."
    )

    format = forms.ChoiceField(
        choices=WebhookFormat.choices,
        required=False,
        initial=WebhookFormat.CXGOV,
        help_text="The body sent: cxgov's signed JSON, a Slack message or a Microsoft Teams card (docs/webhooks.md).",
    )

    class Meta:
        model = Webhook
        fields = ("organization", "url", "format", "secret", "events", "active")

    def clean_format(self) -> str:
        # Left out (an older form, a script): what it was, or cxgov for a new webhook.
        return self.cleaned_data.get("format") or self.instance.format or WebhookFormat.CXGOV

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        validate_webhook_url(url)
        return url

    def clean_secret(self) -> str:
        secret = self.cleaned_data.get("secret", "")
        if not secret:
            if not self.instance.pk:
                raise forms.ValidationError("A new webhook needs a secret.")
            return self.instance.secret  # kept as is
        if len(secret) < SECRET_MIN_LENGTH:
            raise forms.ValidationError(f"Use at least {SECRET_MIN_LENGTH} characters.")
        return secret


class OfficeOnlyMixin:
    """Viewing needs the office role too (see the module docstring)."""

    def _office_org_ids(self, request) -> list[int]:
        return [org for org, role in self._roles(request).items() if role == Role.OFFICE]

    def has_module_permission(self, request) -> bool:
        return is_superuser(request) or bool(self._office_org_ids(request))

    def has_view_permission(self, request, obj=None) -> bool:
        if is_superuser(request):
            return super().has_view_permission(request, obj)
        offices = self._office_org_ids(request)
        return bool(offices) if obj is None else organization_id_of(obj) in offices

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if is_superuser(request) else queryset.for_organizations(self._office_org_ids(request))


class DeliveryInline(ReadOnlyAdminMixin, OfficeOnlyMixin, OrganizationScopedAdmin, admin.TabularInline):
    model = WebhookDelivery
    fields = ("event", "event_id", "status", "attempt_count", "next_attempt_at", "delivered_at", "created_at")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = "deliveries (pending and failed, and the last 7 days)"

    def get_queryset(self, request):
        # A busy webhook has thousands of deliveries; the page shows those that need a look.
        recent = timezone.now() - dt.timedelta(days=7)
        return (
            super()
            .get_queryset(request)
            .filter(Q(created_at__gte=recent) | ~Q(status=DeliveryStatus.DELIVERED))
            .order_by("-created_at")
        )


@admin.register(Webhook)
class WebhookAdmin(OfficeOnlyMixin, OrganizationScopedAdmin, admin.ModelAdmin):
    form = WebhookForm
    list_display = (
        "url",
        "organization",
        "format",
        "active",
        "events_display",
        "consecutive_failures",
        "last_delivery_at",
        "failed_count",
        "created_at",
    )
    list_filter = ("active", "format", "organization")
    list_select_related = ("organization",)
    search_fields = ("url", "disabled_reason")
    readonly_fields = ("consecutive_failures", "disabled_reason", "created_at")
    inlines = (DeliveryInline,)
    actions = ("reenable",)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                last_delivery=Max("deliveries__created_at"),
                failed=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.FAILED)),
            )
        )

    @admin.display(description="events")
    def events_display(self, obj: Webhook) -> str:
        return ", ".join(obj.events or [])

    @admin.display(description="last delivery", ordering="last_delivery")
    def last_delivery_at(self, obj: Webhook):
        return obj.last_delivery

    @admin.display(description="given up", ordering="failed")
    def failed_count(self, obj: Webhook) -> int:
        return obj.failed

    def save_model(self, request, obj: Webhook, form, change) -> None:
        reenabled = change and "active" in form.changed_data and obj.active
        # The blank box keeps the secret, so `changed_data` always lists it: compare the values.
        if change and form.cleaned_data["secret"] != form.initial.get("secret"):
            secret_changed(obj, "secret")  # out of the snapshots: the log says "changed", no value
        if reenabled:  # the failures are cleared in the same save: one change-log entry
            for name, value in ENABLED.items():
                setattr(obj, name, value)
        super().save_model(request, obj, form, change)
        if reenabled:
            resumed = webhook_enable(webhook=obj, actor=request.user)
            messages.info(request, f"Re-enabled; {resumed} pending deliveries resume.")

    @admin.action(description="Re-enable the selected webhooks (reset failures, resume pending deliveries)")
    def reenable(self, request, queryset) -> None:
        webhooks = list(queryset.select_related("organization"))
        if not all(self.has_change_permission(request, w) for w in webhooks):
            raise PermissionDenied
        resumed = sum(webhook_enable(webhook=w, actor=request.user) for w in webhooks)
        messages.success(request, f"Re-enabled {len(webhooks)} webhook(s); {resumed} pending deliveries resume.")


class AttemptInline(ReadOnlyAdminMixin, OfficeOnlyMixin, OrganizationScopedAdmin, admin.TabularInline):
    model = WebhookAttempt
    fields = ("attempted_at", "status_code", "duration_ms", "error")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, OfficeOnlyMixin, OrganizationScopedAdmin, admin.ModelAdmin):
    list_display = (
        "event",
        "webhook",
        "event_id",
        "status",
        "attempt_count",
        "next_attempt_at",
        "delivered_at",
        "created_at",
    )
    list_filter = ("status", "event", "webhook__organization")
    list_select_related = ("webhook",)
    search_fields = ("event_id", "webhook__url")
    date_hierarchy = "created_at"
    fields = (
        "webhook",
        "event",
        "event_id",
        "status",
        "attempt_count",
        "next_attempt_at",
        "delivered_at",
        "created_at",
        "payload_display",
    )
    readonly_fields = fields
    inlines = (AttemptInline,)

    @admin.display(description="payload")
    def payload_display(self, obj: WebhookDelivery) -> str:
        return format_html("<pre style='white-space: pre-wrap'>{}</pre>", pretty_json(obj.payload))


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin, admin.ModelAdmin):
    """The email outbox: what is waiting to go, what went, what was given up and why."""

    list_display = ("created_at", "recipient", "subject", "status", "attempt_count", "sent_at", "organization")
    list_filter = ("status", "organization")
    list_select_related = ("organization",)
    search_fields = ("recipient", "subject", "key")
    date_hierarchy = "created_at"
    fields = (
        "organization",
        "key",
        "recipient",
        "recipient_name",
        "subject",
        "status",
        "attempt_count",
        "next_attempt_at",
        "last_error",
        "created_at",
        "sent_at",
        "attachment_name",
        "body_display",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        # The attached PDF (the board pack) can weigh megabytes: never loaded for a page of rows.
        return super().get_queryset(request).defer("attachment")

    @admin.display(description="body")
    def body_display(self, obj: Notification) -> str:
        # The text part only: the HTML part is not rendered inside the admin.
        return format_html("<pre style='white-space: pre-wrap'>{}</pre>", obj.body_text)


class NudgeKindFilter(admin.SimpleListFilter):
    """The nudge's kind in words ("Complete action"), never its code."""

    title = "asked to"
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return list(ASKS.items())

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(Nudge)
class NudgeAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin, admin.ModelAdmin):
    """Reminders told before a rule fires (SPEC §4): who was asked to do what, by when. The
    landing page's "nudges outstanding" links here (due today or later)."""

    list_display = ("sent_on", "person", "what", "due_on", "organization")
    list_filter = (NudgeKindFilter, "sent_on", "organization")
    list_select_related = ("person", "organization")
    search_fields = ("person__name", "person__email", "asked")
    date_hierarchy = "due_on"
    # What was asked of whom, in words: the key and kind code are the outbox's business.
    fields = ("person", "what", "due_on", "sent_on", "notification", "organization")
    readonly_fields = fields

    @admin.display(description="Asked to", ordering="kind")
    def what(self, obj: Nudge) -> str:
        # `asked` names the subject ("Complete action 'Send the churn analysis'"); rows told
        # before it was kept say what kind of thing was asked.
        return obj.asked or ASKS.get(obj.kind, obj.kind)
