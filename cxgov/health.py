"""`/healthz`: liveness and the state of the services the app depends on.

200 when every configured dependency answers, 503 when one does not. Redis reports
"not configured" without REDIS_URL (Celery then runs tasks in-process), which is healthy.
Unauthenticated on purpose (load balancers call it); it says nothing about data.
"""

import time

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _check_database() -> dict:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"; the message helps the operator
        return {"status": "down", "error": exc.__class__.__name__}
    return {"status": "ok", "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


def _check_redis() -> dict:
    if not settings.REDIS_URL:
        return {"status": "not configured"}

    started = time.perf_counter()
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
    except Exception as exc:  # connection refused, timeout, auth: all mean "down"
        return {"status": "down", "error": exc.__class__.__name__}
    return {"status": "ok", "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


@never_cache
@require_GET
def healthz(request) -> JsonResponse:
    checks = {"database": _check_database(), "redis": _check_redis()}
    healthy = all(c["status"] in ("ok", "not configured") for c in checks.values())
    return JsonResponse({"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503)
