"""A day's scan through a real Celery worker on Redis: the escalation ladder, nudges, and the
Slack and Teams bodies received by local HTTP servers and validated with the vendors' code.

Needs DATABASE_URL (PostgreSQL) and REDIS_URL; skipped otherwise (failed under
CXGOV_REQUIRE_SERVICES=1).
"""

import datetime as dt
import json
import time

import pytest
import redis
from django.conf import settings

from accountability.choices import FlagKind, ScanStatus
from accountability.models import Flag, ScanRun
from accountability.scans import scan_queue
from cxgov.celery import app as celery_app
from notifications.models import Notification, Nudge, WebhookDelivery
from tests.cards.checks import adaptive_card_problems, slack_blocks, teams_card
from tests.conftest import missing_service, start_worker, stop_worker
from tests.factories import ActionItemFactory, PersonFactory, ProgramFactory, WebhookFactory

from .webhook_receiver import Receiver

pytestmark = pytest.mark.worker
D0 = dt.date(2026, 10, 1)
DAY = D0 + dt.timedelta(days=21)


def wait_until(predicate, timeout: float = 60.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture
def worker(transactional_db):
    if not settings.REDIS_URL:
        missing_service("a real worker needs Redis (set REDIS_URL)")
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    proc = start_worker(extra_env={"SITE_URL": "https://cxgov.example.com"})
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
        print(stop()[-3000:])


def scan_and_wait(organization, as_of):
    run = scan_queue(organization=organization, as_of=as_of)
    wait_until(lambda: ScanRun.objects.filter(pk=run.pk, status=ScanStatus.SUCCEEDED).exists(), what="the scan")
    return run


def test_a_days_scan_climbs_nudges_and_posts_to_slack_and_teams(worker):
    program = ProgramFactory()
    organization = program.organization
    board = PersonFactory(organization=organization, name="Jane Doe")
    organization.board_contact = board
    organization.save()
    doer = PersonFactory(organization=organization, name="Nia Nudged")
    ActionItemFactory(program=program, owner=doer, due_on=DAY + dt.timedelta(days=2), description="Call the CFO")
    with Receiver() as slack, Receiver() as teams:
        WebhookFactory(organization=organization, url=slack.url, format="slack", events=["flag.escalated"])
        WebhookFactory(organization=organization, url=teams.url, format="teams", events=["flag.escalated"])

        scan_and_wait(organization, D0)  # raises `no_business_outcome` (high), owned by the champion
        flag = Flag.objects.get(kind=FlagKind.NO_BUSINESS_OUTCOME)
        assert flag.escalation_level == 0
        scan_and_wait(organization, DAY)  # 21 days on: nobody acted; no manager, so to the board
        (slack_request,) = slack.wait_for(1)
        (teams_request,) = teams.wait_for(1)
        wait_until(
            lambda: WebhookDelivery.objects.filter(status="delivered").count() == 2, what="both deliveries recorded"
        )
        wait_until(lambda: not Notification.objects.filter(status="pending").exists(), what="the emails sent")
        time.sleep(1)
        assert (len(slack.requests), len(teams.requests)) == (1, 1)  # each climb posted once

    flag.refresh_from_db()
    assert flag.escalation_level == 3
    blocks = slack_blocks(json.loads(slack_request.body))
    assert blocks[0].text.text == "High flag escalated to the board contact"
    card = teams_card(json.loads(teams_request.body))
    assert adaptive_card_problems(card) == []
    assert {f["title"]: f["value"] for f in card["body"][2]["facts"]}["Escalated to"] == "Jane Doe, the board contact"

    sent = dict(Notification.objects.filter(status="sent").values_list("key", "recipient"))
    assert sent[f"flag:{flag.pk}:level:3"] == board.email
    assert sent[f"nudges:{doer.pk}:{DAY}"] == doer.email
    assert Nudge.objects.get(person=doer).due_on == DAY + dt.timedelta(days=2)
    output = worker()
    assert "Escalated to you" in output and "Complete action 'Call the CFO'" in output
