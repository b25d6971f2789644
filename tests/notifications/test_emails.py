"""Emails, through Django's test outbox: who is told what, exactly once per event, and only
after the transaction that raised the flag commits.

Flags are raised through the engine's `flags_sync`, which sends its events from
`transaction.on_commit`; `django_capture_on_commit_callbacks(execute=True)` plays the
commit inside the test transaction.
"""

import datetime as dt
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.utils import timezone

from accountability import events
from accountability.choices import FlagKind, FlagStatus, SessionStatus, Severity, SubjectType
from accountability.findings import Finding
from accountability.flags import flags_sync
from notifications import emails
from notifications.models import Notification
from notifications.tasks import send_flag_email_task, send_weekly_digests_task
from programs.choices import ProgramStatus
from tests.factories import (
    FlagFactory,
    ForumFactory,
    ForumSessionFactory,
    InitiativeFactory,
    PersonFactory,
    ProgramFactory,
    RiskAssessmentFactory,
)

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
        evidence=evidence or {"last_update_on": "2024-03-20", "days_since": 75, "stall_after_days": 30},
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
    assert '"days_since": 75' in message.body and '"last_update_on": "2024-03-20"' in message.body
    assert link in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and f'href="{link}"' in html
    keys = set(Notification.objects.values_list("key", "recipient"))
    assert keys == {
        (f"flag:{flag.id}:severity:high", initiative.owner.email),
        (f"flag:{flag.id}:severity:high", program.customer_champion.email),
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


def test_the_same_event_twice_sends_once(initiative, mailoutbox):
    flag = FlagFactory(program=initiative.program, severity=Severity.HIGH, owner=initiative.owner)
    events.flags_changed(raised=[flag])
    events.flags_changed(raised=[flag])
    send_flag_email_task.delay(flag.id, "high")
    assert len(mailoutbox) == 2
    assert Notification.objects.count() == 2


def test_the_owner_who_is_the_champion_gets_one_email(program, mailoutbox):
    flag = FlagFactory(program=program, owner=program.customer_champion, severity=Severity.CRITICAL)
    events.flags_changed(raised=[flag])
    assert addresses(mailoutbox) == [f"{program.customer_champion.name} <{program.customer_champion.email}>"]


def test_people_without_an_email_are_skipped(program, mailoutbox):
    owner = PersonFactory(organization=program.organization, email="")
    events.flags_changed(raised=[FlagFactory(program=program, owner=owner, severity=Severity.HIGH)])
    assert addresses(mailoutbox) == [f"{program.customer_champion.name} <{program.customer_champion.email}>"]

    program.customer_champion = None
    program.save()
    events.flags_changed(raised=[FlagFactory(program=program, owner=None, severity=Severity.HIGH, subject_id=0)])
    assert len(mailoutbox) == 1


def test_a_flag_closed_before_the_email_goes_out_sends_nothing(program, mailoutbox):
    flag = FlagFactory(program=program, severity=Severity.HIGH, status=FlagStatus.DISMISSED)
    assert send_flag_email_task.delay(flag.id, "high").get() == 0
    assert mailoutbox == []


class RefusingBackend(BaseEmailBackend):
    """An SMTP server that is down."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("connection lost")


def test_a_failed_send_is_not_recorded_so_a_retry_sends_it(program, settings, mailoutbox):
    flag = FlagFactory(program=program, severity=Severity.HIGH)
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    with pytest.raises(smtplib.SMTPServerDisconnected):
        emails.send_flag_email(flag.id, "high")
    assert Notification.objects.count() == 0

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert len(emails.send_flag_email(flag.id, "high")) == 2
    assert len(mail.outbox) == 2


def test_a_hook_failure_does_not_break_the_other_events(program, settings, mailoutbox, caplog):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    events.flags_changed(raised=[FlagFactory(program=program, severity=Severity.HIGH)])  # logged, not raised
    assert "notification for flag" in caplog.text
    assert Notification.objects.count() == 0


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
    digest_program, mailoutbox, django_assert_max_num_queries
):
    program = digest_program
    with django_assert_max_num_queries(4):
        context = emails.program_digest(program, AS_OF)
    assert context["open_count"] == 3
    assert context["by_severity"] == {"Critical": 1, "High": 1, "Medium": 0, "Low": 1}
    assert [item["flag"].title for item in context["flags"]][:2] == ["Sponsor absent", "No outcome metric"]
    assert (context["risk"].score, context["previous_risk"].score, context["risk_trend"]) == (55, 40, "rising")
    assert context["held"] == 2 and len(context["missed"]) == 2

    sent = emails.send_program_digest(program.id, AS_OF)

    assert sorted(sent) == sorted([program.executive_sponsor.email, program.customer_champion.email])
    message = mailoutbox[0]
    assert message.subject == "[cxgov] Weekly digest: Customer One — 3 open flags, risk high"
    body = message.body
    assert "2024-05-27 to 2024-06-02" in body
    assert "Open flags: 3 · Critical 1 · High 1 · Low 1" in body
    assert "[CRITICAL] Sponsor absent" in body
    assert "Early-bail risk: high (55/100, as of 2024-06-02), rising from elevated (40)" in body
    assert "Forums: 2 sessions held, 2 missed." in body
    assert "Customer council on 2024-05-31: cancelled" in body
    assert "Customer council on 2024-05-29: not recorded as held" in body
    assert f"https://cxgov.example.com/dashboard/programs/{program.id}/" in body
    assert set(Notification.objects.values_list("key", flat=True)) == {f"digest:{program.id}:2024-W23"}


def test_the_digest_goes_once_per_week_to_active_and_paused_programs(digest_program, mailoutbox):
    paused = ProgramFactory(organization=digest_program.organization, status=ProgramStatus.PAUSED)
    ProgramFactory(organization=digest_program.organization, status=ProgramStatus.DRAFT)
    ProgramFactory(organization=digest_program.organization, status=ProgramStatus.COMPLETED)

    assert send_weekly_digests_task.delay(AS_OF.isoformat()).get() == 2
    send_weekly_digests_task.delay((AS_OF + dt.timedelta(days=2)).isoformat())  # same ISO week: nothing new
    assert len(mailoutbox) == 4
    assert {m.subject.split(" — ")[0] for m in mailoutbox} == {
        "[cxgov] Weekly digest: Customer One",
        f"[cxgov] Weekly digest: {paused.name}",
    }
    quiet = next(m for m in mailoutbox if paused.name in m.subject)
    assert "Open flags: 0" in quiet.body and "Early-bail risk: not assessed yet" in quiet.body

    send_weekly_digests_task.delay((AS_OF + dt.timedelta(days=7)).isoformat())  # next week
    assert len(mailoutbox) == 8


def test_a_sponsor_who_champions_gets_one_digest(organization, mailoutbox):
    person = PersonFactory(organization=organization)
    program = ProgramFactory(organization=organization, executive_sponsor=person, customer_champion=person)
    assert emails.send_program_digest(program.id, AS_OF) == [person.email]
    assert len(mailoutbox) == 1


def test_the_default_digest_week_is_today(program, mailoutbox):
    send_weekly_digests_task.delay()
    key = emails.digest_key(program.id, timezone.localdate())
    assert Notification.objects.filter(key=key).count() == 2


# --- Batches ---------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 12])
def test_a_scans_events_look_up_webhooks_once_whatever_the_number_of_flags(
    program, count, django_capture_on_commit_callbacks, django_assert_num_queries
):
    initiatives = [InitiativeFactory(program=program) for _ in range(count)]
    findings = [finding(i, Severity.MEDIUM) for i in initiatives]
    with django_capture_on_commit_callbacks() as callbacks:
        flags_sync(organization=program.organization, findings=findings, kinds=[KIND], as_of=AS_OF)
    assert len(callbacks) == 1
    # Medium flags send no email; with no webhook the whole batch is one lookup.
    with django_assert_num_queries(1):
        callbacks[0]()
