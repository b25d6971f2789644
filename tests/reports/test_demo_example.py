"""The demo's example spreadsheet, imported by the office through the admin, shows on the dashboard.

Once with Django's test client (fast, every seed), once in Chromium (the browser test).
"""

import csv
import datetime as dt
import io
import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from demo import DEMO_OFFICE_USER, DEMO_PASSWORD
from demo.spreadsheets import write_examples
from demo.story import build_demo
from metrics.models import Measurement, Metric
from programs.models import Person
from reports.spreadsheets.metrics import MetricResource
from tests.conftest import missing_service

from .conftest import confirm, preview, totals

TODAY = dt.date(2026, 11, 30)


def _example(tmp_path: Path):
    organization = build_demo(today=TODAY)
    csv_path, xlsx_path = write_examples(organization, TODAY, tmp_path)
    return organization, csv_path, xlsx_path


@pytest.mark.django_db
def test_the_demo_example_imports_through_the_admin(client, tmp_path):
    organization, csv_path, xlsx_path = _example(tmp_path)
    rows = csv_path.read_text(encoding="utf-8-sig").splitlines()
    assert rows[0] == "metric,period_end,value,source" and len(rows) > 5
    client.force_login(User.objects.get(username=DEMO_OFFICE_USER))
    response = preview(client, "metrics.measurement", xlsx_path.name, xlsx_path.read_bytes())
    assert totals(response) == {"new": len(rows) - 1, "update": 0, "skip": 0, "invalid": 0}
    confirm(client, "metrics.measurement", response)
    again = preview(client, "metrics.measurement", csv_path.name, csv_path.read_bytes())
    assert totals(again) == {"new": 0, "update": 0, "skip": len(rows) - 1, "invalid": 0}
    imported = Measurement.objects.filter(metric__program__organization=organization, period_end=TODAY)
    assert imported.count() == len(rows) - 1


CHROMIUM = Path("/usr/bin/chromium")


def _wide_metrics_csv(program: str, owner: str) -> str:
    """24 new metrics with every column of the metrics import filled in."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=MetricResource.columns(), restval="")
    writer.writeheader()
    for n in range(24):
        values = {
            "program": program,
            "name": f"Wide preview metric number {n} with a long name",
            "level": "operational",
            "kind": "operational",
            "description": "A long description of what the metric counts and where the figure comes from",
            "unit": "customers",
            "direction": "increase",
            "baseline": "12.5",
            "baseline_on": "2026-01-31",
            "target": "45",
            "target_on": "2026-12-31",
            "owner": owner,
            "incentive_weight": "0",
            "reporting_cadence": "monthly",
            "status": "active",
        }
        writer.writerow(values)
    return out.getvalue()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_office_imports_the_demo_example_in_the_browser(live_server, tmp_path, settings):
    if not CHROMIUM.exists():
        missing_service("Debian's chromium is not installed (/usr/bin/chromium)")
    organization, csv_path, _ = _example(tmp_path)
    first = csv_path.read_text(encoding="utf-8-sig").splitlines()[1].split(",")
    metric = Metric.objects.get(program__organization=organization, name=first[0])
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
            page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
            base = live_server.url
            page.goto(f"{base}/admin/login/")
            page.get_by_label("Username").fill(DEMO_OFFICE_USER)
            page.get_by_label("Password").fill(DEMO_PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.goto(f"{base}{reverse('admin:metrics_measurement_changelist')}")
            page.get_by_role("link", name="Import").click()
            page.locator("#id_import_file").set_input_files(str(csv_path))
            page.locator("#id_format").select_option(label="csv")
            page.get_by_role("button", name="Submit").click()
            counts = page.locator("#import-counts").inner_text()
            assert "to create" in counts and "0 to update" in counts
            assert page.evaluate("document.documentElement.scrollWidth") <= 1366
            page.screenshot(path="docs/screenshots/import-preview.png", full_page=False)
            page.get_by_role("button", name="Confirm import").click()
            page.wait_for_url(f"{base}{reverse('admin:metrics_measurement_changelist')}")
            assert "Import finished" in page.locator(".messagelist").inner_text()

            page.goto(f"{base}{reverse('dashboard:program', args=[metric.program_id])}?as_of={TODAY.isoformat()}")
            node = page.locator(f"#metric-{metric.pk}")
            text = " ".join(node.inner_text().split())
            shown = Decimal(first[2])
            assert f"({TODAY.day} {TODAY:%b %Y})" in text
            assert f"{shown:f}".rstrip("0").rstrip(".") in text.replace(",", "")
            node.scroll_into_view_if_needed()
            page.screenshot(path="docs/screenshots/import-on-dashboard.png", full_page=False)

            # The widest preview: metrics, every column, 24 rows; then the same rows all in error.
            # Neither may be wider than the 1366 px screen (SPEC §5): the cells wrap.
            person = Person.objects.filter(organization=organization).exclude(email="").first()
            for owner, expected in ((person.email, "24 to create"), ("nobody.at.all@northwind.example", "24 rows")):
                wide = tmp_path / "metrics-wide.csv"
                wide.write_text(_wide_metrics_csv(metric.program.name, owner), encoding="utf-8")
                page.goto(f"{base}{reverse('admin:metrics_metric_import')}")
                page.locator("#id_import_file").set_input_files(str(wide))
                page.locator("#id_format").select_option(label="csv")
                page.get_by_role("button", name="Submit").click()
                assert expected in " ".join(page.locator("#import-counts").inner_text().split())
                assert page.evaluate("document.documentElement.scrollWidth") <= 1366
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    assert not problems, problems
