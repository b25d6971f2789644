"""Webhook deliveries: one outbox row per (webhook, event), attempted until delivered or given up.

The life of a delivery (the claim, lease, backoff and sweep are `outbox.py`'s):
- `record_events` (called by the event receivers, inside the transaction of the change)
  writes one `pending` delivery per active webhook subscribed to the event, all sharing
  one event id, with the payload frozen at that moment, and queues
  `deliver_webhook_task` for each once the transaction commits.
- `deliver_once` makes one attempt: it claims it (`outbox.claim`), posts, and records a
  `WebhookAttempt` for every try.
- A 2xx marks the delivery `delivered` and resets the webhook's failure count. Anything
  else schedules the next attempt after `backoff_seconds(n)`; the attempt number
  `CXGOV_WEBHOOK_MAX_ATTEMPTS` gives up (`failed`).
- A webhook is disabled when `CXGOV_WEBHOOK_DISABLE_AFTER_FAILURES` deliveries in a row
  were given up (not attempts: a receiver down for an hour loses nothing), and the
  organization's program office is told by email, written in that same transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from programs.actors import stamp
from programs.changelog import bulk_history

from . import emails, formats, outbox, webhooks
from .choices import DeliveryStatus
from .models import Webhook, WebhookAttempt, WebhookDelivery
from .outbox import Outcome

logger = logging.getLogger(__name__)


def retry_policy() -> outbox.RetryPolicy:
    """The webhook settings, read at each use (they may change at run time in tests)."""
    return outbox.RetryPolicy(
        base_seconds=settings.CXGOV_WEBHOOK_RETRY_BASE_SECONDS,
        max_seconds=settings.CXGOV_WEBHOOK_RETRY_MAX_SECONDS,
        max_attempts=settings.CXGOV_WEBHOOK_MAX_ATTEMPTS,
    )


def backoff_seconds(attempt: int) -> int:
    """Seconds to wait after failed attempt `attempt` (1-based): base × 2^(n-1), capped."""
    return retry_policy().backoff_seconds(attempt)


def active_webhooks(organization_ids: Iterable[int]) -> dict[int, list[Webhook]]:
    """organization id → its active webhooks, in one query (for a batch of events)."""
    by_org: dict[int, list[Webhook]] = {org_id: [] for org_id in organization_ids}
    if not by_org:
        return by_org
    for hook in Webhook.objects.filter(organization_id__in=list(by_org), active=True).select_related("organization"):
        by_org[hook.organization_id].append(hook)
    return by_org


def listening(hooks: dict[int, list[Webhook]], organization_id: int, event: str) -> list[Webhook]:
    """The webhooks among `hooks` (see `active_webhooks`) subscribed to `event`."""
    return [w for w in hooks.get(organization_id, []) if event in (w.events or [])]


@dataclass(frozen=True)
class Event:
    """One event to deliver: its name and its `data` (see `webhooks.flag_data`, `risk_data`)."""

    organization_id: int
    event: str
    data: dict


def record_events(events: Sequence[Event], hooks: dict[int, list[Webhook]]) -> list[WebhookDelivery]:
    """Write one pending delivery per event and subscribed active webhook (one event id
    per event, the payload frozen now), and queue each delivery's first attempt once the
    transaction commits.

    `hooks` are the organizations' active webhooks (`active_webhooks`). Call inside the
    transaction of the change: a rollback leaves no delivery and sends nothing. One
    insert for the whole batch. Each call is a new event with a new id; re-running it
    sends the events again.
    """
    now = timezone.now()
    rows = []
    for item in events:
        assert item.event in webhooks.EVENT_NAMES, item.event
        targets = listening(hooks, item.organization_id, item.event)
        if not targets:
            continue
        event_id = uuid.uuid4()
        payload = webhooks.envelope(
            event=item.event, organization=targets[0].organization, data=item.data, event_id=event_id, created_at=now
        )
        rows += [
            WebhookDelivery(
                webhook=w, event_id=event_id, event=item.event, payload=payload, next_attempt_at=now, created_at=now
            )
            for w in targets
        ]
    deliveries = WebhookDelivery.objects.bulk_create(rows, batch_size=500) if rows else []
    outbox.queue_batches_on_commit(outbox.DELIVER_WEBHOOKS_TASK, [delivery.pk for delivery in deliveries])
    return deliveries


def deliver_once(delivery_id: int, *, now: dt.datetime | None = None) -> Outcome:
    """Make the next attempt of one delivery, if it is due, and record it.

    Idempotent: a delivered or failed delivery returns at once; an attempt that another
    worker already claimed is not repeated (`outbox.claim`). `now` is read once and passed
    down (tests pass it to walk through the schedule). The HTTP request runs outside any
    transaction.
    """
    now = now or timezone.now()
    delivery = WebhookDelivery.objects.select_related("webhook__organization").filter(pk=delivery_id).first()
    if delivery is not None and delivery.status == DeliveryStatus.PENDING and not delivery.webhook.active:
        # Kept pending: re-enabling the webhook resumes it (see `webhook_enable`).
        return Outcome("inactive")
    skip = outbox.skip_reason(delivery, now)
    if skip is not None:
        return skip
    attempt = outbox.claim(delivery, now)
    if attempt is None:
        return Outcome("claimed")

    webhook = delivery.webhook
    body = formats.body(webhook.format, delivery.payload)
    headers = webhooks.request_headers(
        secret=webhook.secret, body=body, event=delivery.event, event_id=str(delivery.event_id), attempt=attempt
    )
    result = webhooks.post(webhook.url, body, headers)
    try:
        return _record(delivery, attempt, result, now)
    except IntegrityError:
        # The webhook (and its deliveries) was deleted while the request was in flight.
        return Outcome("done")


@transaction.atomic
def _record(delivery: WebhookDelivery, attempt: int, result: webhooks.AttemptResult, now: dt.datetime) -> Outcome:
    WebhookAttempt.objects.create(
        delivery=delivery,
        attempted_at=now,
        status_code=result.status_code,
        duration_ms=result.duration_ms,
        error=result.error,
    )
    if result.ok:
        outcome = outbox.record_success(delivery, attempt, status=DeliveryStatus.DELIVERED, delivered_at=now)
    else:
        outcome = outbox.record_failure(delivery, attempt, now, retry_policy())
    if outcome.status == DeliveryStatus.DELIVERED:
        Webhook.objects.filter(pk=delivery.webhook_id, consecutive_failures__gt=0).update(consecutive_failures=0)
    elif outcome.status == DeliveryStatus.FAILED:
        _count_give_up(delivery, result, now)
    return outcome


def _count_give_up(delivery: WebhookDelivery, result: webhooks.AttemptResult, now: dt.datetime) -> None:
    """One more delivery given up; disable the webhook when that makes the threshold."""
    threshold = settings.CXGOV_WEBHOOK_DISABLE_AFTER_FAILURES
    Webhook.objects.filter(pk=delivery.webhook_id).update(consecutive_failures=F("consecutive_failures") + 1)
    reason = (
        f"Disabled automatically on {now:%Y-%m-%d %H:%M} UTC: {threshold} deliveries in a row failed after "
        f"{settings.CXGOV_WEBHOOK_MAX_ATTEMPTS} attempts each. Last error: {result.error or 'none recorded'}"
    )
    # Conditional: only the worker that crosses the threshold disables and writes the notice.
    disabled = Webhook.objects.filter(pk=delivery.webhook_id, active=True, consecutive_failures__gte=threshold).update(
        active=False, disabled_reason=reason
    )
    if disabled:
        logger.warning("webhook %s disabled: %s", delivery.webhook_id, reason)
        # The row as written, snapshotted and in the change log as the system's change with
        # its reason: the office sees who turned it off, and a re-enable's entry has a
        # "before" to show (active, the failure count, the reason it clears).
        webhook = Webhook.objects.get(pk=delivery.webhook_id)
        bulk_history(Webhook, [webhook], update=True, reason=reason)
        emails.write_webhook_disabled_notice(webhook, delivery.pk)


#: What a webhook turned back on holds: a writer that saves the webhook anyway (the API's
#: update, the admin's change form) saves these with it, one change-log entry for the lot.
ENABLED = {"active": True, "consecutive_failures": 0, "disabled_reason": ""}


@transaction.atomic
def webhook_enable(*, webhook: Webhook, actor=None) -> int:
    """Turn a webhook back on: clear its failure count and reason, and resume its pending
    deliveries (queued after commit). Safe to re-run. Returns the number resumed.

    What it changes is saved through the model, so the webhook's history and the change log
    name `actor` (SPEC §2: every change names who made it); a webhook already on, with
    nothing to clear, is not saved again."""
    changed = [name for name, value in ENABLED.items() if getattr(webhook, name) != value]
    if changed:
        for name in changed:
            setattr(webhook, name, ENABLED[name])
        stamp(webhook, actor)
        webhook.save(update_fields=changed)
    pending = WebhookDelivery.objects.filter(webhook=webhook, status=DeliveryStatus.PENDING)
    pending.update(next_attempt_at=timezone.now())
    ids = list(pending.values_list("id", flat=True))
    outbox.queue_batches_on_commit(outbox.DELIVER_WEBHOOKS_TASK, ids)
    return len(ids)
