"""Webhook `format`: Slack Block Kit and Teams Adaptive Cards, checked with the vendors' own
code (slack_sdk, the adaptivecards parser under node), delivered to a real receiver."""

import datetime as dt
import json

import pytest
from rest_framework.test import APIClient

from accountability import events
from accountability.choices import Severity
from accountability.escalation import flags_escalate
from notifications import deliveries, formats
from notifications.choices import DeliveryStatus
from notifications.models import Webhook, WebhookDelivery
from programs.services import api_key_create
from tests.cards.checks import adaptive_card_problems, slack_blocks, teams_card
from tests.factories import (
    FlagFactory,
    PersonFactory,
    ProgramFactory,
    RiskAssessmentFactory,
    WebhookFactory,
)

from .webhook_receiver import Receiver

PUBLIC = "https://93.184.215.14/hooks/slack"  # a public address: no DNS needed
EVENTS = ["flag.raised", "flag.escalated", "flag.resolved", "risk.level_changed"]
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _allow_loopback(settings):
    settings.CXGOV_WEBHOOK_ALLOW_PRIVATE = True
    settings.SITE_URL = "https://cxgov.example.com"


@pytest.fixture
def program(organization):
    return ProgramFactory(organization=organization, name="Customer <One> & Co")


def payloads(program, committed) -> dict[str, dict]:
    """One frozen payload of each event, as the outbox stores them (a cxgov webhook's)."""
    WebhookFactory(organization=program.organization, url="https://hooks.example.com/x", events=EVENTS)
    board = PersonFactory(organization=program.organization, name="Jane Doe")
    program.organization.board_contact = board
    program.organization.save()
    flag = FlagFactory(program=program, severity=Severity.HIGH, title="Sponsor absent from 4 of 6 sessions")
    with committed():
        events.flags_changed(raised=[flag])
        flags_escalate(organization=program.organization, as_of=flag.first_detected_on + dt.timedelta(days=21))
        flag.refresh_from_db()
        events.flags_changed(resolved=[flag])
        events.risk_level_changed([(RiskAssessmentFactory(program=program, level="high", score=55), "elevated")])
    return {d.event: d.payload for d in WebhookDelivery.objects.all()}


def test_slack_bodies_are_valid_block_kit_with_severity_title_owner_program_and_a_button(program, committed):
    sent = payloads(program, committed)
    assert set(sent) == set(EVENTS)
    for event, payload in sent.items():
        body = formats.slack_body(payload)
        blocks = slack_blocks(body)
        assert [b.type for b in blocks] == ["header", "section", "actions", "context"], event
        button = body["blocks"][2]["elements"][0]
        assert button["type"] == "button" and button["url"].startswith("https://cxgov.example.com/dashboard/programs/")
    raised = formats.slack_body(sent["flag.raised"])
    section = raised["blocks"][1]
    assert section["text"]["text"] == "*Sponsor absent from 4 of 6 sessions*"
    fields = [f["text"] for f in section["fields"]]
    owner = sent["flag.raised"]["data"]["flag"]["owner"]["name"]
    assert fields[:3] == ["*Severity*\nHigh", f"*Owner*\n{owner}", "*Program*\nCustomer &lt;One&gt; &amp; Co"]
    assert raised["blocks"][0]["text"]["text"] == "High flag raised"
    assert raised["blocks"][2]["elements"][0]["url"].endswith(f"#flag-{sent['flag.raised']['data']['flag']['id']}")
    escalated = formats.slack_body(sent["flag.escalated"])
    assert escalated["blocks"][0]["text"]["text"] == "High flag escalated to the board contact"
    assert "*Escalated to*\nJane Doe, the board contact" in [f["text"] for f in escalated["blocks"][1]["fields"]]


def test_teams_cards_parse_and_validate_without_a_problem(program, committed):
    for event, payload in payloads(program, committed).items():
        card = teams_card(formats.teams_body(payload))
        assert adaptive_card_problems(card) == [], event
        assert card["actions"][0]["url"].startswith("https://cxgov.example.com/dashboard/programs/")
    raised = teams_card(formats.teams_body(payloads_cache(program)["flag.raised"]))
    facts = {f["title"]: f["value"] for f in raised["body"][2]["facts"]}
    assert facts["Severity"] == "High" and facts["Program"] == "Customer <One> & Co" and "Owner" in facts
    assert raised["body"][1]["text"] == "Sponsor absent from 4 of 6 sessions"


