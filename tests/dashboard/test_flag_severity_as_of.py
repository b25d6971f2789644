"""The dashboard as of a day shows each flag with its severity and title on that day (SPEC §2),
the same one in the counts by severity, the cards' top flags and "needs attention" lines,
the program page's list and its severity filter, and a flag's own page."""

import re
from html import unescape

import pytest
from django.http import QueryDict
from rest_framework.test import APIClient

from accountability.choices import Severity
from dashboard.program import program_detail
from dashboard.selectors import portfolio_summary
from tests.accountability.flag_story import AFTER, BETWEEN, build_story, late_title

pytestmark = pytest.mark.django_db


@pytest.fixture
def story(organization):
    return build_story(organization)


@pytest.fixture
def exec_client(client, executive_user):
    client.force_login(executive_user)
    return client


def _text(html: bytes) -> str:
    spaced = re.sub(r"</?(?:td|th|tr|li|p|div|dt|dd|h\d|br|section|table|ul|dl)\b[^>]*>", " ", html.decode())
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", spaced)))


def _detail(organization, story, day, filters: str = ""):
    return program_detail(
        organization_ids=[organization.id],
        program_id=story["program"].id,
        as_of=day,
        flag_filters=QueryDict(filters) if filters else None,
    )


@pytest.mark.parametrize(("day", "severity", "days"), [(BETWEEN, "medium", 15), (AFTER, "high", 32)])
def test_program_page_counts_and_list_agree(organization, story, day, severity, days):
    detail = _detail(organization, story, day)
    by_severity = {s: sum(1 for f in detail.flags if f.severity == s) for s in detail.card.flags}
    assert detail.card.flags == by_severity
    (late,) = [f for f in detail.flags if f.id == story["late_flag"].id]
    assert (late.severity, late.title) == (severity, late_title(story["late"].name, days))


def test_the_severity_filter_reads_the_severity_on_the_day(organization, story):
    late_id = story["late_flag"].id
    assert late_id not in {f.id for f in _detail(organization, story, BETWEEN, "severity=high").flags}
    assert late_id in {f.id for f in _detail(organization, story, BETWEEN, "severity=medium").flags}
    assert late_id in {f.id for f in _detail(organization, story, AFTER, "severity=high").flags}
    invalid = _detail(organization, story, BETWEEN, "severity=urgent")
    assert invalid.flag_filters_valid is False


def test_program_page_html_as_of_between(exec_client, story):
    name = story["late"].name
    html = exec_client.get(f"/dashboard/programs/{story['program'].id}/?as_of={BETWEEN.isoformat()}").content
    text = _text(html)
    assert late_title(name, 15) in text
    assert late_title(name, 41) not in text and late_title(name, 32) not in text
    (row,) = [tr for tr in html.decode().split("<tr") if f'data-flag-id="{story["late_flag"].id}"' in tr]
    assert "sev-medium" in row and "sev-high" not in row


@pytest.mark.parametrize("day", [BETWEEN, AFTER])
def test_portfolio_cards_agree_with_their_top_flags(organization, story, day):
    (card,) = portfolio_summary(organization_ids=[organization.id], as_of=day).programs
    assert sum(card.flags.values()) >= len(card.top_flags)
    # The top flags are the most severe ones, by the severity on the day.
    worst = next(s for s in (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW) if card.flags[s])
    assert card.top_flags[0].severity == worst
    high = card.flags[Severity.HIGH]
    if high:
        assert f"{high} high flag{'s' if high != 1 else ''}" in card.attention_reasons
    late = [f for f in card.top_flags if f.id == story["late_flag"].id]
    for line in late:
        assert line.severity == (Severity.MEDIUM if day == BETWEEN else Severity.HIGH)


@pytest.mark.parametrize("day", [BETWEEN, AFTER])
def test_dashboard_api_counts_agree_with_the_flags_api(executive_user, story, day):
    api = APIClient()
    api.force_login(executive_user)
    (card,) = api.get("/api/v1/dashboard/", {"as_of": day.isoformat()}).json()["programs"]
    rows = api.get("/api/v1/flags/", {"as_of": day.isoformat(), "page_size": 100}).json()["results"]
    assert card["flags"] == {s: sum(1 for r in rows if r["severity"] == s) for s in card["flags"]}
    (late,) = [r for r in rows if r["id"] == story["late_flag"].id]
    assert late["severity"] == ("medium" if day == BETWEEN else "high")


def test_flag_page_shows_the_severity_and_title_on_the_day(exec_client, story):
    name = story["late"].name
    flag = story["late_flag"]
    page = _text(exec_client.get(f"/dashboard/flags/{flag.id}/?as_of={BETWEEN.isoformat()}").content)
    assert late_title(name, 15) in page and late_title(name, 41) not in page
    assert f"Severity on {BETWEEN:%-d %b %Y} Medium (high now)" in page
    today = _text(exec_client.get(f"/dashboard/flags/{flag.id}/").content)
    assert late_title(name, 41) in today and "High" in today and "now)" not in today
