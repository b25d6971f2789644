"""Board packs as of a past day say what was true then, and nothing on them contradicts
another part (SPEC §2, §5): flags with their severity and title on the day, every step up
the escalation ladder of the month, and no retired strategic metric counted at risk.
Read back with `pdftotext` (poppler-utils)."""

import datetime as dt
import re
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from metrics.choices import Direction, Kind, Level
from metrics.services import metric_update
from programs.dates import day_start
from reports.board_pack import data
from tests.accountability.flag_story import AFTER, BETWEEN, LEVEL_1_ON, LEVEL_2_ON, build_story, late_title
from tests.dashboard.builders import build_program
from tests.factories import MeasurementFactory, MetricFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed"),
]
TODAY = timezone.localdate()


def pdf_text(response) -> str:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = subprocess.run(["pdftotext", "-", "-"], input=body, capture_output=True, check=True).stdout
    return re.sub(r"\s+", " ", text.decode())


@pytest.fixture
def exec_client(client, executive_user):
    client.force_login(executive_user)
    return client


@pytest.fixture
def story(organization):
    return build_story(organization)


def _program_pack(client, story, day) -> str:
    return pdf_text(client.get(f"/dashboard/programs/{story['program'].pk}/board-pack.pdf?as_of={day.isoformat()}"))


def _agree(text: str, p) -> None:
    """The counts by severity on the pack's card and its list of open critical and high flags agree."""
    assert len(p.severe_flags) == p.card.flags["critical"] + p.card.flags["high"]
    assert f"Open critical and high flags ({len(p.severe_flags)})" in text
    for severity, n in p.card.flags.items():
        assert f"{n} {severity.capitalize()}" in text


def test_program_pack_between_the_scans_lists_the_flag_as_it_was(exec_client, organization, story):
    name = story["late"].name
    text = _program_pack(exec_client, story, BETWEEN)
    pack = data.program_board_pack(organization_ids=[organization.id], program_id=story["program"].pk, as_of=BETWEEN)
    (p,) = pack.programs
    _agree(text, p)
    # Medium on that day: not among the open critical and high flags.
    assert story["late_flag"].id not in {f.id for f in p.severe_flags}
    assert p.card.flags["medium"] >= 1
    # Raised in the month before, named with its severity and title of the pack's day.
    raised = f"Raised: Medium flag “{late_title(name, 15)}” (Olive Owner)."
    assert raised in [c.text for c in p.changes["Flags raised"]]
    assert raised in text
    assert late_title(name, 41) not in text and late_title(name, 32) not in text


def test_program_pack_after_the_scans_lists_it_high(exec_client, organization, story):
    name = story["late"].name
    text = _program_pack(exec_client, story, AFTER)
    pack = data.program_board_pack(organization_ids=[organization.id], program_id=story["program"].pk, as_of=AFTER)
    (p,) = pack.programs
    _agree(text, p)
    (line,) = [f for f in p.severe_flags if f.id == story["late_flag"].id]
    assert (line.severity, line.title) == ("high", late_title(name, 32))
    assert late_title(name, 32) in text and late_title(name, 41) not in text


def test_the_escalations_of_the_month_list_every_step(exec_client, organization, story):
    overdue = f"“Initiative '{story['long'].name}' is"
    pack = data.program_board_pack(organization_ids=[organization.id], program_id=story["program"].pk, as_of=BETWEEN)
    steps = [c for c in pack.programs[0].changes["Escalations"] if overdue in c.text]
    assert [(c.on, c.text.split(":")[0]) for c in steps] == [
        (LEVEL_1_ON, "Escalated to level 1 (Owner's manager)"),
        (LEVEL_2_ON, "Escalated to level 2 (Sponsor)"),
    ]
    text = _program_pack(exec_client, story, BETWEEN)
    assert "Escalated to level 1 (Owner's manager)" in text and "Escalated to level 2 (Sponsor)" in text
    # A window that ends before the second step holds only the first.
    before = data.program_board_pack(
        organization_ids=[organization.id], program_id=story["program"].pk, as_of=LEVEL_2_ON - dt.timedelta(days=1)
    )
    assert [c.on for c in before.programs[0].changes["Escalations"] if overdue in c.text] == [LEVEL_1_ON]


def test_escalations_cost_one_query_whatever_the_flags(organization, story):
    ids = [story["program"].pk]
    with CaptureQueriesContext(connection) as ctx:
        data._escalation_steps(ids, BETWEEN - dt.timedelta(days=30), BETWEEN)
    assert len(ctx.captured_queries) == 1


# --- A retired strategic metric ------------------------------------------------------------

RETIRED_ON = TODAY - dt.timedelta(days=20)


@pytest.fixture
def retired(organization):
    built = build_program(organization, TODAY, name="Service Renewal", future_assessment=False)
    program = built["program"]
    # At risk: baseline 50 → target 70 over two years, 58.5 when about 59 was expected.
    cost = MetricFactory(
        program=program,
        name="Service cost per contact",
        level=Level.STRATEGIC,
        kind=Kind.OUTCOME,
        direction=Direction.INCREASE,
        baseline=Decimal("50"),
        target=Decimal("70"),
        baseline_on=TODAY - dt.timedelta(days=365),
        target_on=TODAY + dt.timedelta(days=365),
    )
    for days in (40, 10):
        MeasurementFactory(metric=cost, period_end=TODAY - dt.timedelta(days=days), value=Decimal("58.5"))
    metric_update(
        metric=cost,
        changes={"status": "retired"},
        reason="Replaced by the new cost model",
        at=day_start(RETIRED_ON) + dt.timedelta(hours=12),
    )
    return built


def test_portfolio_pack_leaves_a_retired_metric_out_of_the_health_counts(exec_client, organization, retired):
    text = pdf_text(exec_client.get("/dashboard/board-pack.pdf"))
    assert "Strategic metrics: 1 on track; 1 retired (5 metrics in the cascade)" in text
    assert "at risk" not in text.split("Strategic metrics:")[1].split("(")[0]
    assert "Service cost per contact" not in text
    (p,) = data.portfolio_board_pack(organization=organization, as_of=TODAY).programs
    assert p.strategic_health == {"on track": 1} and p.strategic_exceptions == []
    # The program's own pack marks it retired in the cascade.
    program_text = pdf_text(exec_client.get(f"/dashboard/programs/{retired['program'].pk}/board-pack.pdf"))
    assert "Service cost per contact" in program_text and "Retired" in program_text


def test_portfolio_pack_before_the_retirement_counts_it_at_risk(exec_client, organization, retired):
    day = RETIRED_ON - dt.timedelta(days=1)
    (p,) = data.portfolio_board_pack(organization=organization, as_of=day).programs
    assert p.retired_roots == 0 and sum(p.strategic_health.values()) == 2
    assert "Service cost per contact" in [n.metric.name for n in p.strategic_exceptions]
    assert p.strategic_health["at risk"] == sum(1 for n in p.strategic_exceptions if n.health == "at_risk")
    text = pdf_text(exec_client.get(f"/dashboard/board-pack.pdf?as_of={day.isoformat()}"))
    assert f"{p.strategic_health['at risk']} at risk" in text and "Service cost per contact" in text
    assert "retired (" not in text
