"""Webhook delivery and flag emails through a real Celery worker on Redis (needs
DATABASE_URL on PostgreSQL and REDIS_URL; skipped without them unless CXGOV_REQUIRE_SERVICES=1).

The worker runs with CXGOV_WEBHOOK_ALLOW_PRIVATE=1, so it may call the loopback receiver,
and the console email backend, so the emails it sends are in its output.
"""

import datetime as dt
import time

import pytest
import redis
from django.conf import settings
from django.db import transaction

from accountability import events
from accountability.choices import ScanStatus, Severity
from accountability.models import Flag, ScanRun
from accountability.scans import scan_queue
from cxgov.celery import app as celery_app
from notifications import webhooks
from notifications.choices import DeliveryStatus
from notifications.models import Notification, WebhookDelivery
from tests.conftest import missing_service, start_worker, stop_worker
from tests.factories import FlagFactory, ProgramFactory, WebhookFactory

from .webhook_receiver import Receiver

pytestmark = pytest.mark.worker

SECRET = "whsec-worker-0123456789"


def wait_until(predicate, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture
def fast_retry_worker(transactional_db):
    """Like `celery_worker_process`, with a one-second backoff base so retries come quickly."""
    if not settings.REDIS_URL:
        missing_service("a real worker needs Redis (set REDIS_URL)")
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    proc = start_worker(extra_env={"CXGOV_WEBHOOK_RETRY_BASE_SECONDS": "1"})
    celery_app.conf.task_always_eager = False
    try:
        yield proc
    finally:
        celery_app.conf.task_always_eager = True
        print(stop_worker(proc)[-5000:])


def test_a_flag_event_is_delivered_and_emailed_by_the_worker(celery_worker_process):
    program = ProgramFactory()
    with Receiver() as receiver:
        WebhookFactory(organization=program.organization, url=receiver.url, secret=SECRET)
        flag = FlagFactory(program=program, severity=Severity.HIGH)

        with transaction.atomic():  # the rows are written here; the tasks go to Redis on commit
            events.flags_changed(raised=[flag])

        (request,) = receiver.wait_for(1)
    assert webhooks.verify(SECRET, request.body, request.headers["X-Cxgov-Signature"])
    delivery = wait_until(
        lambda: WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).first(), what="delivered"
    )
    assert request.headers["X-Cxgov-Delivery"] == str(delivery.event_id)
    assert delivery.attempts.get().status_code == 200
    # The email tasks ran in the worker too: owner and champion, sent once each.
    wait_until(lambda: Notification.objects.filter(status="sent").count() == 2, what="two emails sent")
    assert set(Notification.objects.values_list("recipient", flat=True)) == {
        flag.owner.email,
        program.customer_champion.email,
    }


def test_the_worker_retries_with_backoff_until_delivered(fast_retry_worker):
    program = ProgramFactory()
    with Receiver(fail_first=2) as receiver:
        WebhookFactory(organization=program.organization, url=receiver.url, secret=SECRET)
        started = time.monotonic()
        with transaction.atomic():
            events.flags_changed(raised=[FlagFactory(program=program, severity=Severity.HIGH)])
        requests = receiver.wait_for(3)
        elapsed = time.monotonic() - started
    delivery = wait_until(
        lambda: WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).first(), what="delivered"
    )
    assert len({r.headers["X-Cxgov-Delivery"] for r in requests}) == 1
    assert [r.headers["X-Cxgov-Attempt"] for r in requests] == ["1", "2", "3"]
    # Waits of 1 s then 2 s between the attempts.
    assert elapsed >= 3
    assert delivery.attempt_count == 3
    assert list(delivery.attempts.order_by("attempted_at").values_list("status_code", flat=True)) == [500, 500, 200]
    time.sleep(1)  # nothing more arrives once delivered
    assert len(receiver.requests) == 3


@pytest.fixture
def worker_with_output(transactional_db):
    """A real worker whose output the test reads once it is stopped (`stop()`)."""
    if not settings.REDIS_URL:
        missing_service("a real worker needs Redis (set REDIS_URL)")
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    proc = start_worker()
    celery_app.conf.task_always_eager = False
    output: list[str] = []

    def stop() -> str:
        if not output:
            output.append(stop_worker(proc))
        return output[0]

    try:
        yield stop
    finally:
        celery_app.conf.task_always_eager = True
        print(stop()[-5000:])


def test_a_scans_high_flag_is_emailed_and_delivered_exactly_once(worker_with_output):
    """The API's path: a queued scan runs in the worker, raises the program's high flag
    (no business-outcome metric), writes its email and delivery in the scan's transaction,
    and the worker sends each once; the sweep, through the worker too, finds nothing left."""
    program = ProgramFactory()
    with Receiver() as receiver:
        WebhookFactory(organization=program.organization, url=receiver.url, secret=SECRET, events=["flag.raised"])

        run = scan_queue(organization=program.organization, as_of=dt.date(2024, 6, 3))

        (request,) = receiver.wait_for(1)
        wait_until(lambda: ScanRun.objects.filter(pk=run.pk, status=ScanStatus.SUCCEEDED).exists(), what="the scan")
        wait_until(lambda: Notification.objects.filter(status="sent").exists(), what="the email sent")
        swept = celery_app.send_task("notifications.tasks.sweep_outbox_task").get(timeout=30)
        time.sleep(1)  # nothing more arrives
        assert len(receiver.requests) == 1
    output = worker_with_output()

    (flag,) = Flag.objects.filter(program=program)
    assert (flag.kind, flag.severity) == ("no_business_outcome", "high")
    assert webhooks.verify(SECRET, request.body, request.headers["X-Cxgov-Signature"])
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempt_count, request.headers["X-Cxgov-Delivery"]) == (
        DeliveryStatus.DELIVERED,
        1,
        str(delivery.event_id),
    )
    # The flag's owner is the champion: one person, one email.
    (email,) = Notification.objects.all()
    assert (email.recipient, email.status, email.attempt_count) == (program.customer_champion.email, "sent", 1)
    assert output.count(f"Subject: [cxgov] HIGH: Program '{program.name}'") == 1
    assert swept == {"emails": 0, "webhooks": 0}
