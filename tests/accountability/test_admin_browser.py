"""The program office in the admin, in a real browser (Debian's Chromium, Playwright).

On the seeded demo: the landing page; changing a status (no status preselected, a blank
submit refused); being refused a delete with the rule's words; running a governance scan
and reading its counts. axe-core (npm, tests/axe, injected into the page) must report no
serious or critical violation on the admin's program and flag pages at 1366 and 390 px,
and no page may be wider than the screen. Screenshots go to docs/screenshots/admin-*.png.
"""

import pytest
from django.utils import timezone

from accountability.models import Flag, ScanRun
from accountability.scans import scan_organization
from demo import STRUGGLING_PROGRAM
from demo.story import build_demo
from programs.choices import ProgramStatus
from programs.models import Program
from programs.services import PROGRAM_DELETE_RULE
from tests.conftest import ROOT, missing_service
from tests.dashboard.test_browser import browser_page  # noqa: F401  (the fixture)
from tests.factories import MembershipFactory, UserFactory

AXE = ROOT / "tests" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "docs" / "screenshots"
WIDTHS = (1366, 390)
# Lists and inline tables that scroll inside themselves (columns cut off at the edge).
CLIPPED = """() => [...document.querySelectorAll('.results, .inline-group .tabular')]
    .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => (e.id || e.className) + ': ' + e.scrollWidth)"""

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def axe_violations(page) -> list[dict]:
    """axe-core's serious and critical violations of the page as it is now."""
    if not AXE.exists():
        missing_service("axe-core is not installed: run `make test-tools` (npm ci --prefix tests/axe)")
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 5).map(n => n.target.join(' '))}))"""
    )
    return [v for v in found if v["impact"] in ("serious", "critical")]


def check_page(page, name: str) -> None:
    """At each width: no sideways scrolling, no serious axe violation, a screenshot."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.reload()
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width, f"{name} is {scroll_width} px wide at {width} px"
        if width == 1366:  # nothing cut off inside the page either: lists and inline tables fit
            clipped = page.evaluate(CLIPPED)
            assert clipped == [], f"{name} at 1366 px cuts off {clipped}"
        violations = axe_violations(page)
        assert violations == [], f"{name} at {width} px: " + "; ".join(
            f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(v['targets'])}" for v in violations
        )
        page.screenshot(path=str(SHOTS / f"admin-{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})


@pytest.fixture
def office(live_server, browser_page):  # noqa: F811
    organization = build_demo(users=False)
    scan_organization(organization=organization, as_of=timezone.localdate())
    user = UserFactory(is_staff=True, first_name="Olive", last_name="Office")
    MembershipFactory(user=user, organization=organization, role="office")
    page = browser_page
    page.goto(f"{live_server.url}/admin/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("pw-for-tests-only")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/admin/")
    return page, organization


def test_the_office_changes_a_status_is_refused_a_delete_and_runs_a_scan(live_server, office):
    page, organization = office
    base = f"{live_server.url}/admin"
    assert "cxgov · program office" in page.locator("#site-name").inner_text()
    assert page.get_by_role("heading", name="What needs the office today").is_visible()
    check_page(page, "index")

    program = Program.objects.get(organization=organization, name=STRUGGLING_PROGRAM)
    page.goto(f"{base}/programs/program/{program.pk}/change/")
    check_page(page, "program")

    # Change status: nothing preselected; a blank submit is refused and changes nothing.
    page.get_by_role("link", name="Change status…").click()
    choice = page.get_by_label("New status")
    assert choice.input_value() == ""
    page.get_by_role("button", name="Change status").click()
    # The browser itself refuses the blank choice (a required select); the server would too
    # (tests/programs/test_admin_office.py posts it).
    assert choice.evaluate("el => el.required && el.validity.valueMissing")
    assert page.url.endswith("/change-status/")
    program.refresh_from_db()
    assert program.status == ProgramStatus.ACTIVE
    choice.select_option("paused")
    page.get_by_label("Reason").fill("Budget review by the board")
    page.get_by_role("button", name="Change status").click()
    assert f"{program} is now paused." in page.locator(".messagelist").inner_text()
    program.refresh_from_db()
    assert program.status == ProgramStatus.PAUSED

    # Delete: refused with the rule's own words, nothing about permissions.
    page.locator(".submit-row a.deletelink").click()
    messages = page.locator(".messagelist").inner_text()
    assert PROGRAM_DELETE_RULE in messages and "permission" not in messages.lower()
    assert Program.objects.filter(pk=program.pk).exists()

    # Run a governance scan now on the selection: it says what it raised, refreshed and resolved.
    page.goto(f"{base}/programs/program/")
    page.locator(f'input[name="_selected_action"][value="{program.pk}"]').check()
    page.locator('select[name="action"]').select_option("run_scan_now")
    page.get_by_role("button", name="Go").click()
    run = ScanRun.objects.latest("pk")
    message = page.locator(".messagelist").inner_text()
    assert f"Scan #{run.pk} of {organization}" in message
    assert f"{run.raised} flag(s) raised, {run.refreshed} refreshed, {run.resolved} resolved." in message
    assert run.refreshed > 0 and run.program_ids == [program.pk]
    check_page(page, "programs")


def test_the_flag_pages_are_accessible_at_both_widths(live_server, office):
    page, organization = office
    page.goto(f"{live_server.url}/admin/accountability/flag/")
    live = Flag.objects.filter(organization=organization).live().count()
    assert f"{live} flags" in page.locator(".paginator").inner_text()
    check_page(page, "flags")
    flag = Flag.objects.filter(organization=organization, kind="early_bail_risk").order_by("-severity").first()
    page.goto(f"{live_server.url}/admin/accountability/flag/{flag.pk}/change/")
    assert "{" not in page.locator(".field-evidence_sentences .readonly").inner_text()
    check_page(page, "flag")
