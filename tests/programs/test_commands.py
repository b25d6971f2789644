"""Operator commands: create_organization and create_api_key."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from programs.models import ApiKey, Organization


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_create_organization_prints_id_and_slug():
    output = run("create_organization", "Northwind Mutual")
    organization = Organization.objects.get(slug="northwind-mutual")
    assert organization.name == "Northwind Mutual"
    assert f"id {organization.pk}" in output
    assert "slug northwind-mutual" in output


@pytest.mark.django_db
def test_create_organization_with_explicit_slug():
    run("create_organization", "Contoso Insurance", "--slug", "contoso")
    assert Organization.objects.filter(slug="contoso", name="Contoso Insurance").exists()


@pytest.mark.django_db
def test_create_organization_refuses_a_duplicate_slug():
    run("create_organization", "Contoso", "--slug", "contoso")
    with pytest.raises(CommandError, match="slug 'contoso' already exists"):
        run("create_organization", "Contoso Two", "--slug", "contoso")
    assert Organization.objects.filter(slug="contoso").count() == 1


@pytest.mark.django_db
def test_create_organization_refuses_a_name_without_letters():
    with pytest.raises(CommandError, match="Give a slug"):
        run("create_organization", "!!!")


@pytest.mark.django_db
def test_create_api_key_prints_the_raw_key_once(organization):
    output = run("create_api_key", "--org", organization.slug, "--role", "integration", "--name", "CRM sync")
    key = ApiKey.objects.get(organization=organization, name="CRM sync")
    raw = next(line for line in output.splitlines() if line.startswith(ApiKey.PREFIX))
    assert ApiKey.hash(raw) == key.key_hash
    assert key.role == "integration"
    assert "will not be shown again" in output
    assert output.count(raw) == 1


@pytest.mark.django_db
def test_create_api_key_refuses_an_unknown_organization():
    with pytest.raises(CommandError, match="No organization with slug 'nope'"):
        run("create_api_key", "--org", "nope", "--role", "office", "--name", "x")
    assert not ApiKey.objects.exists()


@pytest.mark.django_db
def test_create_api_key_refuses_an_unknown_role(organization):
    with pytest.raises(CommandError, match="Unknown role 'admin'"):
        run("create_api_key", "--org", organization.slug, "--role", "admin", "--name", "x")
    assert not ApiKey.objects.exists()
