"""Cross-cutting detector rules: the registry, scoping, constant query counts, a healthy program."""

import json

import pytest

from accountability.choices import FlagKind
from accountability.detectors import DETECTORS, run_detectors
from programs.choices import ProgramStatus
from tests.factories import OrganizationFactory

from .detector_helpers import AS_OF, build_healthy_program, build_troubled_program, count_queries, run

pytestmark = pytest.mark.django_db

ALL_KINDS = {k.value for k in FlagKind} - {FlagKind.EARLY_BAIL_RISK.value}


def test_registry_maps_every_kind_but_early_bail_risk():
    assert set(DETECTORS) == ALL_KINDS
    for kind, detector in DETECTORS.items():
        assert detector.__name__ == f"detect_{kind}"


def test_troubled_program_trips_every_kind(organization):
    program = build_troubled_program(organization)
    findings = run_detectors(organization=organization, as_of=AS_OF)
    assert {f.kind for f in findings if f.program_id == program.id} == ALL_KINDS
    # Its champion's other program is overloaded with it, and has no outcome metric of its own.
    assert {f.kind for f in findings if f.program_id == program.companion.id} == {
        FlagKind.CHAMPION_OVERLOADED,
        FlagKind.NO_BUSINESS_OUTCOME,
    }
    for finding in findings:
        assert finding.title
        assert finding.owner_id is not None  # someone is always named (the metric here has no owner)
        json.dumps(finding.evidence)  # stored as-is in Flag.evidence: plain JSON, no Decimal or date
        assert finding.fingerprint


@pytest.mark.parametrize("status", [ProgramStatus.DRAFT, ProgramStatus.COMPLETED, ProgramStatus.CANCELLED])
def test_programs_not_active_or_paused_are_not_scanned(organization, status):
    build_troubled_program(organization, status=status)
    assert run_detectors(organization=organization, as_of=AS_OF) == []


def test_paused_programs_are_scanned(organization):
    build_troubled_program(organization, status=ProgramStatus.PAUSED)
    assert {f.kind for f in run_detectors(organization=organization, as_of=AS_OF)} == ALL_KINDS


def test_other_organizations_are_not_included(organization, other_organization):
    build_troubled_program(other_organization)
    mine = build_troubled_program(organization)
    findings = run_detectors(organization=organization, as_of=AS_OF)
    assert {f.program_id for f in findings} == {mine.id, mine.companion.id}
    assert {f.kind for f in findings} == ALL_KINDS


def test_program_ids_restricts_the_scan(organization):
    first = build_troubled_program(organization)
    second = build_troubled_program(organization)
    only_second = run_detectors(organization=organization, as_of=AS_OF, program_ids=[second.id])
    assert {f.program_id for f in only_second} == {second.id}
    assert {f.kind for f in only_second} == ALL_KINDS
    assert run_detectors(organization=organization, as_of=AS_OF, program_ids=[]) == []
    from_generator = run_detectors(organization=organization, as_of=AS_OF, program_ids=(p for p in [second.id]))
    assert {f.kind for f in from_generator} == ALL_KINDS
    both = run_detectors(organization=organization, as_of=AS_OF)
    assert {f.program_id for f in both} == {first.id, second.id, first.companion.id, second.companion.id}


def test_healthy_program_yields_no_finding(organization):
    build_healthy_program(organization)
    for kind, detector in DETECTORS.items():
        assert run(detector, organization) == [], kind


@pytest.mark.parametrize("kind", sorted(ALL_KINDS))
def test_query_count_does_not_grow_with_data(kind):
    detector = DETECTORS[kind]
    small, large = OrganizationFactory(), OrganizationFactory()
    build_troubled_program(small)
    for _ in range(5):
        build_troubled_program(large)
        build_healthy_program(large)
    small_findings = run(detector, small)
    large_findings = run(detector, large)
    assert len(large_findings) == 5 * len(small_findings) > 0
    small_count = count_queries(lambda: run(detector, small))
    large_count = count_queries(lambda: run(detector, large))
    assert small_count == large_count <= 3
