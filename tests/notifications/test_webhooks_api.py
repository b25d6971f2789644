"""`/api/v1/webhooks/`: office only, write-only secret, refused targets are 400s, the
delivery log with its attempts."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from notifications.choices import DeliveryStatus
from notifications.models import Webhook, WebhookAttempt, WebhookDelivery
from programs.services import api_key_create
from tests.factories import MembershipFactory, UserFactory, WebhookFactory

URL = "/api/v1/webhooks/"
PUBLIC = "https://93.184.215.14/hooks/cxgov"  # a public address: no DNS needed
SECRET = "whsec-0123456789abcdef"


def key_client(organization, role: str) -> APIClient:
    _, raw = api_key_create(organization=organization, name=f"{role} key", role=role)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def user_client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def office(organization) -> APIClient:
    return key_client(organization, "office")


@pytest.fixture
def webhook(organization) -> Webhook:
    return WebhookFactory(organization=organization, url=PUBLIC, secret=SECRET)


def create(client, **body):
    return client.post(URL, {"url": PUBLIC, "secret": SECRET, "events": ["flag.raised"], **body}, format="json")


# --- Create and read ------------------------------------------------------------------------


def test_the_office_creates_a_webhook_and_the_secret_is_never_returned(office, organization):
    response = create(office, events=["flag.raised", "risk.level_changed", "flag.raised"])

    assert response.status_code == 201, response.data
    assert response.data == {
        "id": response.data["id"],
        "organization": organization.id,
        "url": PUBLIC,
        "format": "cxgov",
        "events": ["flag.raised", "risk.level_changed"],
        "active": True,
        "consecutive_failures": 0,
        "disabled_reason": "",
        "created_at": response.data["created_at"],
    }
    webhook = Webhook.objects.get()
    assert webhook.secret == SECRET and webhook.organization == organization
    for body in (office.get(URL).content, office.get(f"{URL}{webhook.id}/").content):
        assert SECRET.encode() not in body and b"secret" not in body


def test_an_office_user_in_one_organization_creates_without_naming_it(office_user, organization):
    response = create(user_client(office_user))
    assert response.status_code == 201, response.data
    assert response.data["organization"] == organization.id


def test_a_user_in_several_organizations_names_one_of_his(office_user, organization, other_organization):
    MembershipFactory(user=office_user, organization=other_organization, role="executive")
    client = user_client(office_user)
    assert create(client).data == {"organization": ["Name the organization (id): you belong to several."]}
    assert create(client, organization=organization.id).status_code == 201
    # Executive there: not allowed to manage its webhooks.
    assert create(client, organization=other_organization.id).status_code == 403


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"secret": None}, "secret", "This field may not be null."),
        ({"secret": "short"}, "secret", "Ensure this field has at least 16 characters."),
        ({"events": []}, "events", "This list may not be empty."),
        ({"events": ["flag.created"]}, "events", '"flag.created" is not a valid choice.'),
        ({"events": "flag.raised"}, "events", 'Expected a list of items but got type "str".'),
        ({"url": "not a url"}, "url", "Enter a valid URL."),
    ],
)
def test_invalid_input_is_a_400_naming_the_field(office, body, field, message):
    response = create(office, **body)
    assert response.status_code == 400
    assert field in response.data
    flat = str(response.data[field])
    assert message in flat


def test_a_new_webhook_needs_a_secret(office):
    response = office.post(URL, {"url": PUBLIC, "events": ["flag.raised"]}, format="json")
    assert response.status_code == 400
    assert response.data == {"secret": ["A new webhook needs a secret."]}


REFUSED = [
    ("http://10.0.0.1/hook", "The address 10.0.0.1 (private)"),
    ("http://127.0.0.1:8000/hook", "The address 127.0.0.1 (loopback)"),
    ("http://169.254.169.254/latest/meta-data/", "The address 169.254.169.254 (link-local)"),
    ("http://[::1]/hook", "The address ::1 (loopback)"),
    ("http://localhost:8000/hook", "localhost resolves to 127.0.0.1 (loopback)"),
    ("ftp://93.184.215.14/hook", "Webhook URLs must start with http:// or https://."),
]


@pytest.mark.parametrize(("url", "message"), REFUSED)
def test_refused_targets_are_a_400(office, url, message):
    response = create(office, url=url)
    assert response.status_code == 400
    assert list(response.data) == ["url"]
    assert response.data["url"][0].startswith(message)
    assert Webhook.objects.count() == 0


def test_loopback_is_accepted_when_the_setting_allows_it(office, settings):
    settings.CXGOV_WEBHOOK_ALLOW_PRIVATE = True
    assert create(office, url="http://127.0.0.1:8000/hook").status_code == 201


def test_updating_to_a_refused_url_is_a_400(office, webhook):
    response = office.patch(f"{URL}{webhook.id}/", {"url": "http://169.254.169.254/"}, format="json")
    assert response.status_code == 400
    webhook.refresh_from_db()
    assert webhook.url == PUBLIC


def test_patch_without_secret_keeps_it_and_read_only_fields_are_ignored(office, webhook):
    response = office.patch(
        f"{URL}{webhook.id}/",
        {"events": ["flag.resolved"], "consecutive_failures": 99, "disabled_reason": "x"},
        format="json",
    )
    assert response.status_code == 200
    webhook.refresh_from_db()
    assert (webhook.events, webhook.secret, webhook.consecutive_failures, webhook.disabled_reason) == (
        ["flag.resolved"],
        SECRET,
        0,
        "",
    )
    office.patch(f"{URL}{webhook.id}/", {"secret": "a-brand-new-secret-value"}, format="json")
    webhook.refresh_from_db()
    assert webhook.secret == "a-brand-new-secret-value"


def test_the_organization_of_a_webhook_cannot_change(office_user, organization, other_organization, webhook):
    MembershipFactory(user=office_user, organization=other_organization, role="office")
    response = user_client(office_user).patch(
        f"{URL}{webhook.id}/", {"organization": other_organization.id}, format="json"
    )
    assert response.status_code == 400
    assert response.data == {"organization": ["This cannot be changed once the record exists."]}


def test_re_enabling_clears_the_failures_and_resumes_pending_deliveries(office, webhook):
    Webhook.objects.filter(pk=webhook.pk).update(active=False, consecutive_failures=3, disabled_reason="down")
    pending = WebhookDelivery.objects.create(
        webhook=webhook, event="flag.raised", payload={"id": "p"}, next_attempt_at=timezone.now() + dt.timedelta(days=1)
    )

    response = office.patch(f"{URL}{webhook.id}/", {"active": True}, format="json")

    assert response.status_code == 200
    assert (response.data["active"], response.data["consecutive_failures"], response.data["disabled_reason"]) == (
        True,
        0,
        "",
    )
    pending.refresh_from_db()
    assert pending.next_attempt_at <= timezone.now()  # due again (queued after commit)


def test_delete(office, webhook):
    assert office.delete(f"{URL}{webhook.id}/").status_code == 204
    assert Webhook.objects.count() == 0


# --- Roles and tenancy ----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["executive", "integration"])
def test_other_roles_are_forbidden_even_to_read(organization, webhook, role):
    client = key_client(organization, role)
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}{webhook.id}/").status_code == 403
    assert client.get(f"{URL}{webhook.id}/deliveries/").status_code == 403
    assert create(client).status_code == 403
    assert client.patch(f"{URL}{webhook.id}/", {"active": False}, format="json").status_code == 403
    assert client.delete(f"{URL}{webhook.id}/").status_code == 403


def test_executive_user_is_forbidden(executive_user, webhook):
    assert user_client(executive_user).get(URL).status_code == 403


def test_unauthenticated_is_401(webhook):
    assert APIClient().get(URL).status_code == 401


def test_another_organizations_webhook_is_a_404(office, other_organization):
    theirs = WebhookFactory(organization=other_organization, url=PUBLIC)
    assert office.get(URL).data["count"] == 0
    assert office.get(f"{URL}{theirs.id}/").status_code == 404
    assert office.get(f"{URL}{theirs.id}/deliveries/").status_code == 404
    assert office.patch(f"{URL}{theirs.id}/", {"active": False}, format="json").status_code == 404
    assert office.delete(f"{URL}{theirs.id}/").status_code == 404


def test_office_here_executive_there_sees_only_the_office_organization(office_user, webhook, other_organization):
    MembershipFactory(user=office_user, organization=other_organization, role="executive")
    theirs = WebhookFactory(organization=other_organization, url=PUBLIC)
    client = user_client(office_user)
    assert [w["id"] for w in client.get(URL).data["results"]] == [webhook.id]
    assert client.get(f"{URL}{theirs.id}/").status_code == 404


def test_superuser_sees_every_organization(webhook, other_organization):
    WebhookFactory(organization=other_organization, url=PUBLIC)
    admin = UserFactory(is_superuser=True)
    assert user_client(admin).get(URL).data["count"] == 2


# --- Delivery log ---------------------------------------------------------------------------


def make_deliveries(webhook, n: int) -> list[WebhookDelivery]:
    made = []
    start = timezone.now() - dt.timedelta(hours=n)
    for i in range(n):
        delivery = WebhookDelivery.objects.create(
            webhook=webhook,
            event="flag.raised",
            payload={"id": f"e{i}"},
            status=DeliveryStatus.DELIVERED if i % 2 else DeliveryStatus.FAILED,
            attempt_count=2,
            created_at=start + dt.timedelta(hours=i),
        )
        at = delivery.created_at
        WebhookAttempt.objects.create(
            delivery=delivery, attempted_at=at, status_code=500, duration_ms=12, error="HTTP 500"
        )
        WebhookAttempt.objects.create(
            delivery=delivery, attempted_at=at + dt.timedelta(seconds=30), status_code=None, error="timed out"
        )
        made.append(delivery)
    return made


def test_the_delivery_log_lists_attempts_with_a_constant_number_of_queries(
    office, webhook, django_assert_max_num_queries
):
    make_deliveries(webhook, 3)
    with django_assert_max_num_queries(6):
        small = office.get(f"{URL}{webhook.id}/deliveries/")
    make_deliveries(webhook, 30)
    with django_assert_max_num_queries(6):
        big = office.get(f"{URL}{webhook.id}/deliveries/?page_size=100")
    assert small.status_code == big.status_code == 200
    assert big.data["count"] == 33

    newest = big.data["results"][0]
    assert newest["payload"] == {"id": "e29"}
    assert newest["status"] == "delivered" and newest["attempt_count"] == 2
    assert [(a["status_code"], a["error"]) for a in newest["attempts"]] == [(500, "HTTP 500"), (None, "timed out")]
    assert newest["attempts"][0]["duration_ms"] == 12
    assert set(newest) == {
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
    }


def test_the_delivery_log_filters_by_status(office, webhook):
    make_deliveries(webhook, 4)
    failed = office.get(f"{URL}{webhook.id}/deliveries/?status=failed")
    assert failed.data["count"] == 2 and {d["status"] for d in failed.data["results"]} == {"failed"}
    wrong = office.get(f"{URL}{webhook.id}/deliveries/?status=lost")
    assert wrong.status_code == 400
    assert wrong.data == {"status": ["One of pending, delivered, failed."]}


def test_the_list_filters_by_active(office, webhook, organization):
    WebhookFactory(organization=organization, url=PUBLIC, active=False)
    assert office.get(f"{URL}?active=false").data["count"] == 1
    assert office.get(f"{URL}?active=true").data["results"][0]["id"] == webhook.id
