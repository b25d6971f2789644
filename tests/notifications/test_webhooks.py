"""Webhooks end to end against a real HTTP receiver on loopback (the setting allowing it on).

Events are sent inside the transaction (`committed()` plays its commit): the deliveries
are written there and their first attempt, queued on commit, runs inline (eager Celery);
later attempts are driven by calling `deliver_once` with the clock moved to each
`next_attempt_at`, or (with a zero backoff) by the task's own retries running inline.
"""

import datetime as dt
import hashlib
import hmac
import json
import uuid

import pytest
from django.utils import timezone

from accountability import events
from accountability.choices import FlagStatus, Severity
from notifications import deliveries, outbox, webhooks
from notifications.choices import DeliveryStatus
from notifications.models import Webhook, WebhookAttempt, WebhookDelivery
from notifications.tasks import sweep_outbox_task
from programs.changes import Change
from programs.choices import ChangeAction
from tests.factories import (
    FlagFactory,
    MembershipFactory,
    ProgramFactory,
    RiskAssessmentFactory,
    UserFactory,
    WebhookFactory,
)

from .webhook_receiver import Receiver, closed_port_url

SECRET = "whsec-test-0123456789abcdef"


@pytest.fixture(autouse=True)
def _allow_loopback(settings):
    settings.CXGOV_WEBHOOK_ALLOW_PRIVATE = True
    settings.SITE_URL = "https://cxgov.example.com"


@pytest.fixture
def program(organization):
    return ProgramFactory(organization=organization)


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


def make_webhook(organization, url, **kwargs) -> Webhook:
    return WebhookFactory(organization=organization, url=url, secret=SECRET, **kwargs)


def another_flag(program, n: int, **kwargs):
    """Flags of one kind on distinct subjects (one live flag per kind and subject)."""
    return FlagFactory(program=program, subject_type="initiative", subject_id=10_000 + n, **kwargs)


def walk(delivery: WebhookDelivery) -> deliveries.Outcome:
    """Make the next attempt at the moment it becomes due."""
    delivery.refresh_from_db()
    return deliveries.deliver_once(delivery.pk, now=delivery.next_attempt_at)


# --- Signature and payload ---------------------------------------------------------------


def test_body_and_signature_verify_at_the_receiver(program, receiver, committed):
    make_webhook(program.organization, receiver.url)
    flag = FlagFactory(program=program, severity=Severity.HIGH, evidence={"last_update_on": "2024-03-01"})

    with committed():
        events.flags_changed(raised=[flag])
        assert receiver.requests == []  # nothing leaves before the commit

    (request,) = receiver.requests
    expected = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Cxgov-Signature"] == expected
    assert webhooks.verify(SECRET, request.body, request.headers["X-Cxgov-Signature"])
    assert not webhooks.verify("another-secret-entirely", request.body, request.headers["X-Cxgov-Signature"])
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Cxgov-Event"] == "flag.raised"
    assert request.path == "/hooks/cxgov?source=test"

    body = json.loads(request.body)
    delivery = WebhookDelivery.objects.get()
    assert request.headers["X-Cxgov-Delivery"] == body["id"] == str(delivery.event_id)
    assert body["event"] == "flag.raised"
    assert body["organization"] == {
        "id": program.organization.id,
        "slug": program.organization.slug,
        "name": program.organization.name,
    }
    assert body["data"]["previous_severity"] is None
    sent = body["data"]["flag"]
    assert sent["id"] == flag.id
    assert sent["severity"] == "high"
    assert sent["status"] == "open"
    assert sent["kind"] == flag.kind
    assert sent["program"] == {"id": program.id, "name": program.name}
    assert sent["subject_type"] == "program" and sent["subject_id"] == program.id
    assert sent["owner"] == {"id": flag.owner.id, "name": flag.owner.name, "email": flag.owner.email}
    assert sent["evidence"] == {"last_update_on": "2024-03-01"}
    assert sent["url"] == f"https://cxgov.example.com/dashboard/programs/{program.id}/#flag-{flag.id}"
    assert dt.datetime.fromisoformat(body["created_at"]) <= timezone.now()

    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempt_count == 1
    attempt = delivery.attempts.get()
    assert attempt.status_code == 200 and attempt.error == ""


