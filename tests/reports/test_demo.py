"""The demo shows the board pack and the calendar feeds."""

import io

import pytest
from django.utils import timezone
from icalendar import Calendar
from pypdf import PdfReader

from accountability.scans import scan_organization
from demo.story import build_demo
from programs.models import Person
from reports import calendar
from reports.board_pack import data, render


@pytest.mark.django_db
def test_demo_people_have_feeds_and_the_board_has_a_pack():
    today = timezone.localdate()
    organization = build_demo(users=False)
    scan_organization(organization=organization, as_of=today)
    tokens = list(Person.objects.filter(organization=organization).values_list("calendar_token", flat=True))
    assert len(tokens) == len(set(tokens)) > 10 and all(tokens)
    assert sorted(p.title for p in organization.board_recipients.all()) == [
        "Chief Executive Officer",
        "Chief Financial Officer",
    ]
    # The CEO's feed has sessions of the forums she chairs or sits on.
    ceo = organization.ceo
    events = Calendar.from_ical(calendar.person_feed(ceo, today)).walk("VEVENT")
    assert events, "the CEO sits on no forum of the demo"
    # The portfolio pack lists every live program of the demo.
    pack = data.portfolio_board_pack(organization=organization, as_of=today)
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(render.render_pdf(pack))).pages)
    assert len(pack.programs) >= 2
    for program in pack.programs:
        assert program.program.name in text
    assert organization.name in text
