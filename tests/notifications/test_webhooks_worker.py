"""Webhook delivery and flag emails through a real Celery worker on Redis (needs
DATABASE_URL on PostgreSQL and REDIS_URL; skipped without them unless CXGOV_REQUIRE_SERVICES=1).

The worker runs with CXGOV_WEBHOOK_ALLOW_PRIVATE=1, so it may call the loopback receiver.
"""

import time

import pytest
import redis
from django.conf import settings

from accountability import events
from accountability.choices import Severity
from cxgov.celery import app as celery_app
from notifications import webhooks
from notifications.choices import DeliveryStatus
from notifications.models import Notification, WebhookDelivery
from tests.conftest import start_worker, stop_worker
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
    from tests.conftest import missing_service

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

        events.flags_changed(raised=[flag])  # enqueues to Redis; the worker makes the request

        (request,) = receiver.wait_for(1)
    assert webhooks.verify(SECRET, request.body, request.headers["X-Cxgov-Signature"])
    delivery = wait_until(
        lambda: WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).first(), what="delivered"
    )
    assert request.headers["X-Cxgov-Delivery"] == str(delivery.event_id)
    assert delivery.attempts.get().status_code == 200
    # The email task ran in the worker too: owner and champion recorded once each.
    wait_until(lambda: Notification.objects.count() == 2, what="two notifications")
    assert set(Notification.objects.values_list("recipient", flat=True)) == {
        flag.owner.email,
        program.customer_champion.email,
    }


def test_the_worker_retries_with_backoff_until_delivered(fast_retry_worker):
    program = ProgramFactory()
    with Receiver(fail_first=2) as receiver:
        WebhookFactory(organization=program.organization, url=receiver.url, secret=SECRET)
        started = time.monotonic()
        events.flags_changed(raised=[FlagFactory(program=program, severity=Severity.LOW)])
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
