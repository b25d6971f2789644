"""The dashboard in a real browser: Debian's Chromium driven by Playwright.

Log in through the form, open the portfolio, open a program, follow a flag; every number
read off the page is compared with the REST API's answer, fetched with the same browser
session; no console error, no failed request, no horizontal scrolling on a tablet.
"""

import os
from pathlib import Path

import pytest
from django.utils import timezone

from tests.conftest import missing_service
from tests.factories import MembershipFactory, UserFactory

from .builders import build_program

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
HEALTH_WORDS = {"off_track": "off track", "at_risk": "at risk", "on_track": "on track", "no_data": "no data"}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_page():
    """A Chromium page that records console errors, page errors and failed requests."""
    if not CHROMIUM.exists():
        missing_service("Debian's chromium is not installed (/usr/bin/chromium)")
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made
    # by the test itself are still synchronous and safe.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        page = context.new_page()
        page.on(
            "console",
            lambda msg: (
                problems.append(f"console {msg.type}: {msg.text} at {msg.location.get('url')}")
                if msg.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
        # A navigation (a form posted, a link followed) cancels the old page's loads in
        # flight, e.g. its favicon, and Chromium reports them as net::ERR_ABORTED. That is
        # the browser moving on, not a broken page; a missing file still shows as HTTP 404.
        page.on(
            "requestfailed",
            lambda req: (
                None
                if req.failure == "net::ERR_ABORTED"
                else problems.append(f"request failed: {req.url} ({req.failure})")
            ),
        )
        page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
        page.problems = problems
        try:
            yield page
        finally:
            context.close()
            browser.close()
            # Only these tests run the ORM beside Playwright's event loop; nothing else is excused.
            if previous is None:
                os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
            else:
                os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _api(page, url: str) -> dict:
    response = page.request.get(url)
    assert response.ok, f"{url}: {response.status}"
    return response.json()


def _field(scope, name: str) -> str:
    return " ".join(scope.locator(f'[data-field="{name}"]').first.inner_text().split())


def test_executive_journey_matches_the_api(live_server, browser_page):
    today = timezone.localdate()
    user = UserFactory(first_name="Dana", last_name="Board")
    organization = MembershipFactory(user=user, role="executive").organization
    hot = build_program(organization, today, name="Customer First", future_assessment=False)
    build_program(organization, today, name="Calm Harbour", calm=True, future_assessment=False)
    page = browser_page
    base = live_server.url

    # Log in through the form; the dashboard is where it lands.
    page.goto(f"{base}/dashboard/")
    assert "/accounts/login/" in page.url
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("pw-for-tests-only")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/dashboard/")
    assert page.get_by_role("heading", level=1).inner_text() == "Customer programs"
    banner = page.locator(".attention-banner")
    assert "1 program needs your attention" in banner.inner_text()

    # Every card's numbers are the API's.
    summary = _api(page, f"{base}/api/v1/dashboard/")
    assert [p["name"] for p in summary["programs"]] == ["Customer First", "Calm Harbour"]
    cards = page.locator("article[data-program-id]")
    assert cards.count() == 2
    for i, program in enumerate(summary["programs"]):
        card = cards.nth(i)
        assert card.get_attribute("data-program-id") == str(program["id"])
        assert _field(card, "month") == f"Month {program['month_of_horizon']} of {program['committed_horizon_months']}"
        assert _field(card, "risk-score") == str(program["risk"]["score"])
        assert _field(card, "risk-level") == program["risk"]["level"].capitalize()
        for severity, n in program["flags"].items():
            assert _field(card, f"flags-{severity}") == f"{n} {severity.capitalize()}"
        for health, n in program["metric_health"].items():
            assert _field(card, f"health-{health}") == f"{n} {HEALTH_WORDS[health]}"
        assert _field(card, "forums") == (
            f"held {program['forum_held']} of {program['forum_scheduled']} scheduled "
            f"({program['forum_adherence_pct']}%)"
        )
        assert _field(card, "sponsor") == (
            f"{program['sponsor_name']} present at {program['sponsor_present']} of {program['sponsor_held']} "
            f"({program['sponsor_presence_pct']}%)"
        )
    first = summary["programs"][0]
    assert first["needs_attention"] and "card-attention" in cards.nth(0).get_attribute("class")

    # Open the program; its figures agree with the API's flags, risk and metric tree.
    program_id = hot["program"].id
    cards.nth(0).get_by_role("link", name="Customer First", exact=True).click()
    page.wait_for_url(f"{base}/dashboard/programs/{program_id}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Customer First"
    headings = page.get_by_role("heading", level=2).all_inner_texts()
    for expected in (
        "Open flags: who owes what",
        "Early-bail risk over time",
        "Metric cascade",
        "Stalled initiatives",
        "Forums and who turns up",
        "Roadmap and funding",
    ):
        assert any(h.startswith(expected) for h in headings), (expected, headings)
    flags_api = _api(page, f"{base}/api/v1/flags/?program={program_id}&live=true&page_size=100")
    rows = page.locator("#flags tbody tr")
    assert rows.count() == flags_api["count"] == first["flags_total"]
    risk_api = _api(page, f"{base}/api/v1/programs/{program_id}/risk/")
    assert f"Why the latest score is {risk_api['score']} ({risk_api['level']}," in page.locator("#risk h3").inner_text()
    factor_rows = page.locator("#risk tbody tr")
    assert factor_rows.count() == len(risk_api["factors"])
    tree = _api(page, f"{base}/api/v1/programs/{program_id}/metric-tree/")
    stack = list(tree)
    while stack:
        node = stack.pop()
        stack.extend(node["children"])
        shown = page.locator(f"#metric-{node['id']} >> [data-field=metric-health]").first.inner_text()
        assert shown.lower() == HEALTH_WORDS[node["health"]], node["name"]
    charts = page.locator("svg.chart")
    assert charts.count() == 5
    assert page.locator("svg.chart-metric").first.bounding_box()["height"] > 40

    # Follow the first (most severe) flag: the page names its owner and evidence.
    first_flag = rows.first.locator("a[data-flag-id]")
    flag_id = first_flag.get_attribute("data-flag-id")
    first_flag.click()
    page.wait_for_url(f"{base}/dashboard/flags/{flag_id}/")
    flag_api = _api(page, f"{base}/api/v1/flags/{flag_id}/")
    assert page.get_by_role("heading", level=1).inner_text().endswith(flag_api["title"])
    assert _field(page, "flag-severity") == flag_api["severity"].capitalize()
    owner = _api(page, f"{base}/api/v1/people/{flag_api['owner']}/")
    assert _field(page, "flag-owner").startswith(owner["name"])
    assert "Net promoter score" in page.locator(".evidence-block").inner_text()

    # Back to the program, and on to the portfolio on a tablet: nothing scrolls sideways.
    page.go_back()
    page.set_viewport_size({"width": 820, "height": 1180})
    for url in (f"{base}/dashboard/programs/{program_id}/", f"{base}/dashboard/"):
        page.goto(url)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{url} scrolls sideways by {overflow}px at 820px"

    # Log out with the POST form.
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{base}/accounts/login/")
    assert page.problems == []


def test_other_organization_program_is_not_found_in_the_browser(live_server, browser_page):
    today = timezone.localdate()
    user = UserFactory()
    organization = MembershipFactory(user=user, role="executive").organization
    mine = build_program(organization, today, name="Mine", future_assessment=False)
    other = MembershipFactory(role="executive").organization
    theirs = build_program(other, today, name="Theirs", future_assessment=False)
    page = browser_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("pw-for-tests-only")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/dashboard/")
    assert "Theirs" not in page.content()
    response = page.goto(f"{live_server.url}/dashboard/programs/{theirs['program'].id}/")
    assert response.status == 404
    page.goto(f"{live_server.url}/dashboard/programs/{mine['program'].id}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Mine"
    # The only problems recorded are that expected 404 (as a response and a console line).
    forbidden = f"/dashboard/programs/{theirs['program'].id}/"
    assert page.problems and all("404" in p and forbidden in p for p in page.problems), page.problems
