"""Plain language everywhere an executive reads (SPEC §5): on the seeded demo, no dashboard
page, flag page or flag email shows a flag kind code, a risk factor code, a raw id or a
JSON brace. Every flag of every kind the demo trips is read, on its page and in its email."""

import re
from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone

from accountability.choices import FlagKind
from accountability.evidence import evidence_text
from accountability.evidence_words import FACTOR_LABELS
from accountability.flag_actions import flag_assign
from accountability.models import Flag, ForumSession
from accountability.scans import scan_organization
from demo.story import build_demo
from notifications.emails import flag_alert
from notifications.models import Notification
from programs.models import Program
from programs.money import format_day, format_money
from tests.programs.factories import PersonFactory

SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")  # any code: initiative_stalled, in_progress, metric_id
RAW_ID = re.compile(r"#\d+|\bids?\b\s*:?\s*\d+", re.IGNORECASE)
URL = re.compile(r"https?://\S+")


class _Text(HTMLParser):
    """The text a reader sees: no tags, attributes, scripts or styles."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def assert_plain(text: str, where: str) -> None:
    text = URL.sub("", text)
    codes = set(SNAKE.findall(text))
    assert not codes, f"{where}: codes {codes}"
    assert not RAW_ID.search(text), f"{where}: raw id {RAW_ID.search(text).group()}"
    assert "{" not in text and "}" not in text, f"{where}: JSON brace"
    for code in (*FlagKind.values, *FACTOR_LABELS):
        assert code not in text, f"{where}: {code}"


@pytest.fixture
def demo(db, settings):
    settings.DEBUG = True
    organization = build_demo()
    scan_organization(organization=organization, as_of=timezone.localdate())
    return organization


@pytest.mark.django_db
def test_no_code_id_or_json_on_dashboard_pages_flag_pages_or_emails(demo):
    # The demo's CEO (linked to a person: My items has their flags) and its office (meeting mode).
    client, office = Client(), Client()
    client.force_login(get_user_model().objects.get(username="ceo@demo"))
    office.force_login(get_user_model().objects.get(username="office@demo"))

    assert_plain(visible(client.get("/dashboard/").content.decode()), "portfolio")
    me = client.get("/dashboard/me/")
    assert me.status_code == 200 and "Flags you own or that reached you" in me.content.decode()
    assert_plain(visible(me.content.decode()), "my items")
    session = ForumSession.objects.filter(forum__program__organization=demo, status="held").first()
    meeting = office.get(f"/dashboard/sessions/{session.pk}/record/")
    assert meeting.status_code == 200
    assert_plain(visible(meeting.content.decode()), "meeting mode")
    for program in Program.objects.filter(organization=demo):
        response = client.get(f"/dashboard/programs/{program.id}/")
        assert response.status_code == 200
        assert_plain(visible(response.content.decode()), program.name)

    flags = list(
        Flag.objects.filter(organization=demo).select_related("owner", "organization", "program__customer_champion")
    )
    assert {f.kind for f in flags} == set(FlagKind.values)  # every kind is read
    text = evidence_text(currency=demo.currency, evidences=[f.evidence for f in flags])
    for flag in flags:
        response = client.get(f"/dashboard/flags/{flag.id}/")
        assert response.status_code == 200
        page = visible(response.content.decode())
        assert_plain(page, f"flag {flag.kind}")
        assert text.flag(flag.kind, flag.evidence)[0] in page  # the evidence is there, in words
        # The email as if the flag were raised high: its text and its HTML part.
        flag.severity, flag.status = "high", "open"
        email = flag_alert(flag, None, text)
        for ext in ("txt", "html"):
            part = render_to_string(f"notifications/email/{email.template}.{ext}", email.context)
            assert_plain(visible(part), f"email {flag.kind}")
    # The hand-over email too.
    flag = next(f for f in flags if f.kind == "metric_negotiated_away")
    flag.refresh_from_db()
    someone = demo.people.exclude(pk=flag.owner_id).filter(active=True).first()
    flag_assign(flag=flag, owner=someone, actor=get_user_model().objects.get(username="ceo@demo"), note="Yours.")
    sent = Notification.objects.filter(key__startswith=f"flag:{flag.pk}:assigned:")
    assert sent.exists()
    for outgoing in sent:
        assert_plain(outgoing.body_text, "hand-over email")
        assert_plain(visible(outgoing.body_html), "hand-over email")


@pytest.mark.django_db
def test_money_and_days_read_as_people_write_them(organization):
    assert format_money("2400000.00", "EUR") == "€2,400,000"
    assert format_money("1250.5", "CHF") == "CHF 1,250.50"
    assert format_money(None, "USD") == "no budget"
    assert format_day("2026-11-12") == "12 Nov 2026"
    organization.currency = "GBP"
    cut = {
        "code": "budget_cut",
        "points": 15,
        "evidence": {"cuts": [{"what": "program", "on": "2026-09-16", "from": "2400000.00", "to": "1200000.00"}]},
    }
    text = evidence_text(currency=organization.currency, evidences=[cut])
    assert text.factor(cut) == "Cut: the program's budget from £2,400,000 to £1,200,000 on 16 Sep 2026."


@pytest.mark.django_db
def test_names_are_read_in_one_query_for_a_page(organization, django_assert_num_queries):
    people = PersonFactory.create_batch(5, organization=organization)
    evidences = [
        {"code": "champion_weak", "points": 15, "evidence": {"champion_id": p.id, "reason": "not_officer"}}
        for p in people
    ]
    with django_assert_num_queries(1):
        text = evidence_text(currency="EUR", evidences=evidences)
    with django_assert_num_queries(0):
        sentences = [text.factor(e) for e in evidences]
    assert sentences[0] == f"{people[0].name}, the customer champion, is not an officer."
    revision = text.revision(
        field_name="owner", old=str(people[0].id), new=str(people[1].id), reason="Reorg", on="2026-11-12"
    )
    assert revision == f"On 12 Nov 2026 changed the owner from {people[0].name} to {people[1].name}: “Reorg”."
