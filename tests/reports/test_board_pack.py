"""Board packs: built from the dashboard's selectors, rendered by WeasyPrint, read back with pypdf."""

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pypdf import PdfReader

from dashboard.selectors import portfolio_summary
from programs.models import Program
from reports.board_pack import data, render
from tests.dashboard.builders import EXPECTED, build_program
from tests.factories import CommitmentAssessmentFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def _pdf(response) -> tuple[int, str]:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return len(reader.pages), re.sub(r"\s+", " ", text)


@pytest.fixture
def built(organization):
    organization.currency = "GBP"
    organization.save()
    built = build_program(organization, TODAY, name="Service Renewal", future_assessment=False)
    Program.objects.filter(pk=built["program"].pk).update(budget=Decimal("1250000"))
    CommitmentAssessmentFactory(program=built["program"], assessed_on=TODAY - dt.timedelta(days=200))
    return built


@pytest.fixture
def exec_client(client, executive_user):
    client.force_login(executive_user)
    return client


def test_program_pack_reads_back(exec_client, built, organization):
    program = built["program"]
    pages, text = _pdf(exec_client.get(f"/dashboard/programs/{program.pk}/board-pack.pdf"))
    assert pages >= 2
    assert "Service Renewal" in text
    assert f"Board pack as of {TODAY:%-d %B %Y}" in text
    assert f"Page 1 of {pages}" in text and f"Page {pages} of {pages}" in text
    assert text.count(organization.name) >= pages  # on every page
    severe = [f for f in built["flags"] if f.severity in ("critical", "high")]
    assert len(severe) == EXPECTED["flags"]["critical"] + EXPECTED["flags"]["high"]
    for flag in severe:
        assert flag.title in text and flag.owner.name in text
    assert "£1,250,000" in text
    assert f"Month {EXPECTED['month_of_horizon']} of {EXPECTED['horizon']}" in text
    assert "Sponsor absent from the forums adds 20 points" in text
    assert "Net promoter score" in text and "Average wait time" in text  # the whole cascade


PAST = dt.date(2025, 6, 30)


def test_past_pack_matches_the_dashboard_as_of_that_date(exec_client, organization, executive_user):
    # The builder adds an assessment after PAST (score 99, critical): the pack of PAST must not show it.
    built = build_program(organization, PAST, name="Claims Renewal")
    program = built["program"]
    (card,) = portfolio_summary(organization_ids=[organization.id], as_of=PAST).programs
    pages, text = _pdf(exec_client.get(f"/dashboard/programs/{program.pk}/board-pack.pdf?as_of={PAST}"))
    assert "Board pack as of 30 June 2025" in text
    assert card.risk.score == EXPECTED["risk_score"] and card.month_of_horizon == EXPECTED["month_of_horizon"]
    assert f"at a score of {card.risk.score}" in text and "score 99" not in text
    assert f"Month {card.month_of_horizon} of {card.committed_horizon_months}" in text
    assert f"{card.forum_held} of {card.forum_scheduled} scheduled sessions held" in text
    assert f"attended {card.sponsor_present} of {card.sponsor_held} held sessions" in text
    assert f"Open critical and high flags ({card.flags['critical'] + card.flags['high']})" in text
    # What changed in the month before: the risk level moved from elevated to high.
    assert "Risk level moved from Elevated to High" in text
    # The same program today: the later assessment counts.
    _, today_text = _pdf(exec_client.get(f"/dashboard/programs/{program.pk}/board-pack.pdf"))
    assert "at a score of 99" in today_text


def test_portfolio_pack_lists_live_programs(exec_client, organization, other_organization):
    build_program(organization, TODAY, name="Service Renewal", future_assessment=False)
    build_program(organization, TODAY, name="Calm Program", calm=True, future_assessment=False)
    build_program(other_organization, TODAY, name="Foreign Program", future_assessment=False)
    Program.objects.filter(name="Calm Program").update(status="draft")
    pages, text = _pdf(exec_client.get("/dashboard/board-pack.pdf"))
    assert f"Board pack: {organization.name} portfolio" in text
    assert "Service Renewal" in text
    assert "Calm Program" not in text  # a draft is not in the board's pack
    assert "Foreign Program" not in text
    assert "1 live program" in text
    # One brief per program: the strategic metrics summed up, the worst flags with owners.
    assert "Strategic metrics: 1 on track (4 metrics in the cascade)" in text
    assert "Critical: Critical flag of Service Renewal" in text


def test_cross_organization_and_bad_input(exec_client, organization, other_organization):
    foreign = build_program(other_organization, TODAY, name="Foreign Program", future_assessment=False)["program"]
    assert exec_client.get(f"/dashboard/programs/{foreign.pk}/board-pack.pdf").status_code == 404
    assert exec_client.get(f"/api/v1/programs/{foreign.pk}/board-pack/").status_code == 404
    assert exec_client.get(f"/dashboard/board-pack.pdf?organization={other_organization.pk}").status_code == 404
    mine = build_program(organization, TODAY, name="Mine", future_assessment=False)["program"]
    for bad in ("2025-13-01", "yesterday", "1899-12-31", "3000-01-01"):
        assert exec_client.get(f"/dashboard/programs/{mine.pk}/board-pack.pdf?as_of={bad}").status_code == 400
        response = exec_client.get(f"/api/v1/programs/{mine.pk}/board-pack/?as_of={bad}")
        assert response.status_code == 400 and "as_of" in response.json()
    assert exec_client.get("/dashboard/board-pack.pdf?organization=x").status_code == 400


def test_api_serves_the_pdf(client, organization, executive_user):
    program = build_program(organization, PAST, name="Claims Renewal")["program"]
    url = f"/api/v1/programs/{program.pk}/board-pack/?as_of={PAST}"
    unauthenticated = client.get(url)
    assert unauthenticated.status_code == 401 and unauthenticated["Content-Type"] == "application/json"
    client.force_login(executive_user)
    pages, text = _pdf(client.get(url, HTTP_ACCEPT="application/pdf"))
    assert "Claims Renewal" in text and "30 June 2025" in text
    missing = client.get("/api/v1/programs/999999/board-pack/", HTTP_ACCEPT="application/pdf")
    assert missing.status_code == 404 and missing.json()["detail"]


def test_schema_documents_the_board_pack(client):
    schema = client.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/programs/{id}/board-pack/"]["get"]
    assert "application/pdf" in operation["responses"]["200"]["content"]
    assert {"400", "401", "404"} <= set(operation["responses"])
    assert any(p["name"] == "as_of" for p in operation["parameters"])


def test_constant_queries_at_two_sizes(organization):
    build_program(organization, TODAY, name="One", future_assessment=False)
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as ctx:
            pack = data.portfolio_board_pack(organization=organization, as_of=TODAY)
            render.render_html(pack)
        counts.append(len(ctx.captured_queries))
        for i in range(3):
            built = build_program(organization, TODAY, name=f"More {len(counts)}-{i}", future_assessment=False)
            CommitmentAssessmentFactory(program=built["program"], assessed_on=TODAY)
    assert counts[0] == counts[1] <= 25
    with CaptureQueriesContext(connection) as ctx:
        data.program_board_pack(organization_ids=[organization.id], program_id=pack.programs[0].program.id, as_of=TODAY)
    assert len(ctx.captured_queries) <= 25
