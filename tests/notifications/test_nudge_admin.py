"""The admin landing page's "nudges outstanding": reminders told whose due date is today or
later, of the office's organizations only, linked to the nudges list."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.models import Nudge
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def nudge(organization, *, due_in: int, key: str) -> Nudge:
    today = timezone.localdate()
    return Nudge.objects.create(
        organization=organization,
        person=PersonFactory(organization=organization),
        key=key,
        kind="action_due",
        due_on=today + dt.timedelta(days=due_in),
        sent_on=today,
    )


def test_outstanding_nudges_are_those_not_yet_due_of_my_organizations(
    client, office_user, organization, other_organization
):
    nudge(organization, due_in=0, key="action_due:action_item:1:today")  # due today: outstanding
    nudge(organization, due_in=3, key="action_due:action_item:2:later")  # outstanding
    nudge(organization, due_in=-1, key="action_due:action_item:3:past")  # due yesterday: no longer
    nudge(other_organization, due_in=2, key="action_due:action_item:4:theirs")  # not mine
    client.force_login(office_user)
    page = client.get(reverse("admin:index")).content.decode()
    (url, count) = re.findall(r'<th scope="row">Nudges outstanding</th>\s*<td><a href="([^"]+)">(\d+)</a>', page)[0]
    assert int(count) == 2
    listed = client.get(url.replace("&amp;", "&")).content.decode()
    assert listed.count('<td class="field-what">Complete action</td>') == 2  # the kind in words, not its code
    assert "action_due" not in re.sub(r"<select.*?</select>|href=\"[^\"]*\"", "", listed, flags=re.S)
