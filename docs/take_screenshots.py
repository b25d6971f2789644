"""Screenshots of the dashboard for the README, taken in Debian's Chromium.

Run it against a running server with data. The committed screenshots are of the demo,
with the daily scan replayed over the last six months so the risk chart has a history:

    export DATABASE_URL=sqlite:////tmp/cxgov-shots.sqlite3
    .venv/bin/python manage.py migrate && .venv/bin/python manage.py seed_demo
    for d in 180 150 120 90 60 30 14 0; do
        .venv/bin/python manage.py run_governance_scan --as-of $(date -d "-$d days" +%F)
    done
    .venv/bin/python manage.py runserver 127.0.0.1:8765 &
    .venv/bin/python docs/take_screenshots.py --url http://127.0.0.1:8765 --user ceo@demo --password northwind-demo

It logs in through the form, saves the portfolio and the first program that needs
attention (the top card) at laptop width (1366 px), plus both pages at tablet width
(820 px), under docs/screenshots/.
"""

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parent / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--font-render-hinting=none",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--program", type=int, help="program id (default: the top card)")
    parser.add_argument("--max-height", type=int, default=20000, help="crop full-page shots to this many pixels")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        context = browser.new_context(viewport={"width": 1366, "height": 900}, device_scale_factor=1)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{args.url}/accounts/login/")
        page.get_by_label("Username").fill(args.user)
        page.get_by_label("Password").fill(args.password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{args.url}/dashboard/")

        program_id = args.program or int(
            page.locator("article[data-program-id]").first.get_attribute("data-program-id")
        )
        pages = {"portfolio": f"{args.url}/dashboard/", "program": f"{args.url}/dashboard/programs/{program_id}/"}
        for width, suffix in ((1366, ""), (820, "-tablet")):
            page.set_viewport_size({"width": width, "height": 900 if width > 1000 else 1180})
            for name, url in pages.items():
                page.goto(url)
                height = min(args.max_height, page.evaluate("document.documentElement.scrollHeight"))
                path = OUT / f"{name}{suffix}.png"
                page.screenshot(path=str(path), full_page=True, clip={"x": 0, "y": 0, "width": width, "height": height})
                print(f"saved {path.relative_to(OUT.parent.parent)} ({width}×{height})")
        browser.close()
    if errors:
        raise SystemExit("console errors: " + "; ".join(errors))


if __name__ == "__main__":
    main()
