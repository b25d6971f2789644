"""Failed sign-ins: the password lockout's answer (django-axes) and the caller's address.

Both login pages (`/accounts/login/`, `/admin/login/`) authenticate through Django, where
axes counts failures per account and address (settings: 5 in a row, 15 minutes). When a
pair is locked out, `lockout_response` says so and says when it lifts. The same address
function serves the unknown-API-key throttle (`programs.authentication`), so both count
the same client behind the same proxies.
"""

from axes.models import AccessAttempt
from django.conf import settings
from django.shortcuts import render
from django.utils import timezone


def client_address(request) -> str | None:
    """The client's IP: REMOTE_ADDR, or behind CXGOV_TRUSTED_PROXIES proxies the address the
    outermost trusted proxy saw (counted from the right of X-Forwarded-For, which a client
    can prepend to but not append to)."""
    meta = getattr(request, "META", {})
    proxies = getattr(settings, "CXGOV_TRUSTED_PROXIES", 0)
    if proxies:
        forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    # None when the request has no address (a test's force_login): axes stores it as unknown.
    return meta.get("REMOTE_ADDR") or None


def lockout_lifts_at(username: str, address: str):
    """When the lockout of this account and address ends (None if there is none on record)."""
    attempt = AccessAttempt.objects.filter(username=username, ip_address=address).order_by("-attempt_time").first()
    return None if attempt is None else attempt.attempt_time + settings.AXES_COOLOFF_TIME


def lockout_response(request, original_response=None, credentials=None):
    """429 with a page that says what happened, for how long, and until when."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    lifts_at = lockout_lifts_at(username, client_address(request))
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "minutes": minutes,
        "lifts_at": timezone.localtime(lifts_at) if lifts_at else None,
        "username": username,
    }
    return render(request, "registration/locked_out.html", context, status=429)
