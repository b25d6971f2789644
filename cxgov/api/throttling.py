"""Rate limits for API keys (integrations); browser sessions are not throttled.

Counts live in Django's default cache. Without a CACHES setting that is per-process
LocMem, so with N gunicorn workers a key gets up to N× the rate; point CACHES at Redis
to make the limit global.
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class ApiKeyRateThrottle(SimpleRateThrottle):
    scope = "api_key"

    def get_rate(self) -> str | None:
        # Read at request time, not import time, so settings overrides apply.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view) -> str | None:
        api_key = getattr(request.user, "api_key", None)
        if api_key is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": api_key.pk}
