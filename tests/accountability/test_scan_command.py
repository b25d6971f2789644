"""`manage.py run_governance_scan`: output, scope and errors."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accountability.models import Flag, ScanRun
from programs.choices import ProgramStatus
from tests.factories import InitiativeFactory, OrganizationFactory, ProgramFactory

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2025, 6, 15)


def run(*args) -> str:
    out = StringIO()
    call_command("run_governance_scan", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def acme():
    organization = OrganizationFactory(name="Acme", slug="acme")
    program = ProgramFactory(
        organization=organization, name="Customer First", status=ProgramStatus.PAUSED, started_on=dt.date(2022, 1, 1)
    )
    InitiativeFactory(program=program, name="Fix billing", starts_on=dt.date(2025, 1, 1), due_on=dt.date(2025, 3, 1))
    return organization


def test_it_prints_counts_each_raised_flag_and_the_risk_per_program(acme):
    output = run("--org", "acme", "--as-of", "2025-06-15")

    run_row = ScanRun.objects.get()
    assert run_row.as_of == AS_OF and run_row.status == "succeeded"
    assert f"Acme (acme) — scan #{run_row.pk} as of 2025-06-15: succeeded" in output
    assert f"{run_row.raised} raised, 0 refreshed, 0 resolved" in output
    assert "+ [high] initiative_overdue (Customer First): Initiative 'Fix billing' is 106 days overdue" in output
    for flag in Flag.objects.all():
        assert f"[{flag.severity}] {flag.kind} (Customer First): {flag.title}" in output
    assert "risk Customer First: 45/100 elevated (program_paused 35, work_stalled 10)" in output


def test_a_second_run_reports_refreshes_and_nothing_raised(acme):
    run("--org", "acme", "--as-of", "2025-06-15")
    output = run("--org", "acme", "--as-of", "2025-06-15")
    assert f"0 raised, {Flag.objects.count()} refreshed, 0 resolved" in output
    assert "+ [" not in output


def test_without_org_every_organization_is_scanned(acme):
    OrganizationFactory(name="Beta", slug="beta")
    output = run("--as-of", "2025-06-15")
    assert "Acme (acme)" in output and "Beta (beta)" in output
    assert ScanRun.objects.count() == 2


def test_without_as_of_it_scans_today(acme):
    from django.utils import timezone

    run("--org", "acme")
    assert ScanRun.objects.get().as_of == timezone.localdate()


def test_an_unknown_slug_is_a_clear_error(acme):
    with pytest.raises(CommandError, match="No organization with slug 'nope'. Known: acme"):
        run("--org", "nope")
    assert not ScanRun.objects.exists()


@pytest.mark.parametrize("bad", ["2025-13-01", "15/06/2025", "yesterday"])
def test_a_bad_date_is_a_clear_error(acme, bad):
    with pytest.raises(CommandError, match="--as-of must be a date as YYYY-MM-DD"):
        run("--org", "acme", "--as-of", bad)
