"""Rate limits for API keys (integrations); browser sessions are not throttled.

A fixed-window counter per key: one `cache.add`/`cache.incr` per request, O(1) whatever
the rate. (DRF's SimpleRateThrottle keeps every timestamp of the window in one cache
entry and re-pickles it on each request: at 6,000/minute that is a list of thousands of
floats per request.) A fixed window lets a key send up to twice the rate across a window
boundary; that is the accepted trade for constant cost.

Counts live in Django's default cache. Without a CACHES setting that is per-process
LocMem, so with N gunicorn workers a key gets up to N× the rate; point CACHES at Redis
to make the limit global (add/incr are atomic there).
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

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        key = f"{key}:{window}"
        if self.cache.add(key, 1, self.duration + 1):
            count = 1
        else:
            try:
                count = self.cache.incr(key)
            except ValueError:  # expired between add and incr: a new window
                self.cache.add(key, 1, self.duration + 1)
                count = 1
        if count > self.num_requests:
            self.wait_seconds = (window + 1) * self.duration - now
            return False
        return True

    def wait(self) -> float | None:
        return getattr(self, "wait_seconds", None)
