"""Unknown API keys are throttled per address (SPEC §5), valid keys are not.

The key is looked up before the throttle: after more than CXGOV_UNKNOWN_KEY_LIMIT (10)
unknown or revoked keys from an address within CXGOV_UNKNOWN_KEY_WINDOW (60 s), a further
unknown or revoked key from it is 429, while a valid, unrevoked key from the same address
is served normally and does not count.
"""

import pytest
from rest_framework.test import APIClient

from programs.models import ApiKey
from programs.services import api_key_create, api_key_revoke

pytestmark = pytest.mark.django_db
URL = "/api/v1/people/"
THROTTLED = "Too many unknown API keys from your address: try again in "


def bearer(raw: str, address: str = "198.51.100.20") -> APIClient:
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def guess(n: int, address: str = "198.51.100.20") -> list[int]:
    return [bearer(f"cxg_guess{i}", address).get(URL).status_code for i in range(n)]


def test_the_limit_and_window_are_unchanged(settings):
    assert (settings.CXGOV_UNKNOWN_KEY_LIMIT, settings.CXGOV_UNKNOWN_KEY_WINDOW) == (10, 60)


def test_a_valid_key_is_served_from_a_throttled_address(organization):
    _, raw = api_key_create(organization=organization, name="erp", role="integration")
    assert guess(10) == [401] * 10
    throttled = bearer("cxg_guess10").get(URL)
    assert throttled.status_code == 429
    assert throttled.json()["detail"].startswith(THROTTLED)
    assert 1 <= int(throttled["Retry-After"]) <= 61
    # The valid key, same address: served, every time, and it does not lift the throttle.
    for _ in range(3):
        assert bearer(raw).get(URL).status_code == 200
    assert bearer("cxg_guess11").get(URL).status_code == 429


def test_unknown_and_revoked_keys_past_the_limit_are_429_not_401(organization):
    key, revoked = api_key_create(organization=organization, name="old", role="office")
    api_key_revoke(key=key)
    assert guess(9) == [401] * 9
    tenth = bearer(revoked).get(URL)
    assert (tenth.status_code, tenth.json()) == (401, {"detail": "This API key has been revoked."})
    for raw in ("cxg_unknown", revoked):
        response = bearer(raw).get(URL)
        assert response.status_code == 429, raw
        assert response.json()["detail"].startswith(THROTTLED)
    # A malformed header from that address waits too.
    malformed = APIClient(REMOTE_ADDR="198.51.100.20").get(URL, HTTP_AUTHORIZATION="Bearer a b")
    assert malformed.status_code == 429


def test_valid_keys_do_not_count(organization):
    _, raw = api_key_create(organization=organization, name="erp", role="office")
    for _ in range(25):
        assert bearer(raw).get(URL).status_code == 200
    assert guess(10) == [401] * 10
    assert bearer("cxg_guess10").get(URL).status_code == 429


def test_the_throttle_is_per_address(organization):
    assert guess(10) == [401] * 10
    assert bearer("cxg_guess10").get(URL).status_code == 429
    other = bearer("cxg_guess10", address="203.0.113.9").get(URL)
    assert (other.status_code, other.json()) == (401, {"detail": "Unknown API key."})


def test_a_throttled_valid_request_still_stamps_the_key(organization):
    key, raw = api_key_create(organization=organization, name="erp", role="executive")
    guess(11)
    assert bearer(raw).get(URL).status_code == 200
    assert ApiKey.objects.get(pk=key.pk).last_used_at is not None
