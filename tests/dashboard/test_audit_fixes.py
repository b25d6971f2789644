"""Fixes from the browser audit: the site's 403 page (the reason, the header, a way back;
JSON kept under /api/), meeting mode's refusals in the page's words, and the calendar page
that no longer scrolls sideways on a 390 px phone."""

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory

from cxgov.api import errors as api_errors
from tests.dashboard.test_browser import browser_page  # noqa: F401  (the shared Chromium fixture)
from tests.dashboard.test_meeting_mode import chair_client, form, meeting  # noqa: F401  (its fixture)
from tests.factories import MembershipFactory, PersonFactory, UserFactory

REASON = "Only the forum's chair, the program office and integration users record sessions."


@pytest.mark.django_db
def test_a_refused_page_is_the_sites_403_with_the_reason(meeting, organization):  # noqa: F811
    user = UserFactory()
    MembershipFactory(user=user, organization=organization, role="executive")
    client = Client()
    client.force_login(user)
    response = client.get(f"/dashboard/sessions/{meeting['session'].pk}/record/")
    page = response.content.decode()
    assert response.status_code == 403
    assert REASON.replace("'", "&#x27;") in page
    assert 'class="site-header"' in page and 'href="/dashboard/"' in page
    assert '<meta name="viewport"' in page and "403 Forbidden" not in page


def test_the_api_keeps_its_json_403():
    request = RequestFactory().get("/api/v1/programs/")
    response = api_errors.permission_denied(request, PermissionDenied("no"))
    assert response.status_code == 403 and response["Content-Type"] == "application/json"


@pytest.mark.django_db
def test_meeting_mode_names_the_row_not_the_field(meeting):  # noqa: F811
    client, session = chair_client(meeting), meeting["session"]
    url = f"/dashboard/sessions/{session.pk}/record/"
    response = client.post(url, form(meeting, **{"change-reason-0": ""}))
    page = response.content.decode()
    assert response.status_code == 400
    assert "Metric change 1: Each metric change needs the reason given in the meeting." in page
    assert "metric_changes" not in page
    for bad, words in (
        ({"change-value-0": "lots"}, "Metric change 1: “lots” is not a valid target."),
        ({"action-due-0": "someday"}, "Action 1: give it a due date"),
        ({"action-owner-1": "99999999"}, "Action 2: choose an owner from the list."),
    ):
        page = client.post(url, form(meeting, **bad)).content.decode()
        assert words in page, bad
        assert "metric_changes[" not in page and "actions[" not in page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_calendar_page_fits_a_390_px_phone(live_server, browser_page):  # noqa: F811
    user = UserFactory()
    organization = MembershipFactory(user=user, role="executive").organization
    PersonFactory(organization=organization, user=user)
    page = browser_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("pw-for-tests-only")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/dashboard/")
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(f"{live_server.url}/dashboard/calendar/")
    assert page.locator('[data-field="calendar-url"]').input_value().endswith(".ics")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')]"
        ".filter(e => e.getBoundingClientRect().right > 390).map(e => e.tagName)"
    )
    assert overflow <= 0 and wide == []
