"""Emails, through Django's test outbox: who is told what, exactly once per event, and only
after the transaction that raised the flag commits.

Flags are raised through the engine's `flags_sync`, which announces its events inside its
transaction: the emails are written there as `Notification` rows and their sends queued on
commit; `django_capture_on_commit_callbacks(execute=True)` (or the `committed` fixture)
plays the commit inside the test transaction.
"""

import datetime as dt
import smtplib

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.utils import timezone

from accountability import events
from accountability.choices import FlagKind, FlagStatus, SessionStatus, Severity, SubjectType
from accountability.findings import Finding
from accountability.flag_actions import flag_dismiss
from accountability.flags import flags_sync
from notifications import emails, mail, outbox
from notifications.choices import DeliveryStatus, NotificationStatus
from notifications.models import Notification, WebhookDelivery
from notifications.tasks import send_weekly_digests_task
from programs.choices import ProgramStatus
from tests.factories import (
    FlagFactory,
    ForumFactory,
    ForumSessionFactory,
    InitiativeFactory,
    PersonFactory,
    ProgramFactory,
    RiskAssessmentFactory,
    WebhookFactory,
)

from .webhook_receiver import Receiver

AS_OF = dt.date(2024, 6, 3)  # a Monday: ISO week 2024-W23
KIND = FlagKind.INITIATIVE_STALLED


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "https://cxgov.example.com"


@pytest.fixture
def program(organization):
    return ProgramFactory(organization=organization, name="Customer One")


@pytest.fixture
def initiative(program):
    return InitiativeFactory(program=program, name="Single view of the customer")


def finding(initiative, severity: str, **evidence) -> Finding:
    return Finding(
        kind=KIND,
        program_id=initiative.program_id,
        subject_type=SubjectType.INITIATIVE,
        subject_id=initiative.id,
        severity=severity,
        owner_id=initiative.owner_id,
        title=f"{initiative.name} has had no progress update for 75 days",
        detail="Stalled work needs the sponsor's air cover.",
        evidence=evidence
        or {
            "initiative_id": initiative.id,
            "initiative": initiative.name,
            "status": "in_progress",
            "last_update_on": "2024-03-20",
            "days_since_activity": 75,
            "stall_after_days": 30,
            "high_after_days": 60,
        },
    )


def sync(initiative, severity: str | None, capture, **evidence):
    """One scan of the stalled-initiative rule, committed (the events run on commit)."""
    findings = [finding(initiative, severity, **evidence)] if severity else []
    with capture(execute=True):
        flags_sync(organization=initiative.program.organization, findings=findings, kinds=[KIND], as_of=AS_OF)


def addresses(outbox) -> list[str]:
    return sorted(address for message in outbox for address in message.to)


# --- Flag emails ---------------------------------------------------------------------------


def test_a_high_flag_emails_its_owner_and_the_champion_once_each(
    initiative, mailoutbox, django_capture_on_commit_callbacks
):
    program = initiative.program
    sync(initiative, Severity.HIGH, django_capture_on_commit_callbacks)

    assert addresses(mailoutbox) == sorted(
        [
            f"{initiative.owner.name} <{initiative.owner.email}>",
            f"{program.customer_champion.name} <{program.customer_champion.email}>",
        ]
    )
    message = mailoutbox[0]
    title = f"{initiative.name} has had no progress update for 75 days"
    assert message.subject == f"[cxgov] HIGH: {title}"
    flag = program.flags.get()
    link = f"https://cxgov.example.com/dashboard/programs/{program.id}/#flag-{flag.id}"
    assert f"A High flag was raised on {program.name}." in message.body
    assert title in message.body
    assert "Stalled work needs the sponsor's air cover." in message.body
    # Evidence in sentences, with the date as people write it: no JSON, no codes, no ids.
    assert "(in progress) has had no activity for 75 days, since its last progress update on 20 Mar 2024." in (
        message.body
    )
    assert "{" not in message.body and "in_progress" not in message.body and "initiative_stalled" not in message.body
    assert link in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and f'href="{link}"' in html
    keys = set(Notification.objects.values_list("key", "recipient", "status", "attempt_count"))
    assert keys == {
        (f"flag:{flag.id}:severity:high", initiative.owner.email, "sent", 1),
        (f"flag:{flag.id}:severity:high", program.customer_champion.email, "sent", 1),
    }

    # The next scans find the same condition: refreshed, not raised again, nobody re-told.
    sync(initiative, Severity.HIGH, django_capture_on_commit_callbacks)
    sync(initiative, Severity.HIGH, django_capture_on_commit_callbacks)
    assert len(mailoutbox) == 2


