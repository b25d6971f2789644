"""demo/purge.py and `seed_demo --reset`: every app's rows of the demo organizations go, in an
order the database accepts, and nobody else's rows."""

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection

from accountability.models import Flag, ScanRun
from demo import DEMO_ORG_SLUG
from demo.purge import _targets, purge_organizations
from notifications.models import Notification, Nudge, Webhook, WebhookAttempt, WebhookDelivery
from programs.models import ApiKey, Change, Organization
from programs.scoping import organization_path
from tests.factories import (
    ApiKeyFactory,
    FlagFactory,
    OrganizationFactory,
    PersonFactory,
    ProgramFactory,
    WebhookFactory,
)


@pytest.fixture(autouse=True)
def _debug_and_fast_hashing(settings):
    settings.DEBUG = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def check_foreign_keys() -> None:
    """What a real commit checks: the test's transaction never commits, so ask now (SQLite's
    foreign_key_check, PostgreSQL's SET CONSTRAINTS ALL IMMEDIATE); IntegrityError if broken."""
    connection.check_constraints()


def notifications_of(organization: Organization) -> None:
    """An email about a flag, a nudge that sent it, a webhook with a delivery and an attempt."""
    person = PersonFactory(organization=organization)
    flag = FlagFactory(organization=organization, program=ProgramFactory(organization=organization))
    email = Notification.objects.create(organization=organization, key=f"flag:{flag.pk}", subject="x", flag=flag)
    Nudge.objects.create(
        organization=organization,
        person=person,
        key=f"metric_stale:metric:1:{flag.first_detected_on}",
        kind="metric_stale",
        due_on=flag.first_detected_on,
        sent_on=flag.first_detected_on,
        notification=email,
    )
    delivery = WebhookDelivery.objects.create(
        webhook=WebhookFactory(organization=organization), event="flag.raised", payload={}
    )
    WebhookAttempt.objects.create(delivery=delivery, status_code=500)


@pytest.mark.django_db
def test_purge_covers_every_table_with_a_foreign_key_into_a_purged_one():
    """A new organization-owned model in any app is purged without a list to update; this
    fails if a model points (with an enforced foreign key) at purged rows but is not purged."""
    purged = {model for model, _ in _targets()}
    missed = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models(include_auto_created=True)
        for field in model._meta.concrete_fields
        if field.is_relation and field.db_constraint and field.related_model in purged and model not in purged
    ]
    assert missed == []
    assert {Notification, Nudge, Webhook, WebhookDelivery, WebhookAttempt, ApiKey, Change} <= purged


@pytest.mark.django_db
def test_purge_deletes_notifications_and_keeps_the_other_organization():
    doomed, kept = OrganizationFactory(), OrganizationFactory()
    notifications_of(doomed)
    notifications_of(kept)
    ApiKeyFactory(organization=doomed)

    counts = purge_organizations([doomed.pk])
    check_foreign_keys()

    assert counts["notifications_notification"] == 1 and counts["notifications_webhookattempt"] == 1
    assert not Organization.objects.filter(pk=doomed.pk).exists()
    for model in (Notification, Nudge, Webhook, Flag, ApiKey):
        assert not model.objects.filter(**{organization_path(model): doomed.pk}).exists(), model
    assert not WebhookAttempt.objects.filter(delivery__webhook__organization=doomed.pk).exists()
    assert Notification.objects.filter(organization=kept).count() == 1
    assert Nudge.objects.filter(organization=kept).count() == 1
    assert WebhookAttempt.objects.filter(delivery__webhook__organization=kept).count() == 1


@pytest.mark.django_db
def test_seed_demo_reset_after_scans_rebuilds():
    """The audit's case: a scanned demo (flags, emails, nudges) is rebuilt, not an IntegrityError."""
    seed("--scan-history")
    call_command("run_governance_scan", stdout=StringIO())
    first = Organization.objects.get(slug=DEMO_ORG_SLUG).pk
    assert Notification.objects.filter(organization=first).exists()

    output = seed("--reset")
    check_foreign_keys()

    assert "Deleted Northwind Mutual" in output
    org = Organization.objects.get(slug=DEMO_ORG_SLUG)
    assert org.pk != first
    assert not Notification.objects.exclude(organization=org).exists()
    assert not Nudge.objects.exclude(organization=org).exists()
    assert not ScanRun.objects.exclude(organization=org).exists()
    assert not Change.objects.exclude(organization=org).exists()


@pytest.mark.django_db
def test_seed_demo_refuses_reset_with_if_empty():
    seed()
    first = Organization.objects.get(slug=DEMO_ORG_SLUG).pk
    with pytest.raises(CommandError, match="--reset and --if-empty contradict each other"):
        seed("--reset", "--if-empty")
    # Nothing deleted, nothing seeded.
    assert list(Organization.objects.values_list("pk", flat=True)) == [first]
