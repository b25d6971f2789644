"""A flag raised above level 0 tells the person of that level at once (SPEC section 3: "it
starts at escalation level 3 (the board contact is told at once)"), by email and to the
webhooks, as a climb from the owner would; a flag raised at level 0 tells nobody more."""

import datetime as dt

import pytest

from accountability.choices import EscalationLevel, FlagKind, Severity, SubjectType
from accountability.findings import Finding
from accountability.flags import flags_sync
from notifications.choices import WebhookEvent
from notifications.models import WebhookDelivery
from tests.factories import PersonFactory, ProgramFactory, WebhookFactory

AS_OF = dt.date(2025, 6, 1)
KIND = FlagKind.COMMITMENT_BREACHED

pytestmark = pytest.mark.django_db


@pytest.fixture
def program(organization):
    board = PersonFactory(organization=organization, name="Jane Board", email="jane@board.example")
    organization.board_contact = board
    organization.save(update_fields=["board_contact"])
    return ProgramFactory(organization=organization)


def raise_flag(program, level: int, committed, severity=Severity.CRITICAL):
    finding = Finding(
        kind=KIND,
        program_id=program.pk,
        subject_type=SubjectType.PROGRAM,
        subject_id=program.pk,
        severity=severity,
        owner_id=program.executive_sponsor_id,
        title=f"Program '{program.name}' broke its commitment",
        evidence={"paused_on": "2025-05-20"},
        escalation_level=level,
    )
    with committed():
        flags_sync(organization=program.organization, findings=[finding], kinds=[KIND], as_of=AS_OF)


def test_the_board_contact_hears_of_a_flag_raised_at_the_board_at_once(program, committed, mailoutbox):
    webhook = WebhookFactory(organization=program.organization, events=["flag.raised", "flag.escalated"])
    raise_flag(program, EscalationLevel.BOARD, committed)

    to_board = [m for m in mailoutbox if m.to == ["Jane Board <jane@board.example>"]]
    assert len(to_board) == 1
    assert to_board[0].subject.startswith("[cxgov] Escalated to you: Program")
    assert "has just been raised and comes to you at once, as the board contact" in to_board[0].body
    assert "has been open for" not in to_board[0].body
    escalated = WebhookDelivery.objects.filter(webhook=webhook, event=WebhookEvent.FLAG_ESCALATED).get()
    step = escalated.payload["data"]["escalation"]
    assert (step["level"], step["previous_level"], step["to"]["name"]) == (3, 0, "Jane Board")
    # The owner and the champion are told as for any critical flag.
    assert WebhookDelivery.objects.filter(webhook=webhook, event=WebhookEvent.FLAG_RAISED).count() == 1


def test_a_flag_raised_at_the_owner_does_not_reach_the_board(program, committed, mailoutbox):
    raise_flag(program, EscalationLevel.OWNER, committed)

    assert mailoutbox and not [m for m in mailoutbox if "jane@board.example" in m.to[0]]


def test_nobody_more_is_told_without_an_active_board_contact(program, committed, mailoutbox):
    board = program.organization.board_contact
    board.active = False
    board.save(update_fields=["active"])

    raise_flag(program, EscalationLevel.BOARD, committed)

    assert not [m for m in mailoutbox if "jane@board.example" in m.to[0]]
    assert not [m for m in mailoutbox if m.subject.startswith("[cxgov] Escalated to you")]
