"""Turning a webhook back on is in the change log (SPEC section 2: "Every change to a domain
record is kept with its actor"): one entry naming who did it, with `active` and the failure
count and reason it cleared, through the API, the admin's change form and the admin's
"Re-enable" action (which wrote nothing at all before: a queryset update)."""

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from notifications import deliveries
from notifications.models import Webhook, WebhookDelivery
from notifications.webhooks import AttemptResult
from programs.services import api_key_create
from tests.factories import WebhookFactory
from tests.notifications.test_webhook_secret_log import PUBLIC, URL, admin_form, changes_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def webhook(organization, settings) -> Webhook:
    """A webhook the worker turned off: its deliveries given up once, the threshold one."""
    settings.CXGOV_WEBHOOK_DISABLE_AFTER_FAILURES = 1
    webhook = WebhookFactory(organization=organization, url=PUBLIC)
    delivery = WebhookDelivery.objects.create(
        webhook=webhook, event="flag.raised", payload={"id": "p"}, next_attempt_at=timezone.now()
    )
    deliveries._count_give_up(delivery, AttemptResult(status_code=500, duration_ms=5, error="HTTP 500"), timezone.now())
    webhook.refresh_from_db()
    assert not webhook.active and webhook.consecutive_failures == 1
    return webhook


def cleared(webhook) -> list[dict]:
    """What turning `webhook` (as the fixture leaves it) back on changes, field by field, as
    the change log words the values."""
    return [
        {"field": "active", "old": "no", "new": "yes"},
        {"field": "consecutive_failures", "old": "1", "new": "0"},
        {"field": "disabled_reason", "old": webhook.disabled_reason, "new": ""},
    ]


def moved(entry) -> list[dict]:
    return [{"field": c["field"], "old": c["old"], "new": c["new"]} for c in entry.changes]


def assert_reenabled(webhook) -> None:
    webhook.refresh_from_db()
    assert (webhook.active, webhook.consecutive_failures, webhook.disabled_reason) == (True, 0, "")


def test_through_the_api_one_entry_names_the_key_and_what_was_cleared(organization, webhook):
    expected = cleared(webhook)
    key, raw = api_key_create(organization=organization, name="ops", role="office")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.patch(f"{URL}{webhook.pk}/", {"active": True}, format="json").status_code == 200
    assert_reenabled(webhook)
    (_disabled, entry) = changes_of(webhook)
    assert (entry.actor_user_id, entry.actor_api_key_id) == (None, key.pk)
    assert sorted(moved(entry), key=lambda c: c["field"]) == expected

    # Already on: turning it on again changes nothing and logs nothing.
    assert client.patch(f"{URL}{webhook.pk}/", {"active": True}, format="json").status_code == 200
    assert len(changes_of(webhook)) == 2


def test_through_the_admin_form_one_entry_names_the_user(office_user, webhook):
    expected = cleared(webhook)
    client = Client()
    client.force_login(office_user)
    page = f"/admin/notifications/webhook/{webhook.pk}/change/"
    assert client.post(page, admin_form(webhook)).status_code == 302
    assert_reenabled(webhook)
    (_disabled, entry) = changes_of(webhook)
    assert (entry.actor_user_id, entry.actor_api_key_id) == (office_user.pk, None)
    assert sorted(moved(entry), key=lambda c: c["field"]) == expected


def test_the_admin_action_logs_it_naming_the_user(office_user, webhook):
    expected = cleared(webhook)
    client = Client()
    client.force_login(office_user)
    response = client.post("/admin/notifications/webhook/", {"action": "reenable", "_selected_action": [webhook.pk]})
    assert response.status_code == 302
    assert_reenabled(webhook)
    (_disabled, entry) = changes_of(webhook)
    assert (entry.actor_user_id, entry.actor_api_key_id) == (office_user.pk, None)
    assert sorted(moved(entry), key=lambda c: c["field"]) == expected

    # The action on a webhook already on writes nothing more.
    client.post("/admin/notifications/webhook/", {"action": "reenable", "_selected_action": [webhook.pk]})
    assert len(changes_of(webhook)) == 2
