"""The escalation ladder (SPEC §4): 7 / 14 / 21 days to the manager, the sponsor, the board
contact; empty levels skipped; acknowledging stops it; each climb told once."""

import datetime as dt

import pytest

from accountability.choices import EscalationLevel, FlagKind, FlagStatus, Severity
from accountability.escalation import due_level, flags_escalate
from accountability.models import Flag
from accountability.scans import scan_organization
from notifications.models import Notification, WebhookDelivery
from tests.factories import FlagFactory, PersonFactory, ProgramFactory
from tests.notifications.factories import WebhookFactory

D0 = dt.date(2026, 11, 1)  # the day the flags are first found
pytestmark = pytest.mark.django_db


@pytest.fixture
def ladder(organization):
    """An owner with a manager, a sponsor and a board contact: every level has somebody."""
    board = PersonFactory(organization=organization, name="Jane Doe")
    organization.board_contact = board
    organization.save()
    manager = PersonFactory(organization=organization, name="Max Manager")
    owner = PersonFactory(organization=organization, name="Olive Owner", reports_to=manager)
    program = ProgramFactory(organization=organization)
    return {
        "owner": owner,
        "manager": manager,
        "sponsor": program.executive_sponsor,
        "board": board,
        "program": program,
    }


def make_flag(program, owner, *, severity=Severity.HIGH, status=FlagStatus.OPEN, level=0, kind=None, subject_id=None):
    return FlagFactory(
        subject_id=subject_id or program.pk,
        program=program,
        owner=owner,
        severity=severity,
        status=status,
        escalation_level=level,
        kind=kind or FlagKind.NO_BUSINESS_OUTCOME,
        first_detected_on=D0,
        last_detected_on=D0,
    )


def escalate(organization, days):
    return flags_escalate(organization=organization, as_of=D0 + dt.timedelta(days=days))


def level_of(flag):
    flag.refresh_from_db()
    return flag.escalation_level


@pytest.mark.parametrize(("days", "level"), [(0, 0), (6, 0), (7, 1), (13, 1), (14, 2), (20, 2), (21, 3), (60, 3)])
def test_the_level_due_on_each_side_of_7_14_and_21_days(days, level):
    assert due_level(D0, D0 + dt.timedelta(days=days)) == level


def test_a_flag_climbs_day_by_day_telling_each_new_person_once(organization, ladder):
    flag = make_flag(ladder["program"], ladder["owner"])
    WebhookFactory(organization=organization, events=["flag.escalated"])
    expected = {6: 0, 7: 1, 8: 1, 13: 1, 14: 2, 20: 2, 21: 3, 22: 3}
    for days in range(0, 23):
        escalate(organization, days)
        escalate(organization, days)  # the same scan twice: nothing more
        if days in expected:
            assert level_of(flag) == expected[days], days
    rows = Notification.objects.filter(flag=flag).order_by("id")
    assert [(r.key, r.recipient) for r in rows] == [
        (f"flag:{flag.pk}:level:1", ladder["manager"].email),
        (f"flag:{flag.pk}:level:2", ladder["sponsor"].email),
        (f"flag:{flag.pk}:level:3", ladder["board"].email),
    ]
    assert "Escalated to you" in rows[0].subject and "Olive Owner" in rows[0].body_text
    deliveries = WebhookDelivery.objects.filter(event="flag.escalated").order_by("id")
    steps = [
        (d.payload["data"]["escalation"]["level"], d.payload["data"]["escalation"]["to"]["name"]) for d in deliveries
    ]
    assert steps == [(1, "Max Manager"), (2, ladder["sponsor"].name), (3, "Jane Doe")]
    assert flag.escalated_at.date() == D0 + dt.timedelta(days=21)
    assert flag.history.filter(history_change_reason__startswith="escalated").count() == 3


def test_a_missed_week_jumps_to_the_level_due(organization, ladder):
    flag = make_flag(ladder["program"], ladder["owner"])
    climbs = escalate(organization, 15)
    assert [(c.previous_level, c.level, c.person) for c in climbs] == [(0, 2, ladder["sponsor"])]
    assert level_of(flag) == EscalationLevel.SPONSOR


def test_an_acknowledged_flag_does_not_climb(organization, ladder):
    flag = make_flag(ladder["program"], ladder["owner"], status=FlagStatus.ACKNOWLEDGED)
    assert escalate(organization, 30) == []
    assert level_of(flag) == 0
    assert not Notification.objects.exists()


def test_acknowledging_stops_the_climb_where_it_is(organization, ladder):
    flag = make_flag(ladder["program"], ladder["owner"])
    escalate(organization, 7)
    Flag.objects.filter(pk=flag.pk).update(status=FlagStatus.ACKNOWLEDGED)
    assert escalate(organization, 21) == []
    assert level_of(flag) == 1


@pytest.mark.parametrize("severity", [Severity.LOW, Severity.MEDIUM])
def test_low_and_medium_flags_stay_with_their_owner(organization, ladder, severity):
    flag = make_flag(ladder["program"], ladder["owner"], severity=severity)
    assert escalate(organization, 30) == []
    assert level_of(flag) == 0


def test_a_missing_manager_is_skipped(organization, ladder):
    lonely = PersonFactory(organization=organization, reports_to=None)
    flag = make_flag(ladder["program"], lonely)
    assert escalate(organization, 7) == [] and escalate(organization, 13) == []
    assert level_of(flag) == 0
    assert [c.level for c in escalate(organization, 14)] == [2]


