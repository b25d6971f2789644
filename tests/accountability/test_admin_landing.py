"""The admin's landing page: what needs the program office today, counted and linked."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from factory import Sequence

from accountability.choices import FlagStatus, SessionStatus
from programs.choices import ProgramStatus
from tests.factories import AttendanceFactory, FlagFactory, ForumFactory, ForumSessionFactory, ProgramFactory

pytestmark = pytest.mark.django_db

INDEX = reverse("admin:index")


def counts(page: str) -> dict[str, tuple[str, int]]:
    """{row label: (link, count)} of the landing page's tables."""
    rows = re.findall(r'<th scope="row">([^<]+)</th>\s*<td><a href="([^"]+)">(\d+)</a></td>', page)
    return {label: (url.replace("&amp;", "&"), int(n)) for label, url, n in rows}


def make(organization, *, flags: int, sessions: int, unready: int):
    program = ProgramFactory(organization=organization)
    forum = ForumFactory(program=program)
    for severity, level in (("critical", 3), ("high", 2), ("medium", 0)):
        FlagFactory.create_batch(
            flags,
            program=program,
            severity=severity,
            escalation_level=level,
            kind="initiative_stalled",
            subject_type="initiative",
            subject_id=Sequence(lambda n: n),
        )
    FlagFactory(program=program, severity="critical", status=FlagStatus.RESOLVED, subject_id=99999)
    yesterday = timezone.now() - dt.timedelta(days=1)
    ForumSessionFactory.create_batch(sessions, forum=forum, scheduled_for=yesterday)  # held, nobody recorded
    AttendanceFactory(session=ForumSessionFactory(forum=forum, scheduled_for=yesterday))  # recorded
    ForumSessionFactory(forum=forum, scheduled_for=yesterday + dt.timedelta(days=7), status=SessionStatus.SCHEDULED)
    ProgramFactory.create_batch(unready, organization=organization, status=ProgramStatus.DRAFT, customer_vision="")
    ProgramFactory(organization=organization, status=ProgramStatus.CANCELLED, customer_vision="")  # not counted
    return program


def test_the_landing_page_counts_what_needs_the_office_with_links(
    client, office_user, organization, other_organization
):
    make(organization, flags=2, sessions=3, unready=2)
    make(other_organization, flags=5, sessions=5, unready=5)  # another tenant: never counted
    client.force_login(office_user)

    page = client.get(INDEX).content.decode()

    assert "What needs the office today" in page and "Live flags by severity (6)" in page
    shown = counts(page)
    flags = reverse("admin:accountability_flag_changelist")
    assert shown["Critical"] == (f"{flags}?severity__exact=critical", 2)
    assert shown["High"] == (f"{flags}?severity__exact=high", 2)
    assert shown["Medium"] == (f"{flags}?severity__exact=medium", 2)
    assert shown["Low"][1] == 0
    assert shown["Board contact"] == (f"{flags}?escalation_level__exact=3", 2)
    assert shown["Sponsor"][1] == 2 and shown["Owner&#x27;s manager"][1] == 0 and shown["Owner"][1] == 2
    sessions_url, sessions = shown["Held sessions without attendance"]
    programs_url, programs = shown["Programs not ready (draft, active or paused)"]
    assert (sessions, programs) == (3, 2 + 1)  # make()'s own program has no outcome metric yet
    assert "Nudges outstanding" in page

    # Each link opens the list of exactly what was counted.
    assert client.get(sessions_url).context["cl"].result_count == 3
    assert client.get(programs_url).context["cl"].result_count == 3
    assert client.get(shown["Critical"][0]).context["cl"].result_count == 2  # live only: not the resolved one


def test_the_landing_page_takes_a_fixed_number_of_queries(
    client, office_user, organization, django_assert_max_num_queries
):
    make(organization, flags=1, sessions=1, unready=1)
    client.force_login(office_user)
    with django_assert_max_num_queries(15) as few:
        assert client.get(INDEX).status_code == 200
    make(organization, flags=20, sessions=20, unready=20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(INDEX).status_code == 200


def test_the_admin_reads_as_cxgov(client, office_user):
    client.force_login(office_user)
    page = client.get(INDEX).content.decode()
    assert "cxgov · program office" in page and "<title>Program office | cxgov</title>" in page
    assert "Django administration" not in page and "Django site admin" not in page
