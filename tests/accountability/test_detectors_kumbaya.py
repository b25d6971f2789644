"""kumbaya_metric: a perception metric the cascade ties to no business outcome."""

import pytest

from accountability.choices import FlagKind, Severity, SubjectType
from accountability.detectors.metrics import detect_kumbaya_metric
from metrics.choices import Kind, Level, MetricStatus
from tests.factories import MetricFactory, OrganizationFactory, PersonFactory, ProgramFactory

from .detector_helpers import count_queries, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def program(organization):
    return ProgramFactory(organization=organization)


def m(program, kind, level=Level.TACTICAL, parent=None, **fields):
    return MetricFactory(program=program, kind=kind, level=level, parent=parent, **fields)


def test_a_perception_metric_at_the_top_is_kumbaya(organization, program):
    nps = m(program, Kind.PERCEPTION, Level.STRATEGIC)
    [finding] = run(detect_kumbaya_metric, organization)
    assert finding.kind == FlagKind.KUMBAYA_METRIC
    assert (finding.subject_type, finding.subject_id, finding.severity) == (SubjectType.METRIC, nps.id, Severity.MEDIUM)
    assert finding.owner_id == nps.owner_id
    assert finding.evidence["ancestors"] == []
    assert "at the top of the cascade" in finding.detail


def test_an_outcome_ancestor_anywhere_up_the_chain_ties_it(organization, program):
    revenue = m(program, Kind.OUTCOME, Level.STRATEGIC)
    effort = m(program, Kind.PERCEPTION, Level.TACTICAL, parent=revenue)
    csat = m(program, Kind.PERCEPTION, Level.OPERATIONAL, parent=effort)
    assert run(detect_kumbaya_metric, organization) == []
    assert csat.parent_id == effort.id


def test_a_chain_without_an_outcome_is_kumbaya_at_every_perception_level(organization, program):
    ops = m(program, Kind.OPERATIONAL, Level.STRATEGIC)
    effort = m(program, Kind.PERCEPTION, Level.TACTICAL, parent=ops)
    csat = m(program, Kind.PERCEPTION, Level.OPERATIONAL, parent=effort)
    findings = {f.subject_id: f for f in run(detect_kumbaya_metric, organization)}
    assert set(findings) == {effort.id, csat.id}
    assert [a["id"] for a in findings[csat.id].evidence["ancestors"]] == [effort.id, ops.id]


def test_a_retired_outcome_ancestor_no_longer_ties_it(organization, program):
    revenue = m(program, Kind.OUTCOME, Level.STRATEGIC, status=MetricStatus.RETIRED)
    nps = m(program, Kind.PERCEPTION, parent=revenue)
    [finding] = run(detect_kumbaya_metric, organization)
    assert finding.subject_id == nps.id
    assert finding.evidence["ancestors"] == [
        {"id": revenue.id, "name": revenue.name, "kind": "outcome", "status": "retired"}
    ]


def test_retired_perception_and_other_kinds_are_not_kumbaya(organization, program):
    m(program, Kind.PERCEPTION, status=MetricStatus.RETIRED)
    m(program, Kind.OPERATIONAL)
    m(program, Kind.OUTCOME, Level.STRATEGIC)
    assert run(detect_kumbaya_metric, organization) == []


def test_an_unowned_kumbaya_metric_is_the_champions(organization, program):
    m(program, Kind.PERCEPTION, owner=PersonFactory(organization=organization, active=False))
    [finding] = run(detect_kumbaya_metric, organization)
    assert finding.owner_id == program.customer_champion_id


def test_kumbaya_query_count_is_constant():
    small, large = OrganizationFactory(), OrganizationFactory()
    for org, n in ((small, 1), (large, 6)):
        for _ in range(n):
            p = ProgramFactory(organization=org)
            top = m(p, Kind.OPERATIONAL, Level.STRATEGIC)
            mid = m(p, Kind.PERCEPTION, Level.TACTICAL, parent=top)
            m(p, Kind.PERCEPTION, Level.OPERATIONAL, parent=mid)
            outcome = m(p, Kind.OUTCOME, Level.STRATEGIC)
            m(p, Kind.PERCEPTION, parent=outcome)
    assert len(run(detect_kumbaya_metric, large)) == 6 * len(run(detect_kumbaya_metric, small)) == 12
    assert (
        count_queries(lambda: run(detect_kumbaya_metric, small))
        == count_queries(lambda: run(detect_kumbaya_metric, large))
        == 1  # the cascade, names and owners included (a scan shares it with two other detectors)
    )
