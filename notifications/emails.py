"""Emails: flag alerts, the weekly program digest, and the webhook-disabled notice.

Every email is recorded as a `Notification` row, unique on (key, recipient), inserted in
the same transaction as the send: a second attempt for the same event and person hits
the constraint and sends nothing, and a send that fails rolls its row back so a retry can
send it. (Only a crash between the SMTP hand-off and the commit could repeat an email.)

Keys: `flag:<id>:severity:<severity>` (so a flag raised high and escalated to critical
mails twice, once per level, but never twice for the same level),
`digest:<program id>:<ISO year>-W<week>`, `webhook:<id>:disabled:<delivery id>`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.template.loader import render_to_string

from accountability.choices import LIVE_FLAG_STATUSES, SEVERITY_RANK, FlagStatus, SessionStatus, Severity
from accountability.models import Flag, ForumSession, RiskAssessment
from programs.choices import Role
from programs.models import Membership, Program

from .models import Notification, Webhook
from .webhooks import dashboard_url

EMAILED_SEVERITIES = (Severity.HIGH, Severity.CRITICAL)
TEMPLATE_DIR = "notifications/email"
DIGEST_FLAG_LIST_LIMIT = 25


@dataclass(frozen=True)
class Recipient:
    name: str
    email: str

    @property
    def address(self) -> str:
        return formataddr((self.name, self.email))


def recipients_of(*people) -> list[Recipient]:
    """People with an email address, each address once (case-insensitive), in order."""
    seen: set[str] = set()
    found = []
    for person in people:
        email = (getattr(person, "email", "") or "").strip()
        if not email or email.lower() in seen:
            continue
        seen.add(email.lower())
        found.append(Recipient(getattr(person, "name", "") or email, email))
    return found


def send_once(
    *, organization_id: int, key: str, subject: str, recipients: list[Recipient], template: str, context: dict
) -> list[str]:
    """Send one email per recipient unless one with this key already went to them.

    Returns the addresses mailed now. Safe to re-run. A failing send raises after rolling
    back its own record; recipients already mailed stay recorded.
    """
    subject = " ".join(subject.split())[:300]  # no header injection through a title
    text = render_to_string(f"{TEMPLATE_DIR}/{template}.txt", context)
    html = render_to_string(f"{TEMPLATE_DIR}/{template}.html", context)
    sent = []
    for recipient in recipients:
        try:
            with transaction.atomic():
                Notification.objects.create(
                    organization_id=organization_id, key=key, recipient=recipient.email, subject=subject
                )
                message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [recipient.address])
                message.attach_alternative(html, "text/html")
                message.send()
        except IntegrityError:
            continue  # already told about this event
        sent.append(recipient.email)
    return sent


def pretty_json(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, cls=DjangoJSONEncoder)


# --- Flag alerts ------------------------------------------------------------------------


def should_email(severity: str, previous_severity: str | None = None) -> bool:
    """High or critical, and (for an escalation) higher than before."""
    if severity not in EMAILED_SEVERITIES:
        return False
    return previous_severity is None or SEVERITY_RANK[severity] > SEVERITY_RANK.get(previous_severity, 0)


def send_flag_email(flag_id: int, severity: str, previous_severity: str | None = None) -> list[str]:
    """Tell the flag's owner and the program's champion that it was raised (or escalated)
    to `severity`. Nothing for a flag no longer live or a severity below high. Safe to
    re-run: at most one email per (flag, severity, person)."""
    if not should_email(severity, previous_severity):
        return []
    flag = (
        Flag.objects.select_related("program__customer_champion", "owner")
        .filter(pk=flag_id, status__in=LIVE_FLAG_STATUSES)
        .first()
    )
    if flag is None:
        return []
    context = {
        "flag": flag,
        "severity": Severity(severity).label,
        "previous_severity": Severity(previous_severity).label if previous_severity else "",
        "program": flag.program,
        "evidence": pretty_json(flag.evidence) if flag.evidence else "",
        "url": dashboard_url(flag.program_id, flag.id),
    }
    return send_once(
        organization_id=flag.organization_id,
        key=f"flag:{flag.id}:severity:{severity}",
        subject=f"[cxgov] {severity.upper()}: {flag.title}",
        recipients=recipients_of(flag.owner, flag.program.customer_champion),
        template="flag",
        context=context,
    )


# --- Weekly digest ----------------------------------------------------------------------


def digest_key(program_id: int, as_of: dt.date) -> str:
    year, week, _ = as_of.isocalendar()
    return f"digest:{program_id}:{year}-W{week:02d}"


def _risk_trend(latest: RiskAssessment | None, previous: RiskAssessment | None) -> str:
    if latest is None:
        return "not assessed"
    if previous is None:
        return "first assessment"
    if latest.score > previous.score:
        return "rising"
    if latest.score < previous.score:
        return "falling"
    return "steady"


def program_digest(program: Program, as_of: dt.date) -> dict:
    """What the digest shows for one program over the 7 days before `as_of`.

    A fixed number of queries (four) whatever the program's size.
    """
    end = dt.datetime.combine(as_of, dt.time.min, tzinfo=dt.UTC)
    start = end - dt.timedelta(days=7)
    rank = Case(*[When(severity=s, then=Value(r)) for s, r in SEVERITY_RANK.items()], output_field=IntegerField())
    live = list(
        Flag.objects.filter(program=program, status__in=LIVE_FLAG_STATUSES)
        .select_related("owner")
        .annotate(rank=rank)
        .order_by("-rank", "-last_detected_at")
    )
    by_severity = {s.label: sum(1 for f in live if f.severity == s) for s in reversed(Severity)}
    week = Flag.objects.filter(program=program).aggregate(
        raised=Count("id", filter=Q(first_detected_at__gte=start, first_detected_at__lt=end)),
        resolved=Count("id", filter=Q(status=FlagStatus.RESOLVED, resolved_at__gte=start, resolved_at__lt=end)),
    )
    latest, previous = (list(RiskAssessment.objects.filter(program=program, as_of__lte=as_of)[:2]) + [None, None])[:2]
    sessions = list(
        ForumSession.objects.filter(forum__program=program, scheduled_for__gte=start, scheduled_for__lt=end)
        .select_related("forum")
        .order_by("scheduled_for")
    )
    # Missed: cancelled, postponed, or past its date and never recorded as held.
    missed = [s for s in sessions if s.status != SessionStatus.HELD]
    return {
        "program": program,
        "as_of": as_of,
        "period_start": start.date(),
        "period_end": (end - dt.timedelta(days=1)).date(),
        "open_count": len(live),
        "by_severity": by_severity,
        "flags": [{"flag": f, "url": dashboard_url(program.id, f.id)} for f in live[:DIGEST_FLAG_LIST_LIMIT]],
        "more_flags": max(0, len(live) - DIGEST_FLAG_LIST_LIMIT),
        "raised_this_week": week["raised"],
        "resolved_this_week": week["resolved"],
        "risk": latest,
        "previous_risk": previous,
        "risk_trend": _risk_trend(latest, previous),
        "held": sum(1 for s in sessions if s.status == SessionStatus.HELD),
        "missed": missed,
        "url": dashboard_url(program.id),
    }


def send_program_digest(program_id: int, as_of: dt.date) -> list[str]:
    """The weekly digest of one active or paused program to its sponsor and champion.

    Safe to re-run: at most one per program, ISO week and person."""
    program = (
        Program.objects.scanned()
        .select_related("executive_sponsor", "customer_champion", "organization")
        .filter(pk=program_id)
        .first()
    )
    if program is None:
        return []
    recipients = recipients_of(program.executive_sponsor, program.customer_champion)
    if not recipients:
        return []
    context = program_digest(program, as_of)
    return send_once(
        organization_id=program.organization_id,
        key=digest_key(program.id, as_of),
        subject=f"[cxgov] Weekly digest: {program.name} — {context['open_count']} open flags, "
        f"risk {context['risk'].level if context['risk'] else 'not assessed'}",
        recipients=recipients,
        template="digest",
        context=context,
    )


def digest_program_ids() -> list[int]:
    """Programs that get a digest: active and paused ones."""
    return list(Program.objects.scanned().order_by("id").values_list("id", flat=True))


# --- Webhook disabled -------------------------------------------------------------------


def send_webhook_disabled_notice(webhook_id: int, delivery_id: int) -> list[str]:
    """Tell the organization's program office (members with the office role and an email)
    that a webhook was disabled after repeated failures. Safe to re-run."""
    webhook = Webhook.objects.select_related("organization").filter(pk=webhook_id).first()
    if webhook is None or webhook.active:
        return []
    users = [
        m.user
        for m in Membership.objects.filter(
            organization_id=webhook.organization_id, role=Role.OFFICE, user__is_active=True
        ).select_related("user")
    ]
    people = [Recipient(u.get_full_name() or u.get_username(), u.email) for u in users]
    context = {
        "webhook": webhook,
        "admin_url": f"{settings.SITE_URL.rstrip('/')}/admin/accountability/webhook/{webhook.pk}/change/",
        "api_path": f"/api/v1/webhooks/{webhook.pk}/",
    }
    return send_once(
        organization_id=webhook.organization_id,
        key=f"webhook:{webhook.pk}:disabled:{delivery_id}",
        subject=f"[cxgov] Webhook disabled: {webhook.url}",
        recipients=recipients_of(*people),
        template="webhook_disabled",
        context=context,
    )
