"""seed_demo: the Northwind Mutual story trips every flag kind, the healthy program none."""


import pytest
from django.utils import timezone

from accountability.choices import FlagKind, RiskLevel
from accountability.demo import HEALTHY_PROGRAM, PAUSED_PROGRAM, STRUGGLING_PROGRAM, build_demo
from accountability.models import Flag, RiskAssessment


@pytest.fixture(autouse=True)
def _debug_and_fast_hashing(settings):
    settings.DEBUG = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def demo(db):
    return build_demo()


@pytest.mark.django_db
def test_demo_trips_every_flag_kind(demo):
    from accountability.scans import scan_organization

    today = timezone.localdate()
    run = scan_organization(organization=demo, as_of=today)
    assert run.errors == []
    flags = Flag.objects.filter(organization=demo).live().select_related("program")
    by_program: dict[str, set[str]] = {}
    for flag in flags:
        by_program.setdefault(flag.program.name, set()).add(flag.kind)
    raised = set().union(*by_program.values())
    assert raised == set(FlagKind.values), f"missing: {set(FlagKind.values) - raised}"
    assert HEALTHY_PROGRAM not in by_program, by_program.get(HEALTHY_PROGRAM)
    risk = {a.program.name: a for a in RiskAssessment.objects.filter(program__organization=demo, as_of=today)}
    assert risk[HEALTHY_PROGRAM].level == RiskLevel.LOW, risk[HEALTHY_PROGRAM].factors
    assert risk[PAUSED_PROGRAM].level == RiskLevel.CRITICAL
    assert risk[STRUGGLING_PROGRAM].level in (RiskLevel.HIGH, RiskLevel.ELEVATED)
