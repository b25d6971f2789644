"""Board packs and calendar feeds from the dashboard, in Debian's Chromium (Playwright).

The board pack is downloaded through its link on the program page, read back with pypdf,
and its first two pages are rendered with poppler's `pdftoppm` into docs/screenshots/.
"""

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from django.utils import timezone
from pypdf import PdfReader

from tests.conftest import ROOT, missing_service
from tests.dashboard.builders import build_program
from tests.dashboard.test_browser import browser_page  # noqa: F401  (the shared Chromium fixture)
from tests.factories import MembershipFactory, PersonFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = ROOT / "docs" / "screenshots"


def _log_in(page, base: str, user) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("pw-for-tests-only")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/dashboard/")


def test_download_the_board_pack_from_the_dashboard(live_server, browser_page, tmp_path):  # noqa: F811
    user = UserFactory(first_name="Dana", last_name="Board")
    organization = MembershipFactory(user=user, role="executive").organization
    built = build_program(organization, timezone.localdate(), name="Customer First", future_assessment=False)
    page = browser_page
    _log_in(page, live_server.url, user)

    # The portfolio links its pack; the program page links the program's.
    assert page.locator('[data-field="board-pack"]').get_attribute("href") == "/dashboard/board-pack.pdf"
    page.goto(f"{live_server.url}/dashboard/programs/{built['program'].pk}/")
    link = page.get_by_role("link", name="Board pack of Customer First (PDF)")
    with page.expect_download() as download_info:
        link.click()
    path = tmp_path / "pack.pdf"
    download_info.value.save_as(path)
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    text = " ".join(p.extract_text() for p in reader.pages)
    assert len(reader.pages) >= 2 and "Customer First" in text
    for flag in built["flags"]:
        if flag.severity in ("critical", "high"):
            assert flag.title in text
    # A link that turns into a download is reported by Chromium as an aborted navigation.
    assert [p for p in page.problems if not p.endswith("/board-pack.pdf")] == []

    if shutil.which("pdftoppm") is None:
        missing_service("poppler-utils' pdftoppm is not installed")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "2", str(path), str(tmp_path / "page")], check=True
    )
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == 2
    for i, png in enumerate(pages, start=1):
        shutil.copy(png, SCREENSHOTS / f"board-pack-page-{i}.png")
    assert Path(SCREENSHOTS / "board-pack-page-2.png").stat().st_size > 10_000


def test_calendar_address_and_regenerate(live_server, browser_page):  # noqa: F811
    user = UserFactory()
    organization = MembershipFactory(user=user, role="executive").organization
    person = PersonFactory(organization=organization, user=user)
    page = browser_page
    _log_in(page, live_server.url, user)
    page.get_by_role("link", name="Your forum calendar (feed address)").click()
    field = page.locator('[data-field="calendar-url"]')
    old = field.input_value()
    assert old == f"{live_server.url}/calendar/{person.calendar_token}.ics"
    assert page.request.get(old).status == 200
    page.get_by_role("button", name="Make a new address (the old one stops working)").click()
    page.wait_for_load_state()
    new = page.locator('[data-field="calendar-url"]').input_value()
    assert new != old and page.request.get(new).status == 200
    assert page.request.get(old).status == 404
    assert "The old one no longer works" in page.locator("[role=status]").inner_text()