def payloads_cache(program) -> dict[str, dict]:
    return {d.event: d.payload for d in WebhookDelivery.objects.filter(webhook__organization=program.organization)}


def test_the_card_check_is_not_vacuous():
    """The parser does report a broken card: an unknown element, a link without its URL."""
    broken = {
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [{"type": "TextBlok", "text": "x"}],
        "actions": [{"type": "Action.OpenUrl", "title": "Open"}],
    }
    assert len(adaptive_card_problems(broken)) == 2


@pytest.mark.parametrize("webhook_format", ["slack", "teams"])
def test_chat_formats_are_delivered_and_retried_like_any_other(program, committed, webhook_format):
    with Receiver(fail_first=1) as receiver:
        WebhookFactory(organization=program.organization, url=receiver.url, format=webhook_format)
        with committed():
            events.flags_changed(raised=[FlagFactory(program=program, severity=Severity.CRITICAL)])
        delivery = WebhookDelivery.objects.get()
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.PENDING
        assert deliveries.deliver_once(delivery.pk, now=delivery.next_attempt_at).status == "delivered"
    first, second = receiver.requests
    assert first.body == second.body  # the same bytes on every attempt
    body = json.loads(second.body)
    if webhook_format == "slack":
        assert slack_blocks(body)[0].text.text == "Critical flag raised"
    else:
        assert adaptive_card_problems(teams_card(body)) == []
    assert second.headers["Content-Type"] == "application/json"


def test_a_private_chat_url_is_refused_as_for_any_webhook(program, settings, committed):
    settings.CXGOV_WEBHOOK_ALLOW_PRIVATE = False
    WebhookFactory(organization=program.organization, url="http://127.0.0.1:9/hook", format="slack")
    with committed():
        events.flags_changed(raised=[FlagFactory(program=program)])
    attempt = WebhookDelivery.objects.get().attempts.get()
    assert attempt.status_code is None and attempt.error.startswith("Refused")


def test_the_api_sets_and_shows_the_format_and_refuses_an_unknown_one(organization):
    _, raw = api_key_create(organization=organization, name="office key", role="office")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    body = {"url": PUBLIC, "secret": "s" * 20, "events": ["flag.escalated"], "format": "teams"}
    response = client.post("/api/v1/webhooks/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.data["format"] == "teams" and response.data["events"] == ["flag.escalated"]
    for wrong in ("email", None, ""):
        refused = client.post("/api/v1/webhooks/", {**body, "format": wrong}, format="json")
        assert refused.status_code == 400 and "format" in refused.data, wrong
    assert Webhook.objects.count() == 1
    del body["format"]
    assert client.post("/api/v1/webhooks/", body, format="json").data["format"] == "cxgov"
    webhook = Webhook.objects.get(pk=response.data["id"])
    patched = client.patch(f"/api/v1/webhooks/{webhook.pk}/", {"format": "slack"}, format="json")
    assert patched.status_code == 200 and Webhook.objects.get(pk=webhook.pk).format == "slack"
    assert client.patch(f"/api/v1/webhooks/{webhook.pk}/", {"format": "sms"}, format="json").status_code == 400
    assert Webhook.objects.get(pk=webhook.pk).format == "slack"


def test_the_admin_form_sets_the_format(organization):
    from notifications.admin import WebhookForm

    assert [value for value, _ in WebhookForm.base_fields["format"].choices] == ["cxgov", "slack", "teams"]
    data = {"organization": organization.pk, "url": PUBLIC, "secret": "s" * 20, "events": ["flag.raised"]}
    form = WebhookForm(data={**data, "format": "teams"})
    form.fields["organization"].queryset = type(organization).objects.all()
    assert form.is_valid(), form.errors
    assert form.save().format == "teams"
    wrong = WebhookForm(data={**data, "format": "fax"})
    wrong.fields["organization"].queryset = type(organization).objects.all()
    assert not wrong.is_valid() and "format" in wrong.errors
