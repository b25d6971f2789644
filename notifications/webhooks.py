"""Webhooks: the payloads, their signature, which URLs are allowed, and one HTTP attempt.

Nothing here writes to the database; `deliveries.py` owns the delivery state machine.

Safety (SSRF): a target URL must be http(s), and every address its host resolves to must
be public, unless `CXGOV_WEBHOOK_ALLOW_PRIVATE` is set (tests, on-premises receivers).
The check runs when a webhook is saved and again before each attempt, and the attempt
connects to the very address that was checked, so a name re-pointed to 127.0.0.1 after
validation (DNS rebinding) is still refused. Redirects are never followed.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
import ssl
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from accountability.escalation import LADDER_ROLES

from .choices import WebhookEvent

EVENT_NAMES: tuple[str, ...] = tuple(WebhookEvent.values)
SIGNATURE_HEADER = "X-Cxgov-Signature"
EVENT_HEADER = "X-Cxgov-Event"
DELIVERY_HEADER = "X-Cxgov-Delivery"
ATTEMPT_HEADER = "X-Cxgov-Attempt"
USER_AGENT = "cxgov-webhooks/1.0"
# Enough to log why a receiver refused; the rest of a response body is discarded.
_RESPONSE_READ_LIMIT = 64 * 1024
_ERROR_MAX_CHARS = 1000


# --- Payloads ---------------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """Dates, Decimals and UUIDs as JSON strings: what the JSONField and the receiver see."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def dashboard_url(program_id: int, flag_id: int | None = None) -> str:
    base = f"{settings.SITE_URL.rstrip('/')}/dashboard/programs/{program_id}/"
    return f"{base}#flag-{flag_id}" if flag_id is not None else base


def envelope(*, event: str, organization, data: dict, event_id: uuid.UUID | None = None, created_at=None) -> dict:
    """The stable outer shape every event shares (documented in docs/webhooks.md)."""
    return jsonable(
        {
            "id": str(event_id or uuid.uuid4()),
            "event": event,
            "created_at": created_at or timezone.now(),
            "organization": {"id": organization.id, "slug": organization.slug, "name": organization.name},
            "data": data,
        }
    )


def flag_data(flag, *, previous_severity: str | None = None) -> dict:
    """`data` of flag.raised / flag.resolved: the flag as the receiver needs it to act."""
    owner = flag.owner
    return jsonable(
        {
            "flag": {
                "id": flag.id,
                "kind": flag.kind,
                "severity": flag.severity,
                "status": flag.status,
                "title": flag.title,
                "detail": flag.detail,
                "program": {"id": flag.program_id, "name": flag.program.name},
                "subject_type": flag.subject_type,
                "subject_id": flag.subject_id,
                "owner": {"id": owner.id, "name": owner.name, "email": owner.email or None} if owner else None,
                "evidence": flag.evidence,
                "first_detected_at": flag.first_detected_at,
                "last_detected_at": flag.last_detected_at,
                "resolved_at": flag.resolved_at,
                "resolution_note": flag.resolution_note,
                "url": dashboard_url(flag.program_id, flag.id),
            },
            "previous_severity": previous_severity,
        }
    )


def escalation_data(flag, *, previous_level: int, person) -> dict:
    """`data` of flag.escalated: the flag, and the ladder step (levels, the person now told)."""
    return {
        **flag_data(flag),
        "escalation": jsonable(
            {
                "level": flag.escalation_level,
                "previous_level": previous_level,
                "role": LADDER_ROLES.get(flag.escalation_level, "the owner"),
                "to": {"id": person.id, "name": person.name, "email": person.email or None},
                "escalated_at": flag.escalated_at,
            }
        ),
    }


def risk_data(assessment, *, previous_level: str | None) -> dict:
    """`data` of risk.level_changed: the new assessment with its factors, and the level before."""
    program = assessment.program
    return jsonable(
        {
            "program": {
                "id": program.id,
                "name": program.name,
                "status": program.status,
                "url": dashboard_url(program.id),
            },
            "assessment": {
                "as_of": assessment.as_of,
                "score": assessment.score,
                "level": assessment.level,
                "factors": assessment.factors,
            },
            "previous_level": previous_level,
        }
    )


def encode(payload: dict) -> bytes:
    """The exact bytes sent and signed. Sorted keys: the same payload gives the same body on
    every retry even though PostgreSQL's jsonb does not keep key order."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# --- Signature --------------------------------------------------------------------------


def sign(secret: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of the raw body, keyed with the webhook's secret>`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature_header: str) -> bool:
    """What a receiver does: recompute and compare in constant time."""
    return hmac.compare_digest(sign(secret, body), signature_header or "")


# --- URL safety -------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path + query, what goes on the request line
    addresses: tuple[str, ...]  # every address the host resolved to, all checked


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """An IPv4 address tunnelled in an IPv6 one (mapped, 6to4, Teredo, NAT64)."""
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    if ip in ipaddress.ip_network("64:ff9b::/96"):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public_address(address: str) -> bool:
    """False for private, loopback, link-local, shared, reserved, multicast and unspecified
    addresses, including IPv4 ones hidden in IPv6 forms."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None and not is_public_address(str(inner)):
            return False
    # is_global alone lets multicast through (239.0.0.0/8 counts as global).
    return ip.is_global and not (
        ip.is_multicast or ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_unspecified
    )