def test_flag_resolved_and_risk_level_changed_payloads(program, receiver, committed):
    make_webhook(program.organization, receiver.url)
    flag = FlagFactory(program=program, status=FlagStatus.RESOLVED, resolution_note="condition cleared")
    flag.resolved_at = timezone.now()
    flag.save()
    assessment = RiskAssessmentFactory(
        program=program, score=55, level="high", factors=[{"factor": "program_paused", "points": 35}]
    )

    with committed():
        events.flags_changed(resolved=[flag])
        events.risk_level_changed([(assessment, "elevated")])

    resolved, risk = (json.loads(r.body) for r in receiver.requests)
    assert resolved["event"] == "flag.resolved"
    assert resolved["data"]["flag"]["status"] == "resolved"
    assert resolved["data"]["flag"]["resolution_note"] == "condition cleared"
    assert resolved["data"]["flag"]["resolved_at"] is not None
    assert risk["event"] == "risk.level_changed"
    assert risk["data"] == {
        "program": {
            "id": program.id,
            "name": program.name,
            "status": "active",
            "url": f"https://cxgov.example.com/dashboard/programs/{program.id}/",
        },
        "assessment": {
            "as_of": "2024-06-01",
            "score": 55,
            "level": "high",
            "factors": [{"factor": "program_paused", "points": 35}],
        },
        "previous_level": "elevated",
    }
    assert resolved["id"] != risk["id"]


def test_escalation_is_sent_as_flag_raised_with_previous_severity(program, receiver, committed):
    make_webhook(program.organization, receiver.url)
    flag = FlagFactory(program=program, severity=Severity.CRITICAL)

    with committed():
        events.flags_changed(escalated=[(flag, Severity.HIGH)])

    body = json.loads(receiver.requests[0].body)
    assert body["event"] == "flag.raised"
    assert body["data"]["flag"]["severity"] == "critical"
    assert body["data"]["previous_severity"] == "high"


def test_only_subscribed_active_webhooks_of_the_organization_receive(program, receiver, other_organization, committed):
    make_webhook(program.organization, receiver.url, events=["flag.resolved"])
    make_webhook(program.organization, receiver.url, active=False)
    make_webhook(other_organization, receiver.url)
    listening = make_webhook(program.organization, receiver.url, events=["flag.raised"])

    with committed():
        events.flags_changed(raised=[FlagFactory(program=program)])

    assert len(receiver.requests) == 1
    assert list(WebhookDelivery.objects.values_list("webhook_id", flat=True)) == [listening.id]


def test_one_event_has_one_id_across_the_organizations_webhooks(program, receiver, committed):
    make_webhook(program.organization, receiver.url)
    make_webhook(program.organization, receiver.url + "&second=1")

    with committed():
        events.flags_changed(raised=[FlagFactory(program=program)])

    ids = {r.headers["X-Cxgov-Delivery"] for r in receiver.requests}
    assert len(receiver.requests) == 2 and len(ids) == 1
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 2


def test_an_organization_without_webhooks_costs_one_query(program, django_assert_num_queries):
    # The webhooks; nobody listens, and a resolution emails nobody: nothing more.
    flag = FlagFactory(program=program, status=FlagStatus.RESOLVED)
    with django_assert_num_queries(1):
        events.flags_changed(resolved=[flag])


def test_a_low_flag_reads_no_webhooks(program, django_assert_num_queries):
    # No webhook hears of a low flag (SPEC section 4: high or critical), so they are not
    # read: two queries, the flag's people (its program with the champion, its owner), for
    # whether either chose an email for each low flag (Person.low_medium_emails); nobody
    # did, so nothing is written.
    make_webhook(program.organization, "https://hooks.example.com/cxgov")
    flag = FlagFactory(program=program, severity=Severity.LOW)
    with django_assert_num_queries(2):
        events.flags_changed(raised=[FlagFactory.build(program=program, id=flag.id, severity=Severity.LOW)])
    assert not WebhookDelivery.objects.exists()


