"""A person chooses an email for each, a daily digest or nothing for low and medium flags;
high and critical are always emailed (SPEC §4)."""

import datetime as dt

import pytest
from rest_framework.test import APIClient

from accountability import events
from accountability.choices import FlagKind, Severity
from accountability.models import Flag
from accountability.scans import scan_organization
from notifications.models import Notification
from programs.models import Person
from programs.services import api_key_create
from tests.factories import FlagFactory, InitiativeFactory, PersonFactory, ProgramFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def program(organization):
    return ProgramFactory(organization=organization)


def choose(person, preference):
    person.low_medium_emails = preference
    person.save()


@pytest.mark.parametrize(("preference", "emailed"), [("instant", True), ("daily", False), ("none", False)])
def test_a_low_flag_is_emailed_at_once_only_to_who_chose_it(program, preference, emailed):
    owner = PersonFactory(organization=program.organization)
    choose(owner, preference)
    flag = FlagFactory(program=program, owner=owner, severity=Severity.LOW)
    events.flags_changed(raised=[flag])
    assert list(Notification.objects.values_list("recipient", flat=True)) == ([owner.email] if emailed else [])


def test_high_flags_are_emailed_whatever_the_preference(program):
    owner = PersonFactory(organization=program.organization)
    choose(owner, "none")
    choose(program.customer_champion, "none")
    events.flags_changed(raised=[FlagFactory(program=program, owner=owner, severity=Severity.HIGH)])
    assert sorted(Notification.objects.values_list("recipient", flat=True)) == sorted(
        [owner.email, program.customer_champion.email]
    )


def test_the_daily_digest_lists_the_days_low_and_medium_flags(organization, program):
    """A stalled initiative (medium) raised by the day's scan, for an owner who chose the digest."""
    owner = PersonFactory(organization=organization, name="Dee Digest")
    choose(owner, "daily")
    InitiativeFactory(program=program, owner=owner, name="Self-service portal")
    as_of = dt.date(2024, 2, 15)  # 45 days silent: stalled (30), not yet high (60)
    scan_organization(organization=organization, as_of=as_of)
    flag = Flag.objects.get(kind=FlagKind.INITIATIVE_STALLED, owner=owner)
    assert flag.severity == Severity.MEDIUM
    (email,) = Notification.objects.filter(recipient=owner.email)
    assert email.key == f"nudges:{owner.pk}:{as_of}"
    assert email.subject == "[cxgov] Daily digest: 1 new flag"
    assert f"[medium] {flag.title}" in email.body_text
    scan_organization(organization=organization, as_of=as_of)  # again that day: nothing more
    assert Notification.objects.filter(recipient=owner.email).count() == 1


def test_the_preference_through_the_api(organization):
    _, raw = api_key_create(organization=organization, name="office", role="office")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    person = PersonFactory(organization=organization)
    url = f"/api/v1/people/{person.pk}/"
    assert client.get(url).data["low_medium_emails"] == "none"
    assert client.patch(url, {"low_medium_emails": "daily"}, format="json").status_code == 200
    refused = client.patch(url, {"low_medium_emails": "hourly"}, format="json")
    assert refused.status_code == 400 and "low_medium_emails" in refused.data
    assert Person.objects.get(pk=person.pk).low_medium_emails == "daily"


def test_the_admin_offers_the_preference(organization):
    from programs.admin.organizations import PersonAdmin

    assert "low_medium_emails" in [f.name for f in Person._meta.fields]
    assert PersonAdmin.fields is None  # every field, the preference included
