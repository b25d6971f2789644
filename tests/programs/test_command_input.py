"""Operator commands refuse bad input with a one-line CommandError and write nothing:
create_organization, create_api_key (the model fields' own validators and lengths) and
run_governance_scan (empty values, dates not written YYYY-MM-DD)."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accountability.models import ScanRun
from programs.models import ApiKey, Organization
from tests.factories import OrganizationFactory

NAME_MAX = Organization._meta.get_field("name").max_length  # 200
SLUG_MAX = Organization._meta.get_field("slug").max_length  # 100
KEY_NAME_MAX = ApiKey._meta.get_field("name").max_length  # 100


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def refused(*args, match: str) -> str:
    """The command's refusal, which must fit on one line."""
    with pytest.raises(CommandError, match=match) as raised:
        run(*args)
    message = str(raised.value)
    assert "\n" not in message
    return message


# --- create_organization -------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("slug", ["bad slug!", "ünïcode", "a/b"])
def test_create_organization_refuses_a_slug_with_other_characters(slug):
    message = refused("create_organization", "Contoso", "--slug", slug, match="--slug: ")
    assert "letters, numbers, underscores or hyphens" in message
    assert not Organization.objects.exists()


@pytest.mark.django_db
def test_create_organization_refuses_an_empty_slug():
    refused("create_organization", "Contoso", "--slug", "", match="--slug is empty")
    assert not Organization.objects.exists()


@pytest.mark.django_db
def test_create_organization_takes_a_name_and_slug_at_their_limits():
    run("create_organization", "N" * NAME_MAX, "--slug", "s" * SLUG_MAX)
    assert Organization.objects.get().slug == "s" * SLUG_MAX


@pytest.mark.django_db
def test_create_organization_refuses_a_name_over_its_column():
    message = refused("create_organization", "N" * (NAME_MAX + 1), "--slug", "n", match="NAME: ")
    assert f"at most {NAME_MAX} characters (it has {NAME_MAX + 1})" in message
    assert not Organization.objects.exists()


@pytest.mark.django_db
def test_create_organization_refuses_a_slug_over_its_column():
    refused(
        "create_organization", "Contoso", "--slug", "s" * (SLUG_MAX + 1), match=f"--slug: .*at most {SLUG_MAX} char"
    )
    # A slug made from a long name is held to the same limit.
    refused("create_organization", "n" * (SLUG_MAX + 1), match=f"^slug made from NAME: .*at most {SLUG_MAX} char")
    assert not Organization.objects.exists()


# --- create_api_key ------------------------------------------------------------------------


@pytest.mark.django_db
def test_create_api_key_takes_a_name_at_its_limit():
    organization = OrganizationFactory()
    run("create_api_key", "--org", organization.slug, "--role", "office", "--name", "k" * KEY_NAME_MAX)
    assert ApiKey.objects.get(organization=organization).name == "k" * KEY_NAME_MAX


@pytest.mark.django_db
def test_create_api_key_refuses_a_name_over_its_column():
    organization = OrganizationFactory()
    message = refused(
        "create_api_key", "--org", organization.slug, "--role", "office", "--name", "k" * 500, match="--name: "
    )
    assert f"at most {KEY_NAME_MAX} characters (it has 500)" in message
    assert not ApiKey.objects.exists()
    assert not ApiKey.history.exists()


# --- run_governance_scan -------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["", " ", "20261130", "2026-W48-1", "2026-11-30T00:00", "2026-1-5", "2026-02-30"])
def test_scan_refuses_an_as_of_not_written_yyyy_mm_dd(value):
    OrganizationFactory()
    refused("run_governance_scan", "--as-of", value, match=r"--as-of must be a date as YYYY-MM-DD")
    assert not ScanRun.objects.exists()


@pytest.mark.django_db
def test_scan_takes_an_as_of_written_yyyy_mm_dd():
    organization = OrganizationFactory()
    day = timezone.localdate() - dt.timedelta(days=3)
    run("run_governance_scan", "--as-of", day.isoformat())
    assert ScanRun.objects.get(organization=organization).as_of == day


@pytest.mark.django_db
def test_scan_keeps_its_range_check():
    OrganizationFactory()
    refused("run_governance_scan", "--as-of", "1899-12-31", match=r"--as-of: A scan's as_of goes from 1900-01-01")
    assert not ScanRun.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["", "  "])
def test_scan_refuses_an_empty_org(value):
    OrganizationFactory()
    refused("run_governance_scan", "--org", value, match="--org is empty")
    assert not ScanRun.objects.exists()


@pytest.mark.django_db
def test_scan_without_org_scans_every_organization_and_with_one_only_it():
    first, second = OrganizationFactory(), OrganizationFactory()
    run("run_governance_scan", "--org", first.slug)
    assert list(ScanRun.objects.values_list("organization", flat=True)) == [first.pk]
    run("run_governance_scan")
    assert sorted(ScanRun.objects.values_list("organization", flat=True)) == sorted([first.pk, first.pk, second.pk])