def test_an_inactive_manager_is_skipped(organization, ladder):
    ladder["manager"].active = False
    ladder["manager"].save()
    flag = make_flag(ladder["program"], ladder["owner"])
    assert escalate(organization, 10) == []
    assert level_of(flag) == 0


def test_the_sponsor_who_owns_the_flag_is_skipped(organization, ladder):
    sponsor = ladder["sponsor"]
    sponsor.reports_to = ladder["manager"]
    sponsor.save()
    flag = make_flag(ladder["program"], sponsor, kind=FlagKind.SPONSOR_DISENGAGED)
    assert [c.person for c in escalate(organization, 7)] == [ladder["manager"]]
    assert escalate(organization, 14) == [] and escalate(organization, 20) == []
    assert [c.person for c in escalate(organization, 21)] == [ladder["board"]]
    assert level_of(flag) == 3


def test_no_board_contact_leaves_the_flag_at_the_sponsor(organization, ladder):
    organization.board_contact = None
    organization.save()
    flag = make_flag(ladder["program"], ladder["owner"])
    escalate(organization, 30)
    assert level_of(flag) == 2


def test_a_flag_that_starts_at_the_board_stays_there(organization, ladder):
    """A CEO sponsor's flag starts at level 3 (rules v2): the ladder honours it, nobody is told again."""
    flag = make_flag(ladder["program"], ladder["sponsor"], kind=FlagKind.SPONSOR_DISENGAGED, level=3)
    assert escalate(organization, 7) == [] and escalate(organization, 30) == []
    assert level_of(flag) == 3
    assert not Notification.objects.exists()


def test_other_organizations_flags_are_left_alone(organization, other_organization, ladder):
    flag = make_flag(ladder["program"], ladder["owner"])
    assert flags_escalate(organization=other_organization, as_of=D0 + dt.timedelta(days=30)) == []
    assert level_of(flag) == 0


def test_a_fixed_number_of_queries_whatever_the_number_of_flags(organization, ladder, django_assert_max_num_queries):
    WebhookFactory(organization=organization, events=["flag.escalated"])
    for n in range(30):
        make_flag(ladder["program"], ladder["owner"], kind=FlagKind.INITIATIVE_OVERDUE, subject_id=1000 + n)
    # read, one update per level, history (snapshots and change log), webhooks, deliveries, emails
    # (the sends run after commit, each its own task: not the ladder's queries)
    with django_assert_max_num_queries(16):
        climbs = escalate(organization, 21)
    assert len(climbs) == 30 and {c.level for c in climbs} == {3}


def test_the_scan_climbs_for_its_as_of(organization, ladder):
    """A program without an outcome metric: `no_business_outcome` (high), owned by the
    champion, who has no manager: level 1 is skipped, the sponsor hears on day 14."""
    program = ladder["program"]
    scan_organization(organization=organization, as_of=D0)
    flag = Flag.objects.live().get(kind=FlagKind.NO_BUSINESS_OUTCOME)
    assert flag.owner == program.customer_champion and flag.escalation_level == 0
    run = scan_organization(organization=organization, as_of=D0 + dt.timedelta(days=13))
    assert flag.pk not in run.sync_result.climbed_ids and level_of(flag) == 0
    run = scan_organization(organization=organization, as_of=D0 + dt.timedelta(days=14))
    assert flag.pk in run.sync_result.climbed_ids and level_of(flag) == 2
    scan_organization(organization=organization, as_of=D0 + dt.timedelta(days=21))
    assert level_of(flag) == 3
    sent = Notification.objects.filter(flag=flag, key__contains=":level:").values_list("key", "recipient")
    assert sorted(sent) == [
        (f"flag:{flag.pk}:level:2", program.executive_sponsor.email),
        (f"flag:{flag.pk}:level:3", ladder["board"].email),
    ]


def test_the_dashboard_says_who_the_ladder_reached_and_when(client, executive_user, organization, ladder):
    flag = make_flag(ladder["program"], ladder["owner"])
    flags_escalate(organization=organization, as_of=dt.date(2026, 11, 12) + dt.timedelta(days=10))
    Flag.objects.filter(pk=flag.pk).update(escalated_at=dt.datetime(2026, 11, 12, 5, tzinfo=dt.UTC))
    client.force_login(executive_user)
    page = " ".join(client.get(f"/dashboard/flags/{flag.pk}/?as_of=2026-11-20").content.decode().split())
    assert "Escalated to the board contact, Jane Doe, on 12 Nov 2026" in page
    program_page = " ".join(
        client.get(f"/dashboard/programs/{ladder['program'].pk}/?as_of=2026-11-20").content.decode().split()
    )
    assert "escalated to the board contact, Jane Doe, on 12 Nov 2026" in program_page
    # Before the climb, the program page (as of that day) does not show it yet.
    earlier = client.get(f"/dashboard/programs/{ladder['program'].pk}/?as_of=2026-11-11").content.decode()
    assert "escalated to the board contact" not in earlier


def test_the_api_shows_the_level_and_when(organization, ladder):
    from rest_framework.test import APIClient

    from programs.services import api_key_create

    flag = make_flag(ladder["program"], ladder["owner"])
    escalate(organization, 14)
    flag.refresh_from_db()
    _, raw = api_key_create(organization=organization, name="reader", role="executive")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    detail = client.get(f"/api/v1/flags/{flag.pk}/").json()
    listed = client.get("/api/v1/flags/").json()["results"][0]
    assert detail["escalation_level"] == listed["escalation_level"] == 2
    assert detail["escalated_at"] == listed["escalated_at"] is not None
