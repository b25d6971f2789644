"""Password lockout (5 failures in a row, 15 minutes, both login pages) and unknown API keys throttled."""

import datetime as dt

import pytest
from axes.models import AccessAttempt
from rest_framework.test import APIClient

from programs.services import api_key_create, api_key_revoke
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "pw-for-tests-only"
PAGES = ["/accounts/login/", "/admin/login/"]


@pytest.fixture
def user(organization):
    from tests.factories import MembershipFactory

    user = UserFactory(username="ana")
    MembershipFactory(user=user, organization=organization, role="office")
    return user


def attempt(client, page: str, password: str):
    return client.post(page, {"username": "ana", "password": password, "next": "/dashboard/"})


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("page", PAGES)
def test_four_failures_then_the_right_password_signs_in(client, user, page):
    for _ in range(4):
        assert attempt(client, page, "wrong").status_code == 200
    assert attempt(client, page, PASSWORD).status_code == 302
    assert signed_in(client)


@pytest.mark.parametrize("page", PAGES)
def test_five_failures_lock_the_account_and_address_and_say_until_when(client, user, page):
    for _ in range(4):
        attempt(client, page, "wrong")
    locked = attempt(client, page, "wrong")  # the fifth
    assert locked.status_code == 429
    text = locked.content.decode()
    assert "5 failed sign-ins in a row" in text and "locked for 15 minutes" in text
    lifts = AccessAttempt.objects.get(username="ana").attempt_time + dt.timedelta(minutes=15)
    assert f"until {lifts:%H:%M}" in text
    # The right password changes nothing while it lasts, on either page.
    for other in PAGES:
        assert attempt(client, other, PASSWORD).status_code == 429
    assert not signed_in(client)


def test_the_lockout_is_per_address_and_per_account(client, user):
    for _ in range(5):
        attempt(client, "/accounts/login/", "wrong")
    # Locked for this account from this address (so the two answers below are not vacuous)...
    assert attempt(client, "/accounts/login/", PASSWORD).status_code == 429
    # ...but not from another address, nor for another account from this one.
    elsewhere = client.post("/accounts/login/", {"username": "ana", "password": PASSWORD}, REMOTE_ADDR="203.0.113.9")
    assert elsewhere.status_code == 302
    UserFactory(username="rui")
    other = client.post("/accounts/login/", {"username": "rui", "password": PASSWORD})
    assert other.status_code == 302


def test_the_lockout_lifts_after_15_minutes(client, user):
    for _ in range(5):
        attempt(client, "/accounts/login/", "wrong")
    last = AccessAttempt.objects.get(username="ana")
    # 14 minutes 30 seconds later: still locked (the margin covers a slow machine's
    # password hashing between the update and the check).
    AccessAttempt.objects.filter(pk=last.pk).update(
        attempt_time=last.attempt_time - dt.timedelta(minutes=14, seconds=30)
    )
    assert attempt(client, "/accounts/login/", PASSWORD).status_code == 429
    # 15 minutes and a second later: the right password signs in.
    AccessAttempt.objects.filter(pk=last.pk).update(
        attempt_time=last.attempt_time - dt.timedelta(minutes=15, seconds=1)
    )
    assert attempt(client, "/accounts/login/", PASSWORD).status_code == 302
    assert signed_in(client)


def test_a_success_resets_the_count(client, user):
    for _ in range(4):
        attempt(client, "/accounts/login/", "wrong")
    assert attempt(client, "/accounts/login/", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert attempt(client, "/accounts/login/", "wrong").status_code == 200
    assert attempt(client, "/accounts/login/", PASSWORD).status_code == 302


# --- unknown API keys -------------------------------------------------------------------


def bearer(raw: str, address: str = "127.0.0.1"):
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_ten_unknown_keys_are_answered_401_the_eleventh_429(organization, settings):
    assert (settings.CXGOV_UNKNOWN_KEY_LIMIT, settings.CXGOV_UNKNOWN_KEY_WINDOW) == (10, 60)
    _, raw = api_key_create(organization=organization, name="erp", role="office")
    for i in range(10):
        response = bearer(f"cxg_guess{i}").get("/api/v1/people/")
        assert response.status_code == 401, i
        assert response.json() == {"detail": "Unknown API key."}
    throttled = bearer("cxg_guess10").get("/api/v1/people/")
    assert throttled.status_code == 429
    assert throttled.json()["detail"].startswith("Too many unknown API keys from your address: try again in ")
    assert 1 <= int(throttled["Retry-After"]) <= 61
    # The right key is looked up first and served at that address (SPEC §5 throttles
    # unknown keys only); another address is not affected.
    assert bearer(raw).get("/api/v1/people/").status_code == 200
    assert bearer(raw, address="203.0.113.9").get("/api/v1/people/").status_code == 200


def test_revoked_keys_count_and_valid_keys_do_not(organization):
    key, raw = api_key_create(organization=organization, name="old", role="office")
    api_key_revoke(key=key)
    _, good = api_key_create(organization=organization, name="new", role="office")
    for _ in range(30):
        assert bearer(good).get("/api/v1/people/").status_code == 200
    for _ in range(10):
        assert bearer(raw).get("/api/v1/people/").status_code == 401
    assert bearer(raw).get("/api/v1/people/").status_code == 429


def test_behind_a_proxy_the_forwarded_address_counts(organization, settings):
    settings.CXGOV_TRUSTED_PROXIES = 1
    for i in range(10):
        bearer(f"cxg_guess{i}", address="10.0.0.1").get("/api/v1/people/", HTTP_X_FORWARDED_FOR="198.51.100.7")
    blocked = bearer("cxg_x", address="10.0.0.1").get("/api/v1/people/", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert blocked.status_code == 429
    other = bearer("cxg_x", address="10.0.0.1").get("/api/v1/people/", HTTP_X_FORWARDED_FOR="198.51.100.8")
    assert other.status_code == 401
