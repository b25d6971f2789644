"""Admin pages for webhooks, deliveries and notifications: office only, secret never shown."""

import pytest
from django.test import Client
from django.utils import timezone

from notifications.choices import DeliveryStatus
from notifications.models import Notification, Webhook, WebhookAttempt, WebhookDelivery
from tests.factories import MembershipFactory, UserFactory, WebhookFactory

PUBLIC = "https://93.184.215.14/hooks/cxgov"
SECRET = "whsec-admin-0123456789"
ADMIN = "/admin/notifications/"


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def webhook(organization) -> Webhook:
    return WebhookFactory(organization=organization, url=PUBLIC, secret=SECRET)


@pytest.fixture
def office(office_user) -> Client:
    return login(office_user)


def test_the_office_lists_and_opens_webhooks_without_seeing_the_secret(office, webhook, other_organization):
    WebhookFactory(organization=other_organization, url="https://93.184.215.15/theirs")
    delivery = WebhookDelivery.objects.create(webhook=webhook, event="flag.raised", payload={"id": "e1"})
    WebhookAttempt.objects.create(delivery=delivery, status_code=502, duration_ms=40, error="HTTP 502 Bad Gateway")

    listing = office.get(f"{ADMIN}webhook/")
    assert listing.status_code == 200
    assert PUBLIC in listing.text and "theirs" not in listing.text

    change = office.get(f"{ADMIN}webhook/{webhook.id}/change/")
    assert change.status_code == 200
    assert SECRET not in change.text
    assert 'type="password"' in change.text

    detail = office.get(f"{ADMIN}webhookdelivery/{delivery.id}/change/")
    assert detail.status_code == 200
    assert "HTTP 502 Bad Gateway" in detail.text and "&quot;e1&quot;" in detail.text


def test_adding_a_webhook_validates_url_and_secret(office, organization):
    body = {
        "organization": organization.id,
        "url": "http://169.254.169.254/",
        "secret": SECRET,
        "events": ["flag.raised"],
        "active": "on",
        "deliveries-TOTAL_FORMS": "0",
        "deliveries-INITIAL_FORMS": "0",
    }
    refused = office.post(f"{ADMIN}webhook/add/", body)
    assert refused.status_code == 200 and "169.254.169.254 (link-local)" in refused.text
    assert office.post(f"{ADMIN}webhook/add/", {**body, "url": PUBLIC, "secret": "short"}).status_code == 200
    assert Webhook.objects.count() == 0

    created = office.post(f"{ADMIN}webhook/add/", {**body, "url": PUBLIC})
    assert created.status_code == 302
    webhook = Webhook.objects.get()
    assert (webhook.url, webhook.secret, webhook.events) == (PUBLIC, SECRET, ["flag.raised"])

    # Saving without typing a secret keeps the stored one.
    office.post(f"{ADMIN}webhook/{webhook.id}/change/", {**body, "url": PUBLIC, "secret": ""})
    webhook.refresh_from_db()
    assert webhook.secret == SECRET


def test_the_re_enable_action(office, webhook):
    Webhook.objects.filter(pk=webhook.pk).update(active=False, consecutive_failures=3, disabled_reason="down")
    WebhookDelivery.objects.create(
        webhook=webhook, event="flag.raised", payload={"id": "p"}, next_attempt_at=timezone.now()
    )
    response = office.post(f"{ADMIN}webhook/", {"action": "reenable", "_selected_action": [webhook.id]})
    assert response.status_code == 302
    webhook.refresh_from_db()
    assert (webhook.active, webhook.consecutive_failures, webhook.disabled_reason) == (True, 0, "")
    assert WebhookDelivery.objects.get().status == DeliveryStatus.PENDING


def test_executives_do_not_see_webhooks_but_see_the_email_log(executive_user, webhook, organization):
    email = Notification.objects.create(
        organization=organization,
        key="flag:1:severity:high",
        recipient="a@example.com",
        subject="[cxgov] HIGH: x",
        body_text="A High flag was raised <b>on</b> Customer One.",
        last_error="SMTPServerDisconnected: connection lost",
        attempt_count=1,
    )
    client = login(executive_user)
    assert client.get(f"{ADMIN}webhook/").status_code == 403
    assert client.get(f"{ADMIN}webhook/{webhook.id}/change/").status_code == 403
    notifications = client.get(f"{ADMIN}notification/?status=pending")
    assert notifications.status_code == 200 and "a@example.com" in notifications.text
    page = client.get(f"{ADMIN}notification/{email.id}/change/").text
    assert "A High flag was raised &lt;b&gt;on&lt;/b&gt; Customer One." in page  # shown as text, escaped
    assert "SMTPServerDisconnected: connection lost" in page and "Pending" in page


def test_office_of_another_organization_cannot_open_it(webhook, other_organization):
    stranger = UserFactory()
    MembershipFactory(user=stranger, organization=other_organization, role="office")
    client = login(stranger)
    assert PUBLIC not in client.get(f"{ADMIN}webhook/").text
    assert client.get(f"{ADMIN}webhook/{webhook.id}/change/").status_code == 302  # "doesn't exist" redirect