# --- Retries ------------------------------------------------------------------------------


def test_failing_twice_then_succeeding_is_delivered_once_with_the_same_event_id(program, committed):
    with Receiver(fail_first=2) as receiver:
        make_webhook(program.organization, receiver.url)
        with committed():
            events.flags_changed(raised=[FlagFactory(program=program)])
        delivery = WebhookDelivery.objects.get()
        delivery.refresh_from_db()
        first_at = delivery.attempts.get().attempted_at
        assert delivery.status == DeliveryStatus.PENDING and delivery.attempt_count == 1
        assert delivery.next_attempt_at == first_at + dt.timedelta(seconds=30)

        # Not due yet: nothing is sent.
        assert deliveries.deliver_once(delivery.pk, now=first_at + dt.timedelta(seconds=20)).status == "not_due"
        assert len(receiver.requests) == 1

        second = walk(delivery)
        assert second.status == "retry"
        assert second.next_attempt_at == delivery.next_attempt_at + dt.timedelta(seconds=60)
        assert walk(delivery).status == "delivered"
        # A duplicate message after delivery changes nothing.
        assert deliveries.deliver_once(delivery.pk).status == "done"

    assert len(receiver.requests) == 3
    assert len({r.headers["X-Cxgov-Delivery"] for r in receiver.requests}) == 1
    assert len({r.body for r in receiver.requests}) == 1
    assert [r.headers["X-Cxgov-Attempt"] for r in receiver.requests] == ["1", "2", "3"]
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempt_count == 3
    assert delivery.delivered_at is not None and delivery.next_attempt_at is None
    assert WebhookDelivery.objects.count() == 1
    codes = list(delivery.attempts.order_by("attempted_at").values_list("status_code", flat=True))
    assert codes == [500, 500, 200]
    assert all(a.duration_ms >= 0 for a in delivery.attempts.all())
    assert "HTTP 500" in delivery.attempts.filter(status_code=500).first().error


def test_the_task_retries_itself_until_delivered(program, settings, committed):
    # A zero backoff makes each scheduled retry due at once, so eager Celery runs the chain inline.
    settings.CXGOV_WEBHOOK_RETRY_BASE_SECONDS = 0
    with Receiver(fail_first=2, fail_status=503) as receiver, committed():
        make_webhook(program.organization, receiver.url)
        events.flags_changed(raised=[FlagFactory(program=program)])

    assert len(receiver.requests) == 3
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts.count() == 3


def test_backoff_doubles_and_is_capped(settings):
    assert [deliveries.backoff_seconds(n) for n in range(1, 9)] == [30, 60, 120, 240, 480, 960, 1920, 3600]
    settings.CXGOV_WEBHOOK_RETRY_MAX_SECONDS = 100
    assert [deliveries.backoff_seconds(n) for n in range(1, 5)] == [30, 60, 100, 100]


def test_the_hourly_sweep_sends_due_deliveries_of_active_webhooks_only(program, receiver, other_organization):
    webhook = make_webhook(program.organization, receiver.url)
    paused = make_webhook(other_organization, receiver.url, active=False)
    past = timezone.now() - dt.timedelta(minutes=5)
    due = WebhookDelivery.objects.create(
        webhook=webhook, event="flag.raised", payload={"id": "x"}, next_attempt_at=past
    )
    later = WebhookDelivery.objects.create(
        webhook=webhook, event="flag.raised", payload={"id": "y"}, next_attempt_at=past + dt.timedelta(hours=1)
    )
    idle = WebhookDelivery.objects.create(
        webhook=paused, event="flag.raised", payload={"id": "z"}, next_attempt_at=past
    )

    assert sweep_outbox_task() == {"emails": 0, "webhooks": 1}

    assert [json.loads(r.body)["id"] for r in receiver.requests] == ["x"]
    statuses = dict(WebhookDelivery.objects.values_list("id", "status"))
    assert statuses == {due.id: "delivered", later.id: "pending", idle.id: "pending"}


