"""programs/: readiness, latest risk, transitions, risk history, metric tree."""

import datetime as dt
from decimal import Decimal

import pytest

from programs.models import ProgramStatusChange
from tests.factories import (
    ForumFactory,
    MeasurementFactory,
    MetricFactory,
    PersonFactory,
    ProgramFactory,
    RiskAssessmentFactory,
    RoadmapStageFactory,
)

pytestmark = pytest.mark.django_db


def test_programs_show_readiness_and_latest_risk(world, office):
    RiskAssessmentFactory(program=world.program, as_of=dt.date(2024, 5, 1), score=20, level="low")
    RiskAssessmentFactory(program=world.program, as_of=dt.date(2024, 6, 1), score=55, level="high")
    draft = ProgramFactory(organization=world.organization, status="draft", customer_vision="", executive_sponsor=None)
    rows = {p["id"]: p for p in office.get("/api/v1/programs/").json()["results"]}
    assert rows[world.program.pk]["risk"] == {"score": 55, "level": "high", "as_of": "2024-06-01"}
    assert rows[draft.pk]["risk"] is None
    assert "A customer vision is written." in rows[draft.pk]["readiness"]
    assert "An executive sponsor is named." in rows[draft.pk]["readiness"]


def test_status_is_read_only_outside_transition(world, office):
    # A status in a PATCH is refused, not ignored (tests/api/test_program_patch.py).
    response = office.patch(f"/api/v1/programs/{world.program.pk}/", {"status": "cancelled"}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["status"]
    assert office.get(f"/api/v1/programs/{world.program.pk}/").json()["status"] == "active"


def _ready_draft(organization):
    program = ProgramFactory(organization=organization, status="draft", started_on=None)
    RoadmapStageFactory(program=program, sequence=1, budget=1000)
    ForumFactory(program=program)
    MetricFactory(program=program, level="strategic", kind="outcome")
    return program


def test_transition_goes_through_the_service_and_is_kept(world, office):
    program = _ready_draft(world.organization)
    response = office.post(f"/api/v1/programs/{program.pk}/transition/", {"to": "active"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "active"
    assert response.json()["started_on"] is not None
    change = ProgramStatusChange.objects.get(program=program)
    assert (change.from_status, change.to_status, change.changed_by) == ("draft", "active", None)


def test_a_refused_transition_is_400_with_the_reason(world, office):
    url = f"/api/v1/programs/{world.program.pk}/transition/"
    no_reason = office.post(url, {"to": "paused"}, format="json")
    assert no_reason.status_code == 400
    assert no_reason.json() == {"reason": ["Say why the program goes from active to paused."]}
    not_allowed = office.post(url, {"to": "draft"}, format="json")
    assert not_allowed.status_code == 400
    assert "cannot become draft" in not_allowed.json()["to"][0]
    unknown = office.post(url, {"to": "archived"}, format="json")
    assert unknown.status_code == 400
    assert unknown.json() == {"to": ['"archived" is not a valid choice.']}
    assert not ProgramStatusChange.objects.filter(program=world.program).exists()


def test_activation_with_unmet_readiness_needs_force_and_a_reason(world, office):
    program = ProgramFactory(organization=world.organization, status="draft", customer_vision="")
    url = f"/api/v1/programs/{program.pk}/transition/"
    refused = office.post(url, {"to": "active"}, format="json")
    assert refused.status_code == 400
    assert "not ready to go live" in refused.json()["to"][0]
    forced = office.post(url, {"to": "active", "force": True, "reason": "Board decision"}, format="json")
    assert forced.status_code == 200
    change = ProgramStatusChange.objects.get(program=program)
    assert change.forced and "A customer vision is written." in change.unmet_readiness


def test_transition_roles_and_tenancy(world, other_world, clients):
    body = {"to": "paused", "reason": "Ops ultimatum"}
    assert (
        clients["executive"].post(f"/api/v1/programs/{world.program.pk}/transition/", body, format="json").status_code
        == 403
    )
    assert (
        clients["integration"].post(f"/api/v1/programs/{world.program.pk}/transition/", body, format="json").status_code
        == 403
    )
    assert (
        clients["office"]
        .post(f"/api/v1/programs/{other_world.program.pk}/transition/", body, format="json")
        .status_code
        == 404
    )
    assert (
        clients["office"].post(f"/api/v1/programs/{world.program.pk}/transition/", body, format="json").status_code
        == 200
    )


def test_only_a_never_started_draft_can_be_deleted(world, office):
    response = office.delete(f"/api/v1/programs/{world.program.pk}/")
    assert response.status_code == 400
    assert "cancel it instead" in response.json()["detail"]


def test_risk_before_any_scan_is_null(world, clients):
    response = clients["executive"].get(f"/api/v1/programs/{world.program.pk}/risk/")
    assert response.status_code == 200
    assert response.json() == {
        "program": world.program.pk,
        "as_of": None,
        "score": None,
        "level": None,
        "factors": [],
        "history": None,
    }


def test_risk_latest_with_factors_and_history_on_request(world, other_world, clients):
    factors = [{"code": "program_paused", "points": 35, "evidence": {"status": "paused"}}]
    RiskAssessmentFactory(program=world.program, as_of=dt.date(2024, 5, 1), score=10, level="low")
    RiskAssessmentFactory(program=world.program, as_of=dt.date(2024, 6, 1), score=35, level="elevated", factors=factors)
    client = clients["integration"]
    latest = client.get(f"/api/v1/programs/{world.program.pk}/risk/").json()
    assert (latest["as_of"], latest["score"], latest["level"], latest["factors"]) == (
        "2024-06-01",
        35,
        "elevated",
        factors,
    )
    assert latest["history"] is None
    series = client.get(f"/api/v1/programs/{world.program.pk}/risk/", {"history": "1"}).json()["history"]
    assert [(p["as_of"], p["score"]) for p in series] == [("2024-05-01", 10), ("2024-06-01", 35)]
    assert series[1]["factors"] == factors
    assert client.get(f"/api/v1/programs/{other_world.program.pk}/risk/").status_code == 404


def test_metric_tree_is_nested_with_owner_and_health(world, office, django_assert_max_num_queries):
    owner = PersonFactory(organization=world.organization, name="Dana Ops")
    tactical = MetricFactory(program=world.program, parent=world.metric, level="tactical", name="B tactical")
    operational = MetricFactory(
        program=world.program,
        parent=tactical,
        level="operational",
        kind="operational",
        owner=owner,
        name="Wait time",
        direction="decrease",
        baseline=Decimal("100"),
        target=Decimal("50"),
        baseline_on=dt.date(2024, 1, 1),
        target_on=dt.date(2025, 1, 1),
    )
    MeasurementFactory(metric=operational, period_end=dt.date(2025, 1, 31), value=Decimal("80"))
    for i in range(20):
        MetricFactory(program=world.program, parent=tactical, level="operational", kind="operational", name=f"Z{i}")
    # auth (key lookup and last use) + program lookup + the metrics on the date + their later revisions
    with django_assert_max_num_queries(5):
        response = office.get(f"/api/v1/programs/{world.program.pk}/metric-tree/")
    assert response.status_code == 200
    (root,) = response.json()
    assert root["id"] == world.metric.pk
    assert root["health"] == "on_track"  # 61 in June 2024, on the way from 50 to 70
    (child,) = root["children"]
    assert child["id"] == tactical.pk and child["health"] == "no_data"
    wait = child["children"][0]
    assert wait["id"] == operational.pk
    assert wait["owner"] == {"id": owner.pk, "name": "Dana Ops"}
    assert wait["health"] == "off_track"  # 80 against an expected 50: lower is better
    assert wait["latest_value"] == "80.0000"
    assert len(child["children"]) == 21