def address_kind(address: str) -> str:
    """A word for why an address is refused, for the error message."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    for attribute, word in (
        ("is_loopback", "loopback"),
        ("is_link_local", "link-local"),
        ("is_unspecified", "unspecified"),
        ("is_multicast", "multicast"),
        ("is_private", "private"),
        ("is_reserved", "reserved"),
    ):
        if getattr(ip, attribute):
            return word
    return "non-public"


def resolve_target(url: str, *, allow_private: bool | None = None) -> Target:
    """Parse and resolve a webhook URL; ValidationError when it may not be called.

    Safe to call any time; does a DNS lookup (socket.getaddrinfo) unless the host is an IP.
    """
    if allow_private is None:
        allow_private = settings.CXGOV_WEBHOOK_ALLOW_PRIVATE
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ValidationError(f"Not a valid URL: {exc}.", code="invalid")
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValidationError("Webhook URLs must start with http:// or https://.", code="scheme")
    host = parts.hostname
    if not host:
        raise ValidationError("The URL has no host name.", code="invalid")
    port = port or (443 if scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ValidationError(f"The host {host!r} could not be resolved ({exc}).", code="unresolvable")
    addresses = tuple(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise ValidationError(f"The host {host!r} has no address.", code="unresolvable")
    if not allow_private:
        refused = [f"{a} ({address_kind(a)})" for a in addresses if not is_public_address(a)]
        if refused:
            where = f"The address {refused[0]}" if host in addresses else f"{host} resolves to {', '.join(refused)}"
            raise ValidationError(
                f"{where}: webhooks may not target private, loopback, link-local or other non-public addresses.",
                code="private_address",
            )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme=scheme, host=host, port=port, path=path, addresses=addresses)


def validate_webhook_url(url: str) -> None:
    """Raise ValidationError unless `url` is an http(s) URL whose host resolves to allowed addresses."""
    resolve_target(url)


# --- One HTTP attempt -------------------------------------------------------------------


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to an address already checked, while Host says the name."""

    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """The same over TLS; the certificate is verified against the host name, not the address."""

    def __init__(self, host: str, port: int, address: str, timeout: float):
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


@dataclass(frozen=True)
class AttemptResult:
    status_code: int | None
    duration_ms: int
    error: str

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def request_headers(*, secret: str, body: bytes, event: str, event_id: str, attempt: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_HEADER: event,
        DELIVERY_HEADER: event_id,
        ATTEMPT_HEADER: str(attempt),
        SIGNATURE_HEADER: sign(secret, body),
    }


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float | None = None) -> AttemptResult:
    """POST `body` once. Never raises for network trouble: the error is in the result.

    Any 2xx is success. A 3xx is a failure (redirects are not followed: the new location
    was never checked). The URL is re-validated first, so a webhook whose name now
    resolves to a private address fails without a connection being made.
    """
    timeout = settings.CXGOV_WEBHOOK_TIMEOUT if timeout is None else timeout
    started = time.monotonic()

    def result(status_code: int | None, error: str = "") -> AttemptResult:
        return AttemptResult(status_code, int((time.monotonic() - started) * 1000), error[:_ERROR_MAX_CHARS])

    try:
        target = resolve_target(url)
    except ValidationError as exc:
        return result(None, "Refused: " + " ".join(exc.messages))
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    last_error = ""
    for address in target.addresses:
        conn = connection_class(target.host, target.port, address, timeout)
        try:
            conn.request("POST", target.path, body=body, headers=headers)
            response = conn.getresponse()
            response.read(_RESPONSE_READ_LIMIT)
        except OSError as exc:  # refused, reset, timeout, TLS
            last_error = f"{type(exc).__name__}: {exc} ({address})"
            # Only a failure to connect moves on to the next address; once the request went
            # out, trying another address could deliver the event twice.
            if conn.sock is None:
                continue
            return result(None, last_error)
        except http.client.HTTPException as exc:
            return result(None, f"{type(exc).__name__}: {exc}")
        finally:
            conn.close()
        error = ""
        if 300 <= response.status < 400:
            error = f"Redirect to {response.getheader('Location', '?')} not followed."
        elif not 200 <= response.status < 300:
            error = f"HTTP {response.status} {response.reason}"
        return result(response.status, error)
    return result(None, last_error or "No address to connect to.")
