"""The demo shows a flag at each level of the escalation ladder and nudges waiting (issue 15)."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from accountability.models import Flag
from accountability.my_items import my_items, people_of
from accountability.nudges import nudges_due
from accountability.scans import scan_organization
from demo import DEMO_ORG_SLUG
from notifications.models import Notification
from programs.models import Organization


@pytest.fixture(autouse=True)
def _debug_and_fast_hashing(settings):
    settings.DEBUG = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def organization(db):
    """`make run`'s demo: the scan history replayed, then today's scan."""
    call_command("seed_demo", "--scan-history", stdout=StringIO())
    organization = Organization.objects.get(slug=DEMO_ORG_SLUG)
    scan_organization(organization=organization, as_of=timezone.localdate())
    return organization


def test_after_the_scan_history_every_ladder_level_and_nudges_show(organization):
    today = timezone.localdate()
    live = Flag.objects.filter(organization=organization, status="open", severity__in=["high", "critical"])
    levels = set(live.values_list("escalation_level", flat=True))
    assert levels == {0, 1, 2, 3}, levels
    assert organization.board_contact.name == "Ruth Calloway"
    kinds = {n.kind for n in nudges_due(organization=organization, as_of=today)}
    assert "action_due" in kinds


def test_the_board_hears_of_the_broken_commitment_at_once_and_the_ceo_sees_what_reached_her(organization):
    breached = Flag.objects.get(organization=organization, kind="commitment_breached", status="open")
    assert breached.escalation_level == 3
    told = Notification.objects.get(key=f"flag:{breached.pk}:level:3")
    assert told.recipient == organization.board_contact.email
    assert "comes to you at once" in told.body_text

    ceo = get_user_model().objects.get(username="ceo@demo")
    items = my_items(people=people_of(ceo), as_of=timezone.localdate())
    reached = [f for f in items.flags if f.reached_you_as]
    assert len(reached) == 2 and {f.reached_you_as for f in reached} == {"the owner's manager"}
