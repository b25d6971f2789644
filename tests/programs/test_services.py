import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from programs.models import ApiKey, Initiative
from programs.services import (
    api_key_create,
    api_key_revoke,
    organization_create,
    progress_update_create,
)
from tests.factories import InitiativeFactory, OrganizationFactory, PersonFactory

pytestmark = pytest.mark.django_db


class TestProgressUpdates:
    def test_latest_update_sets_the_initiative_percent(self):
        initiative = InitiativeFactory(percent_complete=0)
        progress_update_create(
            initiative=initiative,
            author=initiative.owner,
            reported_on=dt.date(2024, 3, 1),
            rag="amber",
            percent_complete=40,
        )
        assert Initiative.objects.get(pk=initiative.pk).percent_complete == 40
        assert Initiative.objects.with_last_update().get(pk=initiative.pk).last_update_on == dt.date(2024, 3, 1)

    def test_a_late_report_of_an_older_date_does_not_rewind_progress(self):
        initiative = InitiativeFactory(percent_complete=0)
        progress_update_create(
            initiative=initiative,
            author=initiative.owner,
            reported_on=dt.date(2024, 3, 1),
            rag="green",
            percent_complete=60,
        )
        progress_update_create(
            initiative=initiative,
            author=initiative.owner,
            reported_on=dt.date(2024, 2, 1),
            rag="amber",
            percent_complete=30,
        )
        initiative.refresh_from_db()
        assert initiative.percent_complete == 60
        assert initiative.last_update_on == dt.date(2024, 3, 1)

    def test_author_of_another_organization_refused(self):
        initiative = InitiativeFactory()
        with pytest.raises(ValidationError, match="organization"):
            progress_update_create(
                initiative=initiative,
                author=PersonFactory(),
                reported_on=dt.date(2024, 3, 1),
                rag="red",
                percent_complete=10,
            )
        assert not initiative.updates.exists()


class TestApiKeys:
    def test_only_the_hash_is_stored_and_the_raw_key_is_returned_once(self):
        org = OrganizationFactory()
        key, raw = api_key_create(organization=org, name="CRM sync", role="integration")
        stored = ApiKey.objects.get(pk=key.pk)
        assert raw.startswith("cxg_") and len(raw) > 40
        assert stored.key_hash == ApiKey.hash(raw) and raw not in (stored.key_hash, stored.key_prefix)
        assert stored.key_prefix == raw[:10]

    def test_unknown_role_refused(self):
        with pytest.raises(ValidationError, match="Role"):
            api_key_create(organization=OrganizationFactory(), name="x", role="admin")

    def test_revoke_is_idempotent(self):
        key, _ = api_key_create(organization=OrganizationFactory(), name="x", role="office")
        first = api_key_revoke(key=key).revoked_at
        assert first is not None
        assert api_key_revoke(key=key).revoked_at == first


def test_organization_slug_is_unique_and_derived_from_the_name():
    org = organization_create(name="Northwind Mutual")
    assert org.slug == "northwind-mutual"
    with pytest.raises(ValidationError, match="already exists"):
        organization_create(name="Northwind Mutual")
