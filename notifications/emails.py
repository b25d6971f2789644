"""What the emails say and who gets them: flag alerts, the weekly program digest, and the
webhook-disabled notice. Each is written to the outbox (`mail.write`) in the transaction
of what calls for it, and sent after commit.

Keys, unique per recipient (so "never twice" is a database fact):
`flag:<id>:severity:<severity>` (so a flag raised high and escalated to critical mails
twice, once per level, but never twice for the same level),
`digest:<program id>:<ISO year>-W<week>`, `webhook:<id>:disabled:<delivery id>`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.urls import reverse

from accountability.choices import (
    LIVE_FLAG_STATUSES,
    SEVERITY_RANK,
    EscalationLevel,
    FlagStatus,
    SessionStatus,
    Severity,
)
from accountability.escalation import LADDER_ROLES
from accountability.evidence import EvidenceText, evidence_text
from accountability.models import Flag, ForumSession, RiskAssessment
from programs.choices import AlertPreference, Role
from programs.models import Membership, Program

from .mail import Email, Recipient, recipients_of, write
from .models import Webhook
from .webhooks import dashboard_url

EMAILED_SEVERITIES = (Severity.HIGH, Severity.CRITICAL)
DIGEST_FLAG_LIST_LIMIT = 25


def pretty_json(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, cls=DjangoJSONEncoder)


# --- Flag alerts ------------------------------------------------------------------------


def may_email(severity: str, previous_severity: str | None = None) -> bool:
    """Whether a raised (or severity-raised) flag may email anybody: high and critical
    always; low and medium those who chose instant emails (`Person.low_medium_emails`)."""
    return previous_severity is None or SEVERITY_RANK[severity] > SEVERITY_RANK.get(previous_severity, 0)


def announced(severity: str, previous_severity: str | None = None) -> bool:
    """Whether a raised (or severity-raised) flag is announced to all it concerns (SPEC §4):
    emailed to its owner and champion whatever their preference, and delivered to the
    organization's webhooks as `flag.raised`. A new flag, or one whose severity went up,
    at high or critical. The one rule for both: the email and the webhook never disagree."""
    return severity in EMAILED_SEVERITIES and may_email(severity, previous_severity)


def alert_recipients(flag: Flag, previous_severity: str | None = None) -> list:
    """The owner and the champion; for a flag not `announced` (low or medium) only those who
    chose an email for each."""
    people = [flag.owner, flag.program.customer_champion]
    if not announced(flag.severity, previous_severity):
        people = [p for p in people if p is not None and p.low_medium_emails == AlertPreference.INSTANT]
    return recipients_of(*people)


def flag_alert(flag: Flag, previous_severity: str | None = None, text: EvidenceText | None = None) -> Email | None:
    """The email telling the flag's owner and the program's champion that the flag was
    raised (or escalated, from `previous_severity`) to its severity; None for a flag no
    longer live. Below high, only to those who chose an email for each. The flag comes
    with `owner`, `organization` and `program__customer_champion` loaded, and `text` with
    the names its evidence needs (no query here; without `text`, one query for those names)."""
    if not may_email(flag.severity, previous_severity) or flag.status not in LIVE_FLAG_STATUSES:
        return None
    recipients = alert_recipients(flag, previous_severity)
    if not recipients:
        return None
    if text is None:
        text = evidence_text(currency=None, evidences=[flag.evidence])
    # The evidence in sentences with the organization's currency, never as JSON (SPEC §5).
    text = dataclasses.replace(text, currency=flag.organization.currency)
    context = {
        "flag": flag,
        "severity": Severity(flag.severity).label,
        "previous_severity": Severity(previous_severity).label if previous_severity else "",
        "program": flag.program,
        "evidence": text.flag(flag.kind, flag.evidence),
        "url": dashboard_url(flag.program_id, flag.id),
    }
    return Email(
        organization_id=flag.organization_id,
        key=f"flag:{flag.id}:severity:{flag.severity}",
        subject=f"[cxgov] {flag.severity.upper()}: {flag.title}",
        recipients=recipients,
        template="flag",
        context=context,
        flag_id=flag.id,
    )


def write_flag_alerts(alerts: Sequence[tuple[Flag, str | None]]) -> list[int]:
    """Write the alert emails of a batch of (flag, previous severity or None) to the outbox,
    in the current transaction; sent after commit. A fixed number of queries for the
    batch. Safe to re-run: at most one email per (flag, severity, person)."""
    text = evidence_text(currency=None, evidences=[flag.evidence for flag, _ in alerts])
    return write(email for flag, previous in alerts if (email := flag_alert(flag, previous, text)))


def write_flag_assigned(flag: Flag, *, previous_owner, comment) -> list[int]:
    """The email telling a flag's new owner that someone handed it to them, with the
    evidence in sentences; once per hand-over (keyed by the comment that records it)."""
    text = evidence_text(currency=flag.organization.currency, evidences=[flag.evidence])
    email = Email(
        organization_id=flag.organization_id,
        key=f"flag:{flag.id}:assigned:{comment.id}",
        subject=f"[cxgov] Yours now: {flag.title}",
        recipients=recipients_of(flag.owner),
        template="flag_assigned",
        context={
            "flag": flag,
            "program": flag.program,
            "by": comment.author_label,
            "previous_owner": previous_owner.name if previous_owner else "",
            "note": comment.text,
            "severity": Severity(flag.severity).label,
            "evidence": text.flag(flag.kind, flag.evidence),
            "url": dashboard_url(flag.program_id, flag.id),
        },
        flag_id=flag.id,
    )
    return write([email])


def escalation_alert(flag: Flag, previous_level: int, person) -> Email | None:
    """The email telling the person at a flag's new ladder level that nobody has acted on
    it; once per flag, level and person (key `flag:<id>:level:<n>`). The flag comes with
    `owner` and `program` loaded (no query here); None for a flag no longer open."""
    if flag.status != FlagStatus.OPEN:
        return None
    context = {
        "flag": flag,
        "person": person,
        "role": LADDER_ROLES.get(flag.escalation_level, ""),
        "severity": Severity(flag.severity).label,
        "program": flag.program,
        "days": (flag.last_detected_on - flag.first_detected_on).days,
        # Raised at this level (a breached commitment, a CEO sponsor), not climbed to it.
        "at_once": previous_level == EscalationLevel.OWNER and flag.last_detected_on == flag.first_detected_on,
        "url": dashboard_url(flag.program_id, flag.id),
    }
    return Email(
        organization_id=flag.organization_id,
        key=f"flag:{flag.id}:level:{flag.escalation_level}",
        subject=f"[cxgov] Escalated to you: {flag.title}",
        recipients=recipients_of(person) if person.active else [],
        template="escalated",
        context=context,
        flag_id=flag.id,
    )


def write_escalation_alerts(climbs: Sequence[tuple[Flag, int, object]]) -> list[int]:
    """Write the emails of a batch of ladder climbs (flag, previous level, person told) to
    the outbox, in the current transaction. Two queries for the batch; never twice."""
    return write(email for flag, previous, person in climbs if (email := escalation_alert(flag, previous, person)))


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


@transaction.atomic
def write_program_digest(program_id: int, as_of: dt.date) -> list[int]:
    """Write the weekly digest of one active or paused program, to its sponsor and
    champion, to the outbox; sent after commit. Safe to re-run: at most one per program,
    ISO week and person. Returns the ids of its rows still to send."""
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
    risk = context["risk"].level if context["risk"] else "not assessed"
    return write(
        [
            Email(
                organization_id=program.organization_id,
                key=digest_key(program.id, as_of),
                subject=f"[cxgov] Weekly digest: {program.name} — {context['open_count']} open flags, risk {risk}",
                recipients=recipients,
                template="digest",
                context=context,
            )
        ]
    )


def digest_program_ids() -> list[int]:
    """Programs that get a digest: active and paused ones."""
    return list(Program.objects.scanned().order_by("id").values_list("id", flat=True))


# --- Webhook disabled -------------------------------------------------------------------


def write_webhook_disabled_notice(webhook: Webhook, delivery_id: int) -> list[int]:
    """Tell the organization's program office (active members with the office role and an
    email) that `webhook` was disabled after repeated failures (`delivery_id` the delivery
    that crossed the threshold). Written to the outbox in the transaction that disables
    it; sent after commit. Safe to re-run: once per disabling and person."""
    users = [
        m.user
        for m in Membership.objects.filter(
            organization_id=webhook.organization_id, role=Role.OFFICE, user__is_active=True
        ).select_related("user")
    ]
    people = [Recipient(u.get_full_name() or u.get_username(), u.email) for u in users]
    context = {
        "webhook": webhook,
        "admin_url": settings.SITE_URL.rstrip("/") + reverse("admin:notifications_webhook_change", args=[webhook.pk]),
        "api_path": f"/api/v1/webhooks/{webhook.pk}/",
    }
    return write(
        [
            Email(
                organization_id=webhook.organization_id,
                key=f"webhook:{webhook.pk}:disabled:{delivery_id}",
                subject=f"[cxgov] Webhook disabled: {webhook.url}",
                recipients=recipients_of(*people),
                template="webhook_disabled",
                context=context,
            )
        ]
    )
