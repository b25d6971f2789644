"""The world as it stood (SPEC §2): the dashboard pages, the dashboard API, flags/?open_on=
and the program's risk and metric tree all show the same date, and agree with each other."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accountability.choices import FlagKind
from accountability.models import Flag
from accountability.scans import scan_organization
from metrics.services import metric_update
from programs.choices import ProgramStatus, StageStatus
from programs.services import program_transition
from tests.factories import (
    MeasurementFactory,
    MetricFactory,
    ProgramFactory,
    RiskAssessmentFactory,
    RoadmapStageFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def exec_client(client, executive_user):
    client.force_login(executive_user)
    return client


@pytest.fixture
def api(executive_user):
    client = APIClient()
    client.force_login(executive_user)
    return client


def _text(html: bytes) -> str:
    spaced = re.sub(r"</?(?:td|th|tr|li|p|div|dt|dd|h\d|br|section|table|ul|dl)\b[^>]*>", " ", html.decode())
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", spaced))


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)


# --- A flag raised on D-40 and resolved today -------------------------------------------


@pytest.fixture
def scanned(organization):
    """A program whose only finding is `no_business_outcome`, raised by a scan as of D−40
    and resolved by a scan as of today (a strategic outcome metric was added meanwhile)."""
    today = timezone.localdate()
    program = ProgramFactory(organization=organization, started_on=dt.date(2020, 1, 1))
    scan_organization(organization=organization, as_of=today - dt.timedelta(days=40))
    flag = Flag.objects.get(kind=FlagKind.NO_BUSINESS_OUTCOME)
    MetricFactory(program=program)
    scan_organization(organization=organization, as_of=today)
    flag.refresh_from_db()
    return {"program": program, "flag": flag, "today": today, "raised": today - dt.timedelta(days=40)}


def test_the_flag_is_open_on_d40_not_d41_not_today_in_the_flags_api(api, scanned):
    flag, today, raised = scanned["flag"], scanned["today"], scanned["raised"]

    def listed(**params) -> bool:
        response = api.get("/api/v1/flags/", params)
        assert response.status_code == 200, response.json()
        return flag.id in {row["id"] for row in response.json()["results"]}

    assert listed(open_on=raised.isoformat())
    assert listed(as_of=raised.isoformat())  # the same meaning
    assert listed(open_on=(today - dt.timedelta(days=1)).isoformat())
    assert not listed(open_on=(raised - dt.timedelta(days=1)).isoformat())
    assert not listed(open_on=today.isoformat())
    assert not listed(as_of=today.isoformat())
    assert listed()  # without a date: every flag, closed ones included


def test_the_flag_is_open_on_d40_not_d41_not_today_in_the_dashboard_api(api, scanned):
    flag, today, raised = scanned["flag"], scanned["today"], scanned["raised"]

    def card(day):
        data = api.get("/api/v1/dashboard/", {"as_of": day.isoformat()}).json()
        assert data["as_of"] == day.isoformat()
        (program,) = data["programs"]
        return program

    on_d40 = card(raised)
    assert on_d40["flags"]["high"] == 1 and on_d40["flags_total"] == 1
    assert [(f["id"], f["age_days"]) for f in on_d40["top_flags"]] == [(flag.id, 0)]
    assert [(f["id"], f["age_days"]) for f in card(today - dt.timedelta(days=1))["top_flags"]] == [(flag.id, 39)]
    assert card(raised - dt.timedelta(days=1))["flags_total"] == 0
    assert flag.id not in [f["id"] for f in card(today)["top_flags"]]


def test_the_flag_is_open_on_d40_not_d41_not_today_in_the_html_pages(exec_client, scanned):
    flag, program, today, raised = scanned["flag"], scanned["program"], scanned["today"], scanned["raised"]
    marker = f'data-flag-id="{flag.id}"'
    for day, shown in ((raised, True), (raised - dt.timedelta(days=1), False), (today, False)):
        for url in ("/dashboard/", f"/dashboard/programs/{program.id}/"):
            html = exec_client.get(f"{url}?as_of={day.isoformat()}").content.decode()
            assert (marker in html) is shown, (url, day)
            assert f"as of {day:%-d %B %Y}".lower() in _text(html.encode()).lower()
    page = _text(exec_client.get(f"/dashboard/flags/{flag.id}/?as_of={raised.isoformat()}").content)
    assert f"Status on {raised:%-d %b %Y} Open" in page
    assert "Status now Resolved" in page and f"closed on {today:%-d %b %Y}" in page


# --- A metric loosened today, seen on a past date ----------------------------------------

PAST = dt.date(2025, 6, 30)


@pytest.fixture
def loosened(organization):
    program = ProgramFactory(organization=organization)
    metric = MetricFactory(
        program=program,
        name="Retention",
        baseline=Decimal("50"),
        baseline_on=dt.date(2024, 1, 1),
        target=Decimal("70"),
        target_on=dt.date(2025, 1, 1),
    )
    MeasurementFactory(metric=metric, period_end=dt.date(2025, 1, 31), value=Decimal("60"))
    metric_update(metric=metric, changes={"target": Decimal("55")}, reason="Harder than planned")
    return {"program": program, "metric": metric}


def test_metric_tree_api_shows_the_old_target_and_its_health_on_a_past_date(api, loosened):
    url = f"/api/v1/programs/{loosened['program'].id}/metric-tree/"
    (then,) = api.get(url, {"as_of": PAST.isoformat()}).json()
    assert (then["target"], then["health"]) == ("70.0000", "off_track")
    (now,) = api.get(url).json()
    assert (now["target"], now["health"]) == ("55.0000", "on_track")
    assert api.get(url, {"as_of": "2025-02-30"}).status_code == 400
    assert api.get(url, {"as_of": "1899-12-31"}).status_code == 400


def test_dashboard_shows_the_old_target_and_its_health_on_a_past_date(exec_client, api, loosened):
    program = loosened["program"]
    html = exec_client.get(f"/dashboard/programs/{program.id}/?as_of={PAST.isoformat()}").content.decode()
    node = html[html.index('id="metric-') :]
    assert re.search(r'data-field="metric-target">70%<', node)
    assert re.search(r'data-field="metric-health">Off track<', node)
    assert "target changed since" in _text(node.encode())
    card = api.get("/api/v1/dashboard/", {"as_of": PAST.isoformat()}).json()["programs"][0]
    assert card["metric_health"] == {"off_track": 1, "at_risk": 0, "on_track": 0, "no_data": 0}
    today_html = exec_client.get(f"/dashboard/programs/{program.id}/").content.decode()
    assert re.search(r'data-field="metric-target">55%<', today_html)
    assert re.search(r'data-field="metric-health">On track<', today_html)


# --- Budgets and status before a cut or a pause ------------------------------------------


def test_budgets_and_status_before_a_cut_and_a_pause(exec_client, api, organization):
    program = ProgramFactory(organization=organization, budget=Decimal("900000"))
    stage = RoadmapStageFactory(program=program, sequence=1, budget=Decimal("400000"), status=StageStatus.IN_PROGRESS)
    for model, row in ((type(program), program), (type(stage), stage)):
        model.history.model.objects.filter(id=row.pk).update(history_date=_at(dt.date(2024, 1, 1)))
    cut_on = dt.date(2025, 3, 1)
    for row, budget in ((program, Decimal("500000")), (stage, Decimal("150000"))):
        row.budget = budget
        row._history_date = _at(cut_on)
        row.save()
    program_transition(program=program, to=ProgramStatus.PAUSED, reason="Budget freeze", at=_at(cut_on))
    before = cut_on - dt.timedelta(days=1)

    page = _text(exec_client.get(f"/dashboard/programs/{program.id}/?as_of={before.isoformat()}").content)
    assert "Funded: €400,000 of a program budget of €900,000" in page
    assert "Active" in page and "Paused" not in page
    after = _text(exec_client.get(f"/dashboard/programs/{program.id}/?as_of={cut_on.isoformat()}").content)
    assert "Funded: €150,000 of a program budget of €500,000" in after and "Paused" in after
    statuses = {
        day: api.get("/api/v1/dashboard/", {"as_of": day.isoformat()}).json()["programs"][0]["status"]
        for day in (before, cut_on)
    }
    assert statuses == {before: "active", cut_on: "paused"}


# --- The risk action as of a date --------------------------------------------------------


def test_risk_api_as_of_a_date(api, organization):
    program = ProgramFactory(organization=organization)
    RiskAssessmentFactory(program=program, as_of=dt.date(2025, 1, 1), score=20, level="low")
    RiskAssessmentFactory(program=program, as_of=dt.date(2025, 2, 1), score=60, level="high")
    url = f"/api/v1/programs/{program.id}/risk/"
    then = api.get(url, {"as_of": "2025-01-31", "history": "1"}).json()
    assert (then["as_of"], then["score"]) == ("2025-01-01", 20)
    assert [p["as_of"] for p in then["history"]] == ["2025-01-01"]
    assert api.get(url, {"as_of": "2025-02-01"}).json()["score"] == 60
    assert api.get(url, {"as_of": "2024-12-31"}).json()["score"] is None
    assert api.get(url, {"as_of": "tomorrow"}).status_code == 400


# --- Query counts at two data sizes -------------------------------------------------------


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("action", ["risk/?history=1&as_of=2025-06-30", "metric-tree/?as_of=2025-06-30"])
def test_risk_and_metric_tree_query_counts_do_not_grow(api, organization, action):
    program = ProgramFactory(organization=organization)
    counts = []
    for size in (2, 12):
        while program.metrics.count() < size:
            metric = MetricFactory(program=program)
            MeasurementFactory(metric=metric, period_end=dt.date(2025, 1, 31), value=Decimal("60"))
            metric_update(metric=metric, changes={"target": Decimal("65")}, reason="r")
            RiskAssessmentFactory(
                program=program, as_of=dt.date(2025, 1, 1) + dt.timedelta(days=program.metrics.count())
            )
        counts.append(_count(api, f"/api/v1/programs/{program.id}/{action}"))
    assert counts[0] == counts[1] <= 6
