"""Emails through the outbox: written as `Notification` rows, then sent one by one.

`write` renders each email (subject, text and HTML bodies) and inserts one pending row per
recipient, in the caller's transaction: the rows commit with the change that calls for
them, or vanish with it. The unique (key, recipient) keeps "never twice": a message
already written for that person (pending, sent or given up) is not written again. Each
pending row's send is queued on commit; `send_once` makes one attempt through the
generic claim of `outbox.py`, and the hourly sweep sends what was left behind.

Why render at write time rather than store a template and its context: the email then
says what was true when the event happened (as a webhook's payload is frozen), the
sender needs no query of the domain and no model instances in JSON, and the admin shows
exactly what was or will be sent.
"""

from __future__ import annotations

import datetime as dt
import smtplib
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone

from accountability.choices import LIVE_FLAG_STATUSES

from . import outbox
from .choices import NotificationStatus
from .models import Notification

TEMPLATE_DIR = "notifications/email"
# 7 attempts over about an hour and a half: 1, 2, 4, 8, 16, 32 minutes apart.
EMAIL_RETRY = outbox.RetryPolicy(base_seconds=60, max_seconds=3600, max_attempts=7)
_MAIL_ERRORS = (smtplib.SMTPException, OSError)
_ERROR_MAX_CHARS = 1000


@dataclass(frozen=True)
class Recipient:
    name: str
    email: str


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


@dataclass(frozen=True)
class Email:
    """One email to write: to every recipient, from `template` (.txt and .html) and `context`."""

    organization_id: int
    key: str
    subject: str
    recipients: list[Recipient]
    template: str
    context: dict = field(default_factory=dict)
    flag_id: int | None = None
    # (file name, content, MIME type) of one file to attach, e.g. a PDF.
    attachment: tuple[str, bytes, str] | None = None


def _rows(email: Email, now: dt.datetime) -> list[Notification]:
    if not email.recipients:
        return []
    subject = " ".join(email.subject.split())[:300]  # no header injection through a title
    text = render_to_string(f"{TEMPLATE_DIR}/{email.template}.txt", email.context)
    html = render_to_string(f"{TEMPLATE_DIR}/{email.template}.html", email.context)
    return [
        Notification(
            organization_id=email.organization_id,
            key=email.key,
            recipient=recipient.email,
            recipient_name=recipient.name[:200],
            subject=subject,
            body_text=text,
            body_html=html,
            flag_id=email.flag_id,
            attachment_name=email.attachment[0] if email.attachment else "",
            attachment=email.attachment[1] if email.attachment else None,
            attachment_type=email.attachment[2] if email.attachment else "",
            next_attempt_at=now,
            created_at=now,
        )
        for recipient in email.recipients
    ]


def write(emails: Iterable[Email]) -> list[int]:
    """Write each email as pending rows, one per recipient not written before for its key,
    and queue the send of every pending row of these keys once the transaction commits.

    Call inside the transaction of the change that calls for the emails. Two queries
    whatever the number of emails (the insert, in batches of 500 rows, and the pending ids). Safe to re-run: a
    (key, recipient) already written is left as it is. Returns the ids queued.
    """
    now = timezone.now()
    rows = [row for email in emails for row in _rows(email, now)]
    if not rows:
        return []
    # ON CONFLICT DO NOTHING: a concurrent writer of the same key waits for the other's
    # commit and then writes nothing, instead of failing the whole change.
    Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    ids = list(
        Notification.objects.filter(key__in={row.key for row in rows}, status=NotificationStatus.PENDING)
        .order_by("id")
        .values_list("id", flat=True)
    )
    outbox.queue_batches_on_commit(outbox.SEND_EMAILS_TASK, ids)
    return ids


def _cancel_if_stale(row: Notification) -> bool:
    """A flag alert whose flag was closed before it went out is no longer news."""
    if row.flag_id is None or row.flag.status in LIVE_FLAG_STATUSES:
        return False
    Notification.objects.filter(pk=row.pk, status=NotificationStatus.PENDING).update(
        status=NotificationStatus.CANCELLED, next_attempt_at=None
    )
    return True


def send_once(notification_id: int, *, now: dt.datetime | None = None) -> outbox.Outcome:
    """Make the next attempt of one pending email, if due: claim it, hand it to the email
    backend, record `sent` or the next attempt (`EMAIL_RETRY`).

    Idempotent: a sent, given-up or cancelled row returns at once, and an attempt another
    worker claimed is not repeated. `now` is read once (tests pass it to walk the
    schedule). The SMTP conversation runs outside any transaction.
    """
    now = now or timezone.now()
    row = Notification.objects.select_related("flag").filter(pk=notification_id).first()
    skip = outbox.skip_reason(row, now)
    if skip is not None:
        return skip
    if _cancel_if_stale(row):
        return outbox.Outcome(NotificationStatus.CANCELLED)
    attempt = outbox.claim(row, now)
    if attempt is None:
        return outbox.Outcome("claimed")

    message = EmailMultiAlternatives(
        row.subject,
        row.body_text,
        settings.DEFAULT_FROM_EMAIL,
        [formataddr((row.recipient_name or row.recipient, row.recipient))],
    )
    if row.body_html:
        message.attach_alternative(row.body_html, "text/html")
    if row.attachment_name and row.attachment is not None:
        message.attach(row.attachment_name, bytes(row.attachment), row.attachment_type or None)
    try:
        message.send()
    except _MAIL_ERRORS as exc:
        error = f"{type(exc).__name__}: {exc}"[:_ERROR_MAX_CHARS]
        return outbox.record_failure(row, attempt, now, EMAIL_RETRY, last_error=error)
    return outbox.record_success(row, attempt, status=NotificationStatus.SENT, sent_at=now, last_error="")
