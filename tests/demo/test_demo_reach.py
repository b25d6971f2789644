"""The demo shows a flag at each level of the escalation ladder and nudges waiting (issue 15)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from accountability.models import Flag
from accountability.nudges import nudges_due
from accountability.scans import scan_organization
from demo import DEMO_ORG_SLUG
from programs.models import Organization


@pytest.fixture(autouse=True)
def _debug_and_fast_hashing(settings):
    settings.DEBUG = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.django_db
def test_after_the_scan_history_every_ladder_level_and_nudges_show():
    call_command("seed_demo", "--scan-history", stdout=StringIO())
    organization = Organization.objects.get(slug=DEMO_ORG_SLUG)
    today = timezone.localdate()
    scan_organization(organization=organization, as_of=today)
    live = Flag.objects.filter(organization=organization, status="open", severity__in=["high", "critical"])
    levels = set(live.values_list("escalation_level", flat=True))
    assert levels == {0, 1, 2, 3}, levels
    assert organization.board_contact.name == "Ruth Calloway"
    kinds = {n.kind for n in nudges_due(organization=organization, as_of=today)}
    assert "action_due" in kinds
