"""The demo's flags are talked about: a comment and a hand-over by the CEO, a comment by the office."""

import pytest
from django.utils import timezone

from accountability.models import FlagComment
from accountability.scans import scan_organization
from demo.conversation import talk_about_flags
from demo.story import build_demo
from notifications.models import Notification


@pytest.mark.django_db
def test_the_ceo_comments_and_hands_a_flag_over_the_office_comments(settings):
    settings.DEBUG = True
    organization = build_demo()
    scan_organization(organization=organization, as_of=timezone.localdate())
    stalled, bail = talk_about_flags(organization)
    stalled.refresh_from_db()
    assert stalled.owner == stalled.program.customer_champion
    authors = [(c.author_label, c.flag_id) for c in FlagComment.objects.select_related("author")]
    assert authors == [
        ("Margaret Okafor", stalled.pk),
        ("Margaret Okafor", stalled.pk),
        ("Olivia Grant", bail.pk),
    ]
    assert Notification.objects.filter(key__startswith=f"flag:{stalled.pk}:assigned:").count() == 1
