"""The outbox (SPEC section 4): every email and webhook delivery is a row written in the
transaction of the change, sent by a task queued on commit, and swept hourly; a rollback
sends nothing, a process killed after the commit loses nothing, nothing goes out twice.

The emails land in Django's locmem outbox, the webhook requests at a real HTTP receiver
on 127.0.0.1.
"""

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from accountability.choices import FlagKind, Severity, SubjectType
from accountability.findings import Finding
from accountability.flags import flags_sync
from accountability.models import Flag
from cxgov.celery import app as celery_app
from notifications import deliveries, mail, outbox
from notifications.models import Notification, WebhookDelivery
from notifications.tasks import sweep_outbox_task
from tests.conftest import ROOT, _database_url, missing_service
from tests.factories import InitiativeFactory, PersonFactory, ProgramFactory, WebhookFactory

from .webhook_receiver import Receiver

AS_OF = dt.date(2024, 6, 3)
KIND = FlagKind.INITIATIVE_STALLED


@pytest.fixture(autouse=True)
def _allow_loopback(settings):
    settings.CXGOV_WEBHOOK_ALLOW_PRIVATE = True


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


def setup_world(receiver_url: str):
    """A program whose stalled initiative is owned by someone other than the champion, and
    a webhook listening to flag.raised: one high flag means two emails and one delivery."""
    program = ProgramFactory()
    initiative = InitiativeFactory(program=program, owner=PersonFactory(organization=program.organization))
    WebhookFactory(organization=program.organization, url=receiver_url, events=["flag.raised"])
    return initiative


def raise_high_flag(initiative) -> None:
    finding = Finding(
        kind=KIND,
        program_id=initiative.program_id,
        subject_type=SubjectType.INITIATIVE,
        subject_id=initiative.id,
        severity=Severity.HIGH,
        owner_id=initiative.owner_id,
        title=f"{initiative.name} has had no progress update for 75 days",
        detail="Stalled work needs the sponsor's air cover.",
        evidence={"days_since": 75},
    )
    flags_sync(organization=initiative.program.organization, findings=[finding], kinds=[KIND], as_of=AS_OF)


def recipients(mailoutbox) -> list[str]:
    return sorted(address for message in mailoutbox for address in message.to)


def expected_recipients(initiative) -> list[str]:
    people = (initiative.owner, initiative.program.customer_champion)
    return sorted(f"{p.name} <{p.email}>" for p in people)


def assert_all_sent_once():
    assert set(Notification.objects.values_list("status", "attempt_count")) == {("sent", 1)}
    assert set(WebhookDelivery.objects.values_list("status", "attempt_count")) == {("delivered", 1)}


# --- (a) A rollback writes nothing and sends nothing ---------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_writes_no_outbox_row_and_sends_nothing(receiver, mailoutbox):
    initiative = setup_world(receiver.url)

    with pytest.raises(RuntimeError), transaction.atomic():
        raise_high_flag(initiative)
        # Inside the transaction the rows exist, and nothing has left yet.
        assert (Notification.objects.count(), WebhookDelivery.objects.count()) == (2, 1)
        assert mailoutbox == [] and receiver.requests == []
        raise RuntimeError("the scan failed after raising the flag")

    assert (Flag.objects.count(), Notification.objects.count(), WebhookDelivery.objects.count()) == (0, 0, 0)
    assert sweep_outbox_task() == {"emails": 0, "webhooks": 0}
    assert mailoutbox == [] and receiver.requests == []

    # The same change committed: each message once.
    raise_high_flag(initiative)
    assert recipients(mailoutbox) == expected_recipients(initiative)
    assert len(receiver.requests) == 1
    assert_all_sent_once()


# --- (b) Killed between commit and send: nothing lost, nothing twice -------------------------