def test_an_attempt_claimed_by_another_worker_is_not_repeated(program, receiver):
    webhook = make_webhook(program.organization, receiver.url)
    delivery = WebhookDelivery.objects.create(
        webhook=webhook, event="flag.raised", payload={"id": "x"}, next_attempt_at=timezone.now()
    )
    # Another worker claimed attempt 1 a moment ago and is still sending it.
    now = timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempt_count=1, next_attempt_at=now + outbox.ATTEMPT_LEASE)

    assert deliveries.deliver_once(delivery.pk, now=now).status == "not_due"
    assert receiver.requests == []


# --- Giving up and disabling ---------------------------------------------------------------


def test_a_receiver_down_for_good_ends_disabled_with_a_notice(program, settings, mailoutbox, committed):
    office = UserFactory(email="office@example.com")
    MembershipFactory(user=office, organization=program.organization, role="office")
    executive = UserFactory(email="exec@example.com")
    MembershipFactory(user=executive, organization=program.organization, role="executive")
    with Receiver(always=500) as receiver:
        webhook = make_webhook(program.organization, receiver.url)
        for n in range(1, 4):
            with committed():  # the first attempt goes after commit
                events.flags_changed(raised=[another_flag(program, n, severity=Severity.HIGH)])
            delivery = WebhookDelivery.objects.order_by("-id").first()
            with committed():  # the notice is written with the disabling and goes after commit
                outcomes = [walk(delivery).status for _ in range(7)]
            assert outcomes == ["retry"] * 6 + ["failed"]
            delivery.refresh_from_db()
            assert delivery.status == DeliveryStatus.FAILED and delivery.attempt_count == 8
            assert delivery.attempts.count() == 8
            webhook.refresh_from_db()
            assert webhook.consecutive_failures == n
            assert webhook.active is (n < 3)

        assert len(receiver.requests) == 24
        assert "3 deliveries in a row failed after 8 attempts" in webhook.disabled_reason
        assert "HTTP 500" in webhook.disabled_reason
        # Besides the high flags' alerts to their owner and champion, one notice.
        (notice,) = [m for m in mailoutbox if m.subject.startswith("[cxgov] Webhook disabled")]
        assert notice.to == [f"{office.username} <office@example.com>"]  # not the executive
        assert notice.subject == f"[cxgov] Webhook disabled: {receiver.url}"
        assert "re-enable" in notice.body.lower()
        # The change log has it: the system's change (no user, no key), with its reason.
        (entry,) = Change.objects.filter(
            model="notifications.webhook", object_id=webhook.pk, action=ChangeAction.CHANGED
        )
        assert (entry.actor_user_id, entry.actor_api_key_id) == (None, None)
        assert entry.reason == webhook.disabled_reason
        moves = {c["field"]: (c["old"], c["new"]) for c in entry.changes}
        assert moves["active"] == ("yes", "no") and moves["consecutive_failures"] == ("0", "3")

        # Disabled: new events create no delivery and send nothing.
        with committed():
            events.flags_changed(raised=[another_flag(program, 4)])
        assert WebhookDelivery.objects.count() == 3 and len(receiver.requests) == 24


def test_a_success_resets_the_count_of_given_up_deliveries(program, settings, committed):
    settings.CXGOV_WEBHOOK_RETRY_BASE_SECONDS = 0
    settings.CXGOV_WEBHOOK_MAX_ATTEMPTS = 2
    with Receiver(fail_first=4) as receiver:
        webhook = make_webhook(program.organization, receiver.url)
        for n in (1, 2):
            with committed():
                events.flags_changed(raised=[another_flag(program, n)])
        webhook.refresh_from_db()
        assert webhook.consecutive_failures == 2 and webhook.active
        with committed():
            events.flags_changed(raised=[another_flag(program, 3)])
    webhook.refresh_from_db()
    assert webhook.consecutive_failures == 0 and webhook.active
    assert list(WebhookDelivery.objects.order_by("id").values_list("status", flat=True)) == [
        "failed",
        "failed",
        "delivered",
    ]