@pytest.mark.parametrize("severity", [Severity.LOW, Severity.MEDIUM])
def test_low_and_medium_flags_send_no_email(initiative, severity, mailoutbox, django_capture_on_commit_callbacks):
    sync(initiative, severity, django_capture_on_commit_callbacks)
    assert initiative.program.flags.count() == 1
    assert mailoutbox == []


def test_escalation_to_high_then_critical_emails_at_each_level_once(
    initiative, mailoutbox, django_capture_on_commit_callbacks
):
    sync(initiative, Severity.MEDIUM, django_capture_on_commit_callbacks)
    assert mailoutbox == []

    sync(initiative, Severity.HIGH, django_capture_on_commit_callbacks)
    assert len(mailoutbox) == 2
    assert {m.subject for m in mailoutbox} == {
        f"[cxgov] HIGH: {initiative.name} has had no progress update for 75 days"
    }
    assert "escalated from Medium to High" in mailoutbox[0].body

    sync(initiative, Severity.CRITICAL, django_capture_on_commit_callbacks)
    assert len(mailoutbox) == 4
    assert mailoutbox[-1].subject.startswith("[cxgov] CRITICAL: ")

    # Down to high and back up to critical: that level was already announced for this flag.
    sync(initiative, Severity.HIGH, django_capture_on_commit_callbacks)
    sync(initiative, Severity.CRITICAL, django_capture_on_commit_callbacks)
    assert len(mailoutbox) == 4


def test_a_recurrence_is_a_new_flag_and_a_new_email(initiative, mailoutbox, django_capture_on_commit_callbacks):
    sync(initiative, Severity.HIGH, django_capture_on_commit_callbacks)
    sync(initiative, None, django_capture_on_commit_callbacks)  # condition cleared: resolved
    sync(initiative, Severity.HIGH, django_capture_on_commit_callbacks)
    assert initiative.program.flags.count() == 2
    assert len(mailoutbox) == 4