def run_process(initiative, *options: str) -> subprocess.CompletedProcess:
    """`killed_after_commit.py` in a process of its own, eager Celery, on the test database
    (PostgreSQL: `_database_url` skips, or fails in CI, without it)."""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}  # eager: it sends inline
    env.update(DATABASE_URL=_database_url(), CXGOV_WEBHOOK_ALLOW_PRIVATE="1", EMAIL_URL="consolemail://")
    return subprocess.run(
        [sys.executable, "-m", "tests.notifications.killed_after_commit", str(initiative.pk), *options],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.django_db(transaction=True)
def test_a_process_that_lives_on_sends_its_messages_right_after_the_commit(receiver):
    """The control of the next test: the same process, not killed, sends everything itself."""
    initiative = setup_world(receiver.url)

    lived = run_process(initiative, "--live")

    assert lived.returncode == 0, lived.stderr
    assert lived.stdout.count("Subject: [cxgov] HIGH: ") == 2  # owner and champion, console backend
    assert len(receiver.requests) == 1
    assert_all_sent_once()


@pytest.mark.django_db(transaction=True)
def test_a_process_killed_between_commit_and_send_loses_nothing_and_sends_nothing_twice(receiver, mailoutbox):
    """A real process commits the flag and its outbox rows and is SIGKILLed before any
    send; the sweep then sends each message exactly once, and a second sweep nothing."""
    initiative = setup_world(receiver.url)

    killed = run_process(initiative)

    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert "Subject:" not in killed.stdout  # the console backend printed no email
    assert Flag.objects.filter(program=initiative.program, severity=Severity.HIGH).count() == 1  # committed
    assert set(Notification.objects.values_list("status", "attempt_count")) == {("pending", 0)}
    assert set(WebhookDelivery.objects.values_list("status", "attempt_count")) == {("pending", 0)}
    assert mailoutbox == [] and receiver.requests == []

    assert sweep_outbox_task() == {"emails": 2, "webhooks": 1}

    assert recipients(mailoutbox) == expected_recipients(initiative)
    (request,) = receiver.requests
    assert json.loads(request.body)["data"]["flag"]["severity"] == "high"
    assert_all_sent_once()
    assert sweep_outbox_task() == {"emails": 0, "webhooks": 0}
    assert outbox.sweep(now=timezone.now() + dt.timedelta(days=1)) == {"emails": 0, "webhooks": 0}
    assert len(mailoutbox) == 2 and len(receiver.requests) == 1


@pytest.mark.django_db(transaction=True)
def test_an_interruption_right_after_the_commit_loses_nothing(receiver, mailoutbox):
    """The same in-process (any database): the first on-commit callback raises, as a
    KeyboardInterrupt would, so the send tasks queued on commit never run."""
    initiative = setup_world(receiver.url)

    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt), transaction.atomic():
        transaction.on_commit(interrupted)
        raise_high_flag(initiative)

    assert (Notification.objects.count(), WebhookDelivery.objects.count()) == (2, 1)
    assert mailoutbox == [] and receiver.requests == []
    assert sweep_outbox_task() == {"emails": 2, "webhooks": 1}
    assert recipients(mailoutbox) == expected_recipients(initiative) and len(receiver.requests) == 1
    assert_all_sent_once()
    assert sweep_outbox_task() == {"emails": 0, "webhooks": 0}
    assert len(mailoutbox) == 2 and len(receiver.requests) == 1


# --- The sweep -------------------------------------------------------------------------------


def test_the_sweep_sends_due_rows_only_and_retakes_a_dead_workers_row_after_its_lease(
    organization, receiver, mailoutbox
):
    now = timezone.now()
    webhook = WebhookFactory(organization=organization, url=receiver.url)

    def email(key: str, **fields) -> Notification:
        return Notification.objects.create(
            organization=organization, key=key, recipient=f"{key}@example.com", subject=key, body_text=key, **fields
        )

    email("due", next_attempt_at=now - dt.timedelta(minutes=5))
    email("later", next_attempt_at=now + dt.timedelta(minutes=5))
    email("sent", status="sent", sent_at=now, next_attempt_at=None)
    # A worker claimed this one 10 minutes ago and died: its lease ends now.
    email("orphan", attempt_count=1, next_attempt_at=now + outbox.ATTEMPT_LEASE - dt.timedelta(minutes=10))
    WebhookDelivery.objects.create(webhook=webhook, event="flag.raised", payload={"id": "d"}, next_attempt_at=now)

    assert outbox.sweep(now=now) == {"emails": 2, "webhooks": 1}

    assert sorted(m.subject for m in mailoutbox) == ["due", "orphan"]
    assert dict(Notification.objects.values_list("key", "status")) == {
        "due": "sent",
        "later": "pending",
        "sent": "sent",
        "orphan": "sent",
    }
    assert Notification.objects.get(key="orphan").attempt_count == 2
    assert [json.loads(r.body)["id"] for r in receiver.requests] == ["d"]