def test_connection_refused_is_recorded_as_an_error(program, committed):
    webhook = make_webhook(program.organization, closed_port_url())
    with committed():
        events.flags_changed(raised=[FlagFactory(program=program)])
    attempt = WebhookAttempt.objects.get(delivery__webhook=webhook)
    assert attempt.status_code is None
    assert "ConnectionRefusedError" in attempt.error


def test_pending_deliveries_of_a_disabled_webhook_wait_and_resume_when_re_enabled(program, receiver):
    webhook = make_webhook(program.organization, receiver.url)
    delivery = WebhookDelivery.objects.create(
        webhook=webhook, event="flag.raised", payload={"id": "kept"}, next_attempt_at=timezone.now()
    )
    Webhook.objects.filter(pk=webhook.pk).update(active=False, consecutive_failures=3, disabled_reason="down")

    assert deliveries.deliver_once(delivery.pk).status == "inactive"
    assert receiver.requests == []

    webhook.refresh_from_db()
    deliveries.webhook_enable(webhook=webhook)  # queued on commit: the test transaction never commits
    assert deliveries.deliver_once(delivery.pk).status == "delivered"
    webhook.refresh_from_db()
    assert (webhook.active, webhook.consecutive_failures, webhook.disabled_reason) == (True, 0, "")
    assert [json.loads(r.body)["id"] for r in receiver.requests] == ["kept"]


def test_sign_matches_a_hand_computed_hmac():
    body = b'{"event":"flag.raised","id":"' + str(uuid.UUID(int=1)).encode() + b'"}'
    assert webhooks.sign("k" * 16, body) == "sha256=" + hmac.new(b"k" * 16, body, hashlib.sha256).hexdigest()


# --- The example in docs/webhooks.md ----------------------------------------------------------


def test_the_documented_receiver_works(program, capsys, committed):
    import re
    import threading
    import urllib.error
    import urllib.request
    from http.server import HTTPServer
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "webhooks.md").read_text()
    code = re.search(r"<!-- example:start -->\n```python\n(.*?)```\n<!-- example:end -->", doc, re.S).group(1)
    example: dict = {"__name__": "cxgov_docs_example"}
    exec(compile(code, "docs/webhooks.md", "exec"), example)  # the documented code, as written

    server = HTTPServer(("127.0.0.1", 0), example["CxgovWebhook"])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        WebhookFactory(organization=program.organization, url=url, secret=example["SECRET"].decode())
        flag = FlagFactory(program=program, severity=Severity.CRITICAL, title="Sponsor absent from 4 of 6 sessions")

        with committed():
            events.flags_changed(raised=[flag])

        delivery = WebhookDelivery.objects.get()
        assert delivery.status == DeliveryStatus.DELIVERED
        assert delivery.attempts.get().status_code == 204
        assert example["seen_event_ids"] == {str(delivery.event_id)}
        assert "CRITICAL: Sponsor absent from 4 of 6 sessions -> https://cxgov.example.com/" in capsys.readouterr().out

        forged = urllib.request.Request(
            url, data=b'{"id": "x"}', headers={"X-Cxgov-Signature": "sha256=" + "0" * 64}, method="POST"
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(forged, timeout=5)
        assert refused.value.code == 401
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.django_db(transaction=True)
def test_a_webhook_deleted_during_the_request_ends_the_delivery_quietly():
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    program = ProgramFactory()

    class DeletesItsWebhook(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            Webhook.objects.all().delete()  # the office deletes it while cxgov waits for the answer
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), DeletesItsWebhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        webhook = make_webhook(program.organization, f"http://127.0.0.1:{server.server_address[1]}/")
        delivery = WebhookDelivery.objects.create(
            webhook=webhook, event="flag.raised", payload={"id": "x"}, next_attempt_at=timezone.now()
        )
        assert deliveries.deliver_once(delivery.pk).status == "done"
    finally:
        server.shutdown()
        server.server_close()
    assert WebhookDelivery.objects.count() == 0 and WebhookAttempt.objects.count() == 0
