"""API keys (hashed, revocable, last_used_at kept), throttling, /healthz."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from programs.models import ApiKey
from programs.services import api_key_create, api_key_revoke
from tests.conftest import missing_service

pytestmark = pytest.mark.django_db


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_a_key_is_stored_only_as_its_hash(organization):
    key, raw = api_key_create(organization=organization, name="crm", role="integration")
    stored = ApiKey.objects.get(pk=key.pk)
    assert raw not in (stored.key_hash, stored.key_prefix)
    assert stored.key_hash == ApiKey.hash(raw)
    assert bearer(raw).get("/api/v1/programs/").status_code == 200


def test_a_revoked_key_is_refused_with_401(organization):
    key, raw = api_key_create(organization=organization, name="crm", role="office")
    api_key_revoke(key=key)
    response = bearer(raw).get("/api/v1/programs/")
    assert response.status_code == 401
    assert response.json() == {"detail": "This API key has been revoked."}
    assert bearer(raw).post("/api/v1/business-units/", {"name": "X"}, format="json").status_code == 401


def test_an_unknown_or_malformed_key_is_401(organization):
    assert bearer("cxg_not-a-key").get("/api/v1/programs/").json() == {"detail": "Unknown API key."}
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer two words")
    assert client.get("/api/v1/programs/").status_code == 401


def test_last_used_at_is_kept_and_written_at_most_once_a_minute(organization):
    key, raw = api_key_create(organization=organization, name="crm", role="integration")
    assert key.last_used_at is None
    before = timezone.now()
    bearer(raw).get("/api/v1/programs/")
    key.refresh_from_db()
    assert key.last_used_at >= before
    first = key.last_used_at
    bearer(raw).get("/api/v1/programs/")
    key.refresh_from_db()
    assert key.last_used_at == first
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=first - timedelta(minutes=2))
    bearer(raw).get("/api/v1/programs/")
    key.refresh_from_db()
    assert key.last_used_at > first - timedelta(minutes=2)


def test_a_key_acts_for_its_own_organization_only(organization, other_organization):
    _, raw = api_key_create(organization=other_organization, name="crm", role="office")
    created = bearer(raw).post("/api/v1/business-units/", {"name": "Claims"}, format="json")
    assert created.status_code == 201
    assert created.json()["organization"] == other_organization.pk
    refused = bearer(raw).post(
        "/api/v1/business-units/", {"name": "Claims 2", "organization": organization.pk}, format="json"
    )
    assert refused.status_code == 400
    assert "organization" in refused.json()


def test_api_keys_are_throttled_and_sessions_are_not(organization, office_user, settings):
    from django.core.cache import cache

    cache.clear()
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api_key": "3/day"}}
    _, raw = api_key_create(organization=organization, name="crm", role="integration")
    client = bearer(raw)
    codes = [client.get("/api/v1/people/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    throttled = client.get("/api/v1/people/")
    assert 0 < int(throttled.headers["Retry-After"]) <= 86400
    assert "throttled" in throttled.json()["detail"].lower()
    _, other_raw = api_key_create(organization=organization, name="warehouse", role="integration")
    assert bearer(other_raw).get("/api/v1/people/").status_code == 200  # per key, not per organization
    session = APIClient()
    session.force_login(office_user)
    assert [session.get("/api/v1/people/").status_code for _ in range(5)] == [200] * 5
    cache.clear()


def test_healthz_reports_database_and_redis(client, settings):
    settings.REDIS_URL = ""
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["status"] == "ok"
    assert body["redis"] == {"status": "not configured"}


def test_healthz_is_503_when_redis_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["redis"]["status"] == "down"
    assert response.json()["database"]["status"] == "ok"


def test_healthz_reports_a_live_redis(client, settings):
    if not settings.REDIS_URL:
        missing_service("a live Redis check needs REDIS_URL")
    body = client.get("/healthz").json()
    assert body["redis"]["status"] == "ok"
