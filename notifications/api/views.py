"""`/api/v1/webhooks/`: an organization's webhooks, for the program office only.

- `secret` is write-only: required on create (at least 16 characters), optional on
  update (omitted: kept), never returned. A new one is in the change log as "changed",
  with who changed it, never with a value.
- `url` must be http(s) and resolve to public addresses (unless
  `CXGOV_WEBHOOK_ALLOW_PRIVATE`); anything else is a 400 that says why.
- `events`: a non-empty list of `flag.raised`, `flag.escalated`, `flag.resolved`, `risk.level_changed`.
- `format`: `cxgov` (default), `slack` or `teams`: the body sent (docs/webhooks.md).
- Setting `active` back to true re-enables a webhook that was disabled after failures:
  its failure count and reason are cleared and its pending deliveries resume.
- `GET webhooks/{id}/deliveries/` lists its deliveries, newest first, each with its
  attempts (status code, duration, error); `?status=pending|delivered|failed`.

Every action, reads included, needs the office role: a webhook URL may carry the
receiver's token, and the delivery log shows the payloads.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from cxgov.api.permissions import OFFICE
from cxgov.api.serializers import ScopedModelSerializer
from cxgov.api.viewsets import ScopedModelViewSet
from programs.access import roles
from programs.choices import Role
from programs.history import secret_changed

from ..choices import DeliveryStatus
from ..deliveries import ENABLED, webhook_enable
from ..models import Webhook, WebhookAttempt, WebhookDelivery
from ..webhooks import EVENT_NAMES, validate_webhook_url

SECRET_MIN_LENGTH = 16


class WebhookSerializer(ScopedModelSerializer):
    organization_from = "organization"
    create_only_fields = ("organization",)

    secret = serializers.CharField(
        write_only=True,
        required=False,
        min_length=SECRET_MIN_LENGTH,
        max_length=200,
        trim_whitespace=False,
        help_text="Key of the X-Cxgov-Signature HMAC. Write-only: never returned. Required on create.",
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_NAMES),
        allow_empty=False,
        max_length=len(EVENT_NAMES) * 2,
        help_text="Events sent to this URL.",
    )

    class Meta:
        model = Webhook
        fields = [
            "id",
            "organization",
            "url",
            "format",
            "secret",
            "events",
            "active",
            "consecutive_failures",
            "disabled_reason",
            "created_at",
        ]
        read_only_fields = ["consecutive_failures", "disabled_reason", "created_at"]
        extra_kwargs = {"organization": {"required": False}}

    def validate_url(self, value: str) -> str:
        try:
            validate_webhook_url(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None
        return value

    def validate_events(self, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))  # each once, in the order given

    def validate(self, attrs: dict) -> dict:
        if self.instance is None and not attrs.get("secret"):
            raise serializers.ValidationError({"secret": ["A new webhook needs a secret."]})
        return super().validate(attrs)


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["attempted_at", "status_code", "duration_ms", "error"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    attempts = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "event_id",
            "status",
            "attempt_count",
            "next_attempt_at",
            "delivered_at",
            "created_at",
            "payload",
            "attempts",
        ]


class WebhookViewSet(ScopedModelViewSet):
    queryset = Webhook.objects.all()
    serializer_class = WebhookSerializer
    role_rules = {name: OFFICE for name in ("list", "retrieve", "metadata", "deliveries")}
    filterset_fields = ["active"]
    ordering_fields = ["created_at", "url"]
    ordering = ["id"]

    def get_queryset(self):
        queryset = super().get_queryset()
        user = self.request.user
        if getattr(user, "is_superuser", False) and getattr(user, "api_key", None) is None:
            return queryset
        # Only the organizations where the caller is the office, even for reads.
        offices = [org for org, role in roles(user).items() if role == Role.OFFICE]
        return queryset.filter(organization_id__in=offices)

    def update_object(self, serializer) -> None:
        was_active = serializer.instance.active
        secret = serializer.validated_data.get("secret")
        if secret is not None and secret != serializer.instance.secret:
            # Out of the snapshots, so only here is the change seen: the log says "changed".
            secret_changed(serializer.instance, "secret")
        enabling = serializer.validated_data.get("active") is True and not was_active
        # Turned back on: the failures are cleared in the same save, one change-log entry.
        webhook = serializer.save(**(ENABLED if enabling else {}))
        if enabling:
            webhook_enable(webhook=webhook, actor=self.actor)

    @extend_schema(
        responses=WebhookDeliverySerializer(many=True),
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=DeliveryStatus.values, description="Only this status."),
            OpenApiParameter("page", OpenApiTypes.INT),
            OpenApiParameter("page_size", OpenApiTypes.INT),
        ],
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def deliveries(self, request: Request, pk=None) -> Response:
        """The webhook's deliveries, newest first, each with its attempts (oldest first)."""
        webhook = self.get_object()
        queryset = WebhookDelivery.objects.filter(webhook=webhook).prefetch_related(
            Prefetch("attempts", queryset=WebhookAttempt.objects.order_by("attempted_at", "id"))
        )
        status = request.query_params.get("status")
        if status:
            if status not in DeliveryStatus.values:
                raise serializers.ValidationError({"status": [f"One of {', '.join(DeliveryStatus.values)}."]})
            queryset = queryset.filter(status=status)
        page = self.paginate_queryset(queryset.order_by("-created_at", "-id"))
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)