def test_nothing_is_sent_when_the_transaction_rolls_back(initiative, mailoutbox, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        flags_sync(
            organization=initiative.program.organization,
            findings=[finding(initiative, Severity.CRITICAL)],
            kinds=[KIND],
            as_of=AS_OF,
        )
        raise RuntimeError("the scan failed after raising the flag")
    assert callbacks == []
    assert mailoutbox == []
    assert initiative.program.flags.count() == 0 and Notification.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_nothing_is_sent_on_a_real_rollback_and_once_on_a_real_commit(mailoutbox):
    initiative = InitiativeFactory()
    organization = initiative.program.organization
    with pytest.raises(RuntimeError), transaction.atomic():
        flags_sync(organization=organization, findings=[finding(initiative, Severity.HIGH)], kinds=[KIND], as_of=AS_OF)
        raise RuntimeError("rolled back")
    assert mailoutbox == [] and Notification.objects.count() == 0

    flags_sync(organization=organization, findings=[finding(initiative, Severity.HIGH)], kinds=[KIND], as_of=AS_OF)
    assert len(mailoutbox) == 2 and Notification.objects.count() == 2


def test_the_same_event_twice_sends_once(initiative, mailoutbox, committed):
    flag = FlagFactory(program=initiative.program, severity=Severity.HIGH, owner=initiative.owner)
    with committed():
        events.flags_changed(raised=[flag])
        events.flags_changed(raised=[flag])
    with committed():
        events.flags_changed(raised=[flag])
    assert outbox.sweep() == {"emails": 0, "webhooks": 0}
    assert len(mailoutbox) == 2
    assert Notification.objects.count() == 2


def test_the_owner_who_is_the_champion_gets_one_email(program, mailoutbox, committed):
    flag = FlagFactory(program=program, owner=program.customer_champion, severity=Severity.CRITICAL)
    with committed():
        events.flags_changed(raised=[flag])
    assert addresses(mailoutbox) == [f"{program.customer_champion.name} <{program.customer_champion.email}>"]


def test_people_without_an_email_are_skipped(program, mailoutbox, committed):
    owner = PersonFactory(organization=program.organization, email="")
    with committed():
        events.flags_changed(raised=[FlagFactory(program=program, owner=owner, severity=Severity.HIGH)])
    assert addresses(mailoutbox) == [f"{program.customer_champion.name} <{program.customer_champion.email}>"]

    program.customer_champion = None
    program.save()
    with committed():
        events.flags_changed(raised=[FlagFactory(program=program, owner=None, severity=Severity.HIGH, subject_id=0)])
    assert len(mailoutbox) == 1 and Notification.objects.count() == 1


def test_a_flag_closed_before_the_email_goes_out_sends_nothing(
    program, office_user, mailoutbox, django_capture_on_commit_callbacks
):
    flag = FlagFactory(program=program, severity=Severity.HIGH)
    with django_capture_on_commit_callbacks() as sends:
        events.flags_changed(raised=[flag])  # written, the sends not run yet
    flag_dismiss(flag=flag, actor=office_user, reason="A known gap, planned for Q3.")

    for send in sends:
        send()
    assert mailoutbox == []
    assert set(Notification.objects.values_list("status", flat=True)) == {NotificationStatus.CANCELLED}
    assert outbox.sweep() == {"emails": 0, "webhooks": 0}  # settled: the sweep leaves them


class RefusingBackend(BaseEmailBackend):
    """An SMTP server that is down."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("connection lost")


def test_a_failed_send_waits_and_the_retry_sends_it_once(program, settings, mailoutbox, committed):
    flag = FlagFactory(program=program, severity=Severity.HIGH)
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    with committed():
        events.flags_changed(raised=[flag])
    rows = list(Notification.objects.order_by("id"))
    assert len(rows) == 2
    for row in rows:
        assert (row.status, row.attempt_count, row.sent_at) == ("pending", 1, None)
        assert row.last_error == "SMTPServerDisconnected: connection lost"
        assert (row.next_attempt_at - row.created_at).total_seconds() == pytest.approx(60, abs=1)
        # A minute after the failed attempt: 59 s is too early, the retry is due at 60 s.
        early = row.next_attempt_at - dt.timedelta(seconds=2)
        assert mail.send_once(row.pk, now=early).status == "not_due"

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert [mail.send_once(row.pk, now=row.next_attempt_at).status for row in rows] == ["sent", "sent"]
    assert [mail.send_once(row.pk).status for row in rows] == ["done", "done"]
    assert len(mailoutbox) == 2
    assert set(Notification.objects.values_list("status", "attempt_count", "last_error")) == {("sent", 2, "")}


def test_a_mail_server_down_for_good_gives_up_after_7_attempts(program, settings, mailoutbox, committed):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    with committed():
        events.flags_changed(raised=[FlagFactory(program=program, owner=None, severity=Severity.HIGH)])
    row = Notification.objects.get()
    gaps = []
    for _ in range(6):
        row.refresh_from_db()
        before = row.next_attempt_at
        outcome = mail.send_once(row.pk, now=before)
        gaps.append((outcome.next_attempt_at - before).total_seconds() if outcome.next_attempt_at else None)
    assert gaps[:5] == [120, 240, 480, 960, 1920]  # after attempts 2..6: 60 s × 2^(n-1)
    assert gaps[5] is None  # the 7th attempt gave up
    row.refresh_from_db()
    assert (row.status, row.attempt_count, row.next_attempt_at) == ("failed", 7, None)
    assert mailoutbox == []


def test_a_mail_server_down_does_not_hold_back_the_webhooks(program, settings, mailoutbox, committed):
    settings.CXGOV_WEBHOOK_ALLOW_PRIVATE = True
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    with Receiver() as receiver:
        WebhookFactory(organization=program.organization, url=receiver.url)
        with committed():
            events.flags_changed(raised=[FlagFactory(program=program, severity=Severity.HIGH)])
    assert len(receiver.requests) == 1 and WebhookDelivery.objects.get().status == DeliveryStatus.DELIVERED
    assert set(Notification.objects.values_list("status", "attempt_count")) == {("pending", 1)}


# --- Weekly digest -------------------------------------------------------------------------


def session(forum, days_before_as_of: float, status: str):
    at = dt.datetime.combine(AS_OF, dt.time(9, 0), tzinfo=dt.UTC) - dt.timedelta(days=days_before_as_of)
    return ForumSessionFactory(forum=forum, scheduled_for=at, status=status)


@pytest.fixture
def digest_program(program):
    forum = ForumFactory(program=program, name="Customer council")
    session(forum, 1, SessionStatus.HELD)
    session(forum, 3, SessionStatus.CANCELLED)
    session(forum, 5, SessionStatus.SCHEDULED)  # its date passed and nobody recorded it as held
    session(forum, 6, SessionStatus.HELD)
    session(forum, 8, SessionStatus.HELD)  # before the 7-day window
    session(forum, -0.1, SessionStatus.SCHEDULED)  # on as_of itself: next week's digest
    FlagFactory(program=program, severity=Severity.CRITICAL, subject_id=1, title="Sponsor absent")
    FlagFactory(program=program, severity=Severity.HIGH, subject_id=2, title="No outcome metric")
    FlagFactory(program=program, severity=Severity.LOW, subject_id=3, status=FlagStatus.ACKNOWLEDGED)
    FlagFactory(program=program, severity=Severity.HIGH, subject_id=4, status=FlagStatus.RESOLVED)
    RiskAssessmentFactory(program=program, as_of=AS_OF - dt.timedelta(days=7), score=40, level="elevated")
    RiskAssessmentFactory(program=program, as_of=AS_OF - dt.timedelta(days=1), score=55, level="high")
    RiskAssessmentFactory(program=program, as_of=AS_OF + dt.timedelta(days=1), score=90, level="critical")
    return program


def test_the_digest_shows_open_flags_risk_trend_and_forums_held_and_missed(
    digest_program, mailoutbox, django_assert_max_num_queries, committed
):
    program = digest_program
    with django_assert_max_num_queries(4):
        context = emails.program_digest(program, AS_OF)
    assert context["open_count"] == 3
    assert context["by_severity"] == {"Critical": 1, "High": 1, "Medium": 0, "Low": 1}
    assert [item["flag"].title for item in context["flags"]][:2] == ["Sponsor absent", "No outcome metric"]
    assert (context["risk"].score, context["previous_risk"].score, context["risk_trend"]) == (55, 40, "rising")
    assert context["held"] == 2 and len(context["missed"]) == 2

    with committed():
        assert len(emails.write_program_digest(program.id, AS_OF)) == 2

    assert addresses(mailoutbox) == sorted(
        f"{p.name} <{p.email}>" for p in (program.executive_sponsor, program.customer_champion)
    )
    message = mailoutbox[0]
    assert message.subject == "[cxgov] Weekly digest: Customer One — 3 open flags, risk high"
    body = message.body
    assert "27 May 2024 to 2 Jun 2024" in body
    assert "Open flags: 3 · Critical 1 · High 1 · Low 1" in body
    assert "[CRITICAL] Sponsor absent" in body
    assert "Early-bail risk: high (55/100, as of 2 Jun 2024), rising from elevated (40)" in body
    assert "Forums: 2 sessions held, 2 missed." in body
    assert "Customer council on 31 May 2024: cancelled" in body
    assert "Customer council on 29 May 2024: not recorded as held" in body
    assert f"https://cxgov.example.com/dashboard/programs/{program.id}/" in body
    assert set(Notification.objects.values_list("key", flat=True)) == {f"digest:{program.id}:2024-W23"}


def test_the_digest_goes_once_per_week_to_active_and_paused_programs(digest_program, mailoutbox, committed):
    paused = ProgramFactory(organization=digest_program.organization, status=ProgramStatus.PAUSED)
    ProgramFactory(organization=digest_program.organization, status=ProgramStatus.DRAFT)
    ProgramFactory(organization=digest_program.organization, status=ProgramStatus.COMPLETED)

    with committed():
        assert send_weekly_digests_task.delay(AS_OF.isoformat()).get() == 2
    with committed():  # same ISO week: nothing new
        send_weekly_digests_task.delay((AS_OF + dt.timedelta(days=2)).isoformat())
    assert len(mailoutbox) == 4
    assert {m.subject.split(" — ")[0] for m in mailoutbox} == {
        "[cxgov] Weekly digest: Customer One",
        f"[cxgov] Weekly digest: {paused.name}",
    }
    quiet = next(m for m in mailoutbox if paused.name in m.subject)
    assert "Open flags: 0" in quiet.body and "Early-bail risk: not assessed yet" in quiet.body

    with committed():
        send_weekly_digests_task.delay((AS_OF + dt.timedelta(days=7)).isoformat())  # next week
    assert len(mailoutbox) == 8


def test_a_sponsor_who_champions_gets_one_digest(organization, mailoutbox, committed):
    person = PersonFactory(organization=organization)
    program = ProgramFactory(organization=organization, executive_sponsor=person, customer_champion=person)
    with committed():
        assert len(emails.write_program_digest(program.id, AS_OF)) == 1
    assert [m.to for m in mailoutbox] == [[f"{person.name} <{person.email}>"]]


def test_the_default_digest_week_is_today(program, mailoutbox):
    send_weekly_digests_task.delay()
    key = emails.digest_key(program.id, timezone.localdate())
    assert Notification.objects.filter(key=key).count() == 2


# --- Batches ---------------------------------------------------------------------------------


def test_a_scans_messages_cost_the_same_queries_for_1_or_12_high_flags(
    organization, other_organization, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    def findings(org, count: int) -> list[Finding]:
        program = ProgramFactory(organization=org)
        WebhookFactory(organization=org)
        return [finding(InitiativeFactory(program=program), Severity.HIGH) for _ in range(count)]

    one, twelve = findings(organization, 1), findings(other_organization, 12)
    with django_capture_on_commit_callbacks() as sends, django_assert_max_num_queries(100) as queries:
        flags_sync(organization=organization, findings=one, kinds=[KIND], as_of=AS_OF)
    # One task for the delivery, one for the two emails (owner and champion): batches, not rows.
    assert len(sends) == 2
    with (
        django_capture_on_commit_callbacks() as sends,
        django_assert_max_num_queries(len(queries.captured_queries)),
    ):
        flags_sync(organization=other_organization, findings=twelve, kinds=[KIND], as_of=AS_OF)
    # Still one task for the 12 deliveries and one for the 24 emails (a batch holds 50).
    assert len(sends) == 2
    assert Notification.objects.filter(organization=other_organization).count() == 24
    assert WebhookDelivery.objects.filter(webhook__organization=other_organization).count() == 12
