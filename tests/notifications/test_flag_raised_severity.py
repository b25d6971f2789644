"""`flag.raised` reaches the webhooks only for a flag new, or risen on a rescan, at high or
critical (SPEC section 4: "a new or escalated flag of severity high or critical emails its
owner and the program's champion [...], and is delivered to the organization's
webhooks"), by the one rule that also emails the owner and the champion
(`notifications.emails.announced`).

Real scans (`scan_organization`) raise and re-rate the flags; the receivers write the
deliveries and emails in the scan's transaction. The outbox rows are what is checked:
nothing is sent here (the commit's callbacks are not played).
"""

import datetime as dt

import pytest

from accountability.choices import FlagKind, Severity, SubjectType
from accountability.models import Flag
from accountability.scans import scan_organization
from notifications.choices import WebhookEvent
from notifications.models import Notification, WebhookDelivery
from tests.factories import ActionItemFactory, InitiativeFactory, ProgramFactory, WebhookFactory

AS_OF = dt.date(2025, 6, 30)
STALL_AFTER_DAYS = 30  # initiative_stalled: medium past 30 days, high past 60

pytestmark = pytest.mark.django_db


def ago(days: int) -> dt.date:
    return AS_OF - dt.timedelta(days=days)


@pytest.fixture
def program(organization):
    return ProgramFactory(organization=organization, stall_after_days=STALL_AFTER_DAYS)


@pytest.fixture
def webhook(organization):
    return WebhookFactory(organization=organization, events=["flag.raised"])


def scan(organization, as_of: dt.date):
    return scan_organization(organization=organization, as_of=as_of)


def flag_of(kind: str, subject_type: str, subject) -> Flag:
    return Flag.objects.get(kind=kind, subject_type=subject_type, subject_id=subject.pk)


def raised_deliveries(webhook, flag: Flag) -> list[dict]:
    """The `data` of each `flag.raised` delivery about `flag`, oldest first."""
    rows = WebhookDelivery.objects.filter(webhook=webhook, event=WebhookEvent.FLAG_RAISED).order_by("id")
    return [row.payload["data"] for row in rows if row.payload["data"]["flag"]["id"] == flag.pk]


def alert_keys(flag: Flag) -> set[str]:
    """The keys of the flag's alerts (raised or risen), not of the ladder's messages."""
    rows = Notification.objects.filter(flag_id=flag.pk, key__startswith=f"flag:{flag.pk}:severity:")
    return set(rows.values_list("key", flat=True))


def test_a_medium_flag_is_not_delivered_and_a_high_one_is(organization, program, webhook):
    medium_work = InitiativeFactory(program=program, starts_on=ago(STALL_AFTER_DAYS + 10))
    high_work = InitiativeFactory(program=program, starts_on=ago(2 * STALL_AFTER_DAYS + 10))

    scan(organization, AS_OF)

    medium = flag_of(FlagKind.INITIATIVE_STALLED, SubjectType.INITIATIVE, medium_work)
    high = flag_of(FlagKind.INITIATIVE_STALLED, SubjectType.INITIATIVE, high_work)
    assert (medium.severity, high.severity) == (Severity.MEDIUM, Severity.HIGH)
    assert raised_deliveries(webhook, medium) == []
    (sent,) = raised_deliveries(webhook, high)
    assert (sent["flag"]["severity"], sent["previous_severity"]) == ("high", None)
    # The same rule decides the email: the high flag's owner and champion are written to,
    # the medium flag's are not (neither chose an email for each medium flag).
    assert alert_keys(high) == {f"flag:{high.pk}:severity:high"}
    assert alert_keys(medium) == set()


def test_a_live_flag_rising_from_medium_to_high_is_delivered_with_its_previous_severity(organization, program, webhook):
    work = InitiativeFactory(program=program, starts_on=ago(STALL_AFTER_DAYS + 10))
    scan(organization, AS_OF)
    flag = flag_of(FlagKind.INITIATIVE_STALLED, SubjectType.INITIATIVE, work)
    assert flag.severity == Severity.MEDIUM
    assert raised_deliveries(webhook, flag) == []

    # 25 days on, 65 days without an update: past twice the 30 days, high.
    run = scan(organization, AS_OF + dt.timedelta(days=25))

    flag.refresh_from_db()
    assert flag.severity == Severity.HIGH and flag.pk in run.sync_result.escalated_ids
    (sent,) = raised_deliveries(webhook, flag)
    assert (sent["flag"]["severity"], sent["previous_severity"]) == ("high", "medium")
    assert alert_keys(flag) == {f"flag:{flag.pk}:severity:high"}


def test_a_live_flag_rising_from_low_to_medium_is_not_delivered(organization, program, webhook):
    action = ActionItemFactory(program=program, due_on=ago(5))  # action_overdue: low, medium past 14 days
    scan(organization, AS_OF)
    flag = flag_of(FlagKind.ACTION_OVERDUE, SubjectType.ACTION_ITEM, action)
    assert flag.severity == Severity.LOW

    run = scan(organization, AS_OF + dt.timedelta(days=12))  # 17 days overdue

    flag.refresh_from_db()
    assert flag.severity == Severity.MEDIUM and flag.pk in run.sync_result.escalated_ids
    assert raised_deliveries(webhook, flag) == []
    assert alert_keys(flag) == set()
