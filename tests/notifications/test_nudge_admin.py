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


def test_the_nudges_list_and_page_say_what_was_asked_by_name(client, office_user, organization):
    """The list and each nudge's page say what was asked, naming the thing ("Complete action
    'Send the churn analysis'"), never its key or kind code."""
    from accountability.nudges import nudges_due
    from notifications.nudges import write_daily
    from tests.factories import ActionItemFactory, ProgramFactory

    today = timezone.localdate()
    program = ProgramFactory(organization=organization, status="active")
    owner = PersonFactory(organization=organization, email="owner@example.com")
    ActionItemFactory(
        program=program, owner=owner, description="Send the churn analysis", due_on=today + dt.timedelta(days=2)
    )
    write_daily(organization.pk, nudges_due(organization=organization, as_of=today), today)
    told = Nudge.objects.get(person=owner)
    assert told.asked == "Complete action 'Send the churn analysis'"
    client.force_login(office_user)
    listed = client.get(reverse("admin:notifications_nudge_changelist")).content.decode()
    assert '<td class="field-what">Complete action &#x27;Send the churn analysis&#x27;</td>' in listed
    page = client.get(reverse("admin:notifications_nudge_change", args=[told.pk])).content.decode()
    assert "Complete action &#x27;Send the churn analysis&#x27;" in page
    assert told.key not in page and "action_due" not in re.sub(r'href="[^"]*"', "", page)