def test_the_beat_schedule_sweeps_the_outbox_hourly_with_an_expiry():
    entry = celery_app.conf.beat_schedule["hourly-outbox-sweep"]
    assert entry["task"] == "notifications.tasks.sweep_outbox_task"
    assert 0 < entry["options"]["expires"] < 3600  # a backlog does not stack sweeps


# --- (c) Two workers on one row: sent once ---------------------------------------------------


def test_two_workers_that_read_the_same_row_send_it_once(organization, receiver, mailoutbox):
    now = timezone.now()
    row = Notification.objects.create(
        organization=organization, key="k", recipient="dana@example.com", subject="s", next_attempt_at=now
    )
    delivery = WebhookDelivery.objects.create(
        webhook=WebhookFactory(organization=organization, url=receiver.url),
        event="flag.raised",
        payload={"id": "x"},
        next_attempt_at=now,
    )
    # Both workers read the rows before either claimed them.
    slow_email, slow_delivery = Notification.objects.get(pk=row.pk), WebhookDelivery.objects.get(pk=delivery.pk)

    assert mail.send_once(row.pk, now=now).status == "sent"
    assert deliveries.deliver_once(delivery.pk, now=now).status == "delivered"
    # The other worker's conditional update, from what it read, finds nothing to take.
    assert outbox.claim(slow_email, now) is None
    assert outbox.claim(slow_delivery, now) is None

    assert len(mailoutbox) == 1 and len(receiver.requests) == 1


@pytest.mark.django_db(transaction=True)
def test_sweeps_racing_in_threads_send_each_row_once(receiver, mailoutbox):
    """Eight workers at once on the same rows, each with its own database connection.
    Needs PostgreSQL (SQLite serializes writers with table locks, not row updates)."""
    if connection.vendor != "postgresql":
        missing_service("racing workers need PostgreSQL (set DATABASE_URL)")
    organization = ProgramFactory().organization
    webhook = WebhookFactory(organization=organization, url=receiver.url)
    now = timezone.now()
    emails = [
        Notification.objects.create(
            organization=organization, key=f"k{n}", recipient="dana@example.com", subject=f"s{n}", next_attempt_at=now
        )
        for n in range(5)
    ]
    hooks = [
        WebhookDelivery.objects.create(webhook=webhook, event="flag.raised", payload={"id": n}, next_attempt_at=now)
        for n in range(5)
    ]
    start = threading.Barrier(8)
    outcomes: list[str] = []

    def worker():
        try:
            start.wait()
            for e, d in zip(emails, hooks, strict=True):
                outcomes.append(mail.send_once(e.pk, now=now).status)
                outcomes.append(deliveries.deliver_once(d.pk, now=now).status)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert outcomes.count("sent") == 5 and outcomes.count("delivered") == 5
    assert sorted(m.subject for m in mailoutbox) == [f"s{n}" for n in range(5)]
    assert sorted(json.loads(r.body)["id"] for r in receiver.requests) == list(range(5))
    assert_all_sent_once()


@pytest.mark.django_db
def test_first_attempts_go_out_in_batches_of_50_not_a_task_per_row(organization, django_capture_on_commit_callbacks):
    """A scan raising many flags queues one send task per 50 outbox rows (both sides of 50)."""

    def emails(count: int, prefix: str) -> list:
        return [
            mail.Email(
                organization_id=organization.pk,
                key=f"{prefix}:{n}",
                subject="s",
                recipients=[mail.Recipient("A", "a@example.com")],
                template="webhook_disabled",
                context={},
            )
            for n in range(count)
        ]

    with django_capture_on_commit_callbacks() as fifty:
        assert len(mail.write(emails(50, "fifty"))) == 50
    with django_capture_on_commit_callbacks() as fifty_one:
        assert len(mail.write(emails(51, "fifty-one"))) == 51
    assert (len(fifty), len(fifty_one)) == (1, 2)
    assert outbox.chunks(list(range(51))) == [list(range(50)), [50]]
