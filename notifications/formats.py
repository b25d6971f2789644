"""The body a webhook receives, by its `format` (SPEC section 4, docs/webhooks.md).

- `cxgov`: the event's envelope as JSON (`webhooks.encode`), signed.
- `slack`: a Slack incoming-webhook message, Block Kit built with `slack_sdk`'s models
  (which check Slack's limits as they serialise): the event, the flag's severity, title,
  owner and program, and a button to it on the dashboard.
- `teams`: a Microsoft Teams workflow message ("When a Teams webhook request is received")
  carrying an Adaptive Card (1.4, what Teams renders) with the same content.

Every body is computed from the delivery's frozen payload at each attempt, so a retry
sends the same bytes; retries, attempts, the SSRF rules and the headers (the signature
included, harmless to Slack and Teams) are the same for every format.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from .choices import WebhookEvent, WebhookFormat
from .webhooks import encode

ADAPTIVE_CARD_VERSION = "1.4"
# Slack's limits on what we send: header text 150, section text 3000, button label 75.
_HEADER_MAX, _TEXT_MAX = 150, 2900


@dataclass(frozen=True)
class Message:
    """What a chat message says about an event, whatever the chat."""

    headline: str  # "High flag raised", "Risk level changed to high"
    title: str
    facts: list[tuple[str, str]]
    url: str
    button: str


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def message(payload: dict) -> Message:
    """The content of a chat message for one event envelope (see `webhooks.envelope`)."""
    event, data = payload["event"], payload["data"]
    if event == WebhookEvent.RISK_LEVEL_CHANGED:
        program, assessment = data["program"], data["assessment"]
        before = data.get("previous_level") or "not assessed"
        return Message(
            headline=f"Early-bail risk now {assessment['level']}",
            title=f"{program['name']}: risk {assessment['level']} ({assessment['score']}/100)",
            facts=[
                ("Program", program["name"]),
                ("Risk", f"{assessment['level']} ({assessment['score']}/100), was {before}"),
                ("As of", str(assessment["as_of"])),
            ],
            url=program["url"],
            button="Open the program",
        )
    flag = data["flag"]
    severity = flag["severity"].capitalize()
    headline = {
        WebhookEvent.FLAG_RAISED: f"{severity} flag raised",
        WebhookEvent.FLAG_RESOLVED: f"{severity} flag resolved",
    }.get(event, f"{severity} flag")
    if data.get("previous_severity"):
        headline = f"Flag now {flag['severity']} (was {data['previous_severity']})"
    facts = [
        ("Severity", severity),
        ("Owner", flag["owner"]["name"] if flag.get("owner") else "nobody named"),
        ("Program", flag["program"]["name"]),
    ]
    escalation = data.get("escalation")
    if escalation:
        headline = f"{severity} flag escalated to {escalation['role']}"
        facts.append(("Escalated to", f"{escalation['to']['name']}, {escalation['role']}"))
    if event == WebhookEvent.FLAG_RESOLVED:
        facts.append(("Resolved", flag.get("resolution_note") or "resolved"))
    return Message(headline=headline, title=flag["title"], facts=facts, url=flag["url"], button="Open the flag")


def _mrkdwn(text: str) -> str:
    """Slack's three control characters, escaped as its docs ask."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_body(payload: dict) -> dict:
    """A Slack incoming-webhook message: `text` (the notification's fallback) and blocks."""
    m = message(payload)
    blocks = [
        HeaderBlock(text=_clip(m.headline, _HEADER_MAX)),
        SectionBlock(
            text=MarkdownTextObject(text=_clip(f"*{_mrkdwn(m.title)}*", _TEXT_MAX)),
            fields=[MarkdownTextObject(text=_clip(f"*{k}*\n{_mrkdwn(v)}", 1900)) for k, v in m.facts[:10]],
        ),
        ActionsBlock(elements=[ButtonElement(text=m.button, url=m.url, action_id="open")]),
        ContextBlock(elements=[MarkdownTextObject(text=f"cxgov · {_mrkdwn(payload['organization']['name'])}")]),
    ]
    return {"text": _clip(f"{m.headline}: {m.title}", _TEXT_MAX), "blocks": [block.to_dict() for block in blocks]}


def adaptive_card(payload: dict) -> dict:
    """The Adaptive Card of an event: headline, title, the facts, a link to it."""
    m = message(payload)
    return {
        "type": "AdaptiveCard",
        "version": ADAPTIVE_CARD_VERSION,
        "body": [
            {"type": "TextBlock", "text": m.headline, "weight": "Bolder", "size": "Medium", "wrap": True},
            {"type": "TextBlock", "text": m.title, "wrap": True},
            {"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in m.facts]},
            {"type": "TextBlock", "text": f"cxgov · {payload['organization']['name']}", "isSubtle": True, "wrap": True},
        ],
        "actions": [{"type": "Action.OpenUrl", "title": m.button, "url": m.url}],
    }


def teams_body(payload: dict) -> dict:
    """A Teams workflow message: one attachment carrying the Adaptive Card."""
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": adaptive_card(payload),
            }
        ],
    }


def body(webhook_format: str, payload: dict) -> bytes:
    """The exact bytes a webhook of `webhook_format` receives for a delivery's payload."""
    if webhook_format == WebhookFormat.SLACK:
        return json.dumps(slack_body(payload), ensure_ascii=False).encode()
    if webhook_format == WebhookFormat.TEAMS:
        return json.dumps(teams_body(payload), ensure_ascii=False).encode()
    return encode(payload)
