"""A webhook's new secret is in the change log (SPEC section 2: "Every change to a domain
record is kept with its actor"): one entry naming who changed it and the field, never the
secret nor a hash of it, through the API and the admin. The secret stays out of the
webhook's snapshots (`tracked(excluded_fields=["secret"])`); the writer says it changed
(`programs.history.secret_changed`)."""

import hashlib
import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from notifications.models import Webhook
from programs.changes import Change
from programs.choices import ChangeAction
from programs.services import api_key_create
from tests.factories import WebhookFactory

URL = "/api/v1/webhooks/"
PUBLIC = "https://93.184.215.14/hooks/cxgov"  # a public address: no DNS needed
OLD_SECRET = "whsec-old-0123456789abcdef"
NEW_SECRET = "whsec-NEW-fedcba9876543210"
SECRET_CHANGED = {"field": "secret", "label": "secret", "secret": True}

pytestmark = pytest.mark.django_db


@pytest.fixture
def webhook(organization) -> Webhook:
    return WebhookFactory(organization=organization, url=PUBLIC, secret=OLD_SECRET)


@pytest.fixture
def office(office_user) -> APIClient:
    client = APIClient()
    client.force_login(office_user)
    return client


def changes_of(webhook) -> list[Change]:
    """The webhook's change entries (its creation aside), oldest first."""
    return list(
        Change.objects.filter(model="notifications.webhook", object_id=webhook.pk, action=ChangeAction.CHANGED)
        .order_by("at", "id")
        .all()
    )


def assert_no_secret_in(*texts: str) -> None:
    for secret in (OLD_SECRET, NEW_SECRET):
        forms = (secret, hashlib.sha256(secret.encode()).hexdigest(), hashlib.md5(secret.encode()).hexdigest())
        for text in texts:
            for form in forms:
                assert form not in text


def entry_texts(entry: Change) -> list[str]:
    return [json.dumps(entry.changes), entry.sentence, entry.object_repr, entry.reason, entry.actor_label]


# --- The API ----------------------------------------------------------------------------


def test_a_new_secret_through_the_api_is_one_entry_naming_the_actor_and_no_value(office, office_user, webhook):
    response = office.patch(f"{URL}{webhook.pk}/", {"secret": NEW_SECRET}, format="json")

    assert response.status_code == 200
    webhook.refresh_from_db()
    assert webhook.secret == NEW_SECRET
    (entry,) = changes_of(webhook)
    assert (entry.actor_user_id, entry.actor_api_key_id) == (office_user.pk, None)
    assert entry.organization_id == webhook.organization_id
    assert entry.changes == [SECRET_CHANGED]
    assert entry.sentence.startswith(f"{entry.actor_label} changed the secret of {PUBLIC} on ")
    assert_no_secret_in(*entry_texts(entry))
    # The log as the API serves it says the same, without a value.
    log = office.get("/api/v1/changes/", {"model": "webhook", "action": "~"})
    assert log.status_code == 200
    (served,) = log.json()["results"]
    assert served["changes"] == [{"field": "secret", "label": "secret", "old": None, "new": None, "secret": True}]
    assert_no_secret_in(log.content.decode())


def test_a_new_secret_with_an_api_key_names_the_key(organization, webhook):
    key, raw = api_key_create(organization=organization, name="Ops key", role="office")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert client.patch(f"{URL}{webhook.pk}/", {"secret": NEW_SECRET}, format="json").status_code == 200

    (entry,) = changes_of(webhook)
    assert (entry.actor_user_id, entry.actor_api_key_id) == (None, key.pk)
    assert entry.changes == [SECRET_CHANGED]
    assert_no_secret_in(*entry_texts(entry))


def test_a_new_secret_with_other_fields_is_listed_among_them(office, webhook):
    other_url = "https://93.184.215.15/hooks/cxgov"
    office.patch(f"{URL}{webhook.pk}/", {"url": other_url, "secret": NEW_SECRET}, format="json")

    (entry,) = changes_of(webhook)
    assert {c["field"] for c in entry.changes} == {"url", "secret"}
    assert SECRET_CHANGED in entry.changes
    assert_no_secret_in(*entry_texts(entry))


def test_a_patch_that_leaves_the_secret_writes_no_secret_entry(office, webhook):
    # Without a secret: the change logged is the events' only.
    office.patch(f"{URL}{webhook.pk}/", {"events": ["flag.resolved"]}, format="json")
    (entry,) = changes_of(webhook)
    assert [c["field"] for c in entry.changes] == ["events"]

    # The same secret again: nothing changed, nothing logged.
    assert office.patch(f"{URL}{webhook.pk}/", {"secret": OLD_SECRET}, format="json").status_code == 200
    assert len(changes_of(webhook)) == 1

    # A later save of the same webhook does not repeat a secret change it did not make.
    office.patch(f"{URL}{webhook.pk}/", {"secret": NEW_SECRET}, format="json")
    office.patch(f"{URL}{webhook.pk}/", {"active": False}, format="json")
    *_, secret_entry, active_entry = changes_of(webhook)
    assert secret_entry.changes == [SECRET_CHANGED]
    assert [c["field"] for c in active_entry.changes] == ["active"]


# --- The admin --------------------------------------------------------------------------


def admin_form(webhook, **fields) -> dict:
    return {
        "organization": webhook.organization_id,
        "url": webhook.url,
        "format": webhook.format,
        "events": webhook.events,
        "active": "on",
        "secret": "",
        "deliveries-TOTAL_FORMS": "0",
        "deliveries-INITIAL_FORMS": "0",
        **fields,
    }


def test_a_new_secret_in_the_admin_is_one_entry_naming_the_actor_and_no_value(office_user, webhook):
    client = Client()
    client.force_login(office_user)
    page = f"/admin/notifications/webhook/{webhook.pk}/change/"

    # Saved with the box left blank: the secret is kept, nothing is logged.
    assert client.post(page, admin_form(webhook)).status_code == 302
    assert changes_of(webhook) == []

    assert client.post(page, admin_form(webhook, secret=NEW_SECRET)).status_code == 302

    webhook.refresh_from_db()
    assert webhook.secret == NEW_SECRET
    (entry,) = changes_of(webhook)
    assert (entry.actor_user_id, entry.changes) == (office_user.pk, [SECRET_CHANGED])
    assert_no_secret_in(*entry_texts(entry))
    # The admin's change log page shows it, without a value.
    log = client.get("/admin/programs/change/")
    assert log.status_code == 200
    assert f"changed the secret of {PUBLIC}" in log.content.decode()
    assert_no_secret_in(log.content.decode())
