"""`Authorization: Bearer <api key>` for integrations, with unknown keys throttled per address.

A client that sends more than CXGOV_UNKNOWN_KEY_LIMIT unknown (or revoked) keys from one
address within CXGOV_UNKNOWN_KEY_WINDOW seconds gets 429 for every further unknown or
revoked key from that address until the window ends (SPEC §5: unknown keys are throttled
per address). The key is looked up first (one indexed query on its hash): a valid,
unrevoked key is served even from a throttled address, so an integration sharing an
address (a NAT, a proxy) with a guesser is not locked out, and a guesser learns nothing
new (each guess past the limit is 429 whether or not the address is throttled for it).
The counter is a fixed window in Django's cache (one add/incr per failure; point CACHES at
Redis to share it between processes).
"""

import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from rest_framework import authentication, exceptions

from .lockout import client_address
from .models import ApiKey

# Write last_used_at at most this often per key, so a busy integration does not
# turn every read into a write.
_TOUCH_EVERY = timedelta(minutes=1)


class ApiKeyPrincipal:
    """The `request.user` of a key: authenticated, never staff, scoped to one organization."""

    is_authenticated = True
    is_active = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, key: ApiKey):
        self.api_key = key
        self.organization_id = key.organization_id
        self.role = key.role

    def __str__(self) -> str:
        return f"api-key:{self.api_key.name}"


class UnknownKeysThrottled(exceptions.Throttled):
    default_detail = "Too many unknown API keys from your address."


def _window() -> tuple[int, int]:
    """(this window's number, seconds until it ends)."""
    length = max(settings.CXGOV_UNKNOWN_KEY_WINDOW, 1)
    now = time.time()
    number = int(now // length)
    return number, int((number + 1) * length - now) + 1


def _failures_key(request) -> str:
    return f"cxgov:unknown-api-keys:{client_address(request) or 'unknown'}:{_window()[0]}"


def refuse_if_throttled(request) -> None:
    """429 when this address already sent too many unknown keys in the current window."""
    failures = cache.get(_failures_key(request), 0)
    if failures >= settings.CXGOV_UNKNOWN_KEY_LIMIT:
        wait = _window()[1]
        raise UnknownKeysThrottled(
            wait=wait,
            detail=f"Too many unknown API keys from your address: try again in {wait} seconds.",
        )


def count_failure(request) -> None:
    key = _failures_key(request)
    if not cache.add(key, 1, settings.CXGOV_UNKNOWN_KEY_WINDOW + 1):
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr: a new window
            cache.add(key, 1, settings.CXGOV_UNKNOWN_KEY_WINDOW + 1)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            refuse_if_throttled(request)
            raise exceptions.AuthenticationFailed("Malformed Authorization header: use 'Bearer <api key>'.")
        try:
            raw = header[1].decode()
        except UnicodeError:
            self.refuse(request, "The API key contains invalid characters.")
        # Looked up before the throttle: only unknown and revoked keys count and wait.
        # The key's row alone, no joins: every request pays this query, and only writes
        # read the key's creator (for the change log's label), once, when they need it.
        key = next(iter(ApiKey.objects.filter(key_hash=ApiKey.hash(raw))[:1]), None)
        if key is None:
            self.refuse(request, "Unknown API key.")
        if key.revoked_at is not None:
            self.refuse(request, "This API key has been revoked.")
        now = timezone.now()
        if key.last_used_at is None or now - key.last_used_at > _TOUCH_EVERY:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
            key.last_used_at = now
        return ApiKeyPrincipal(key), key

    @staticmethod
    def refuse(request, message: str):
        """429 past the address's limit (not counted again), else 401 counted as a failure."""
        refuse_if_throttled(request)
        count_failure(request)
        raise exceptions.AuthenticationFailed(message)

    def authenticate_header(self, request) -> str:
        return self.keyword
