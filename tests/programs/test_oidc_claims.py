"""The roles claim → memberships mapping, and OIDC switched off (no provider needed)."""

import pytest

from programs.models import Membership
from programs.oidc import granted_roles, sync_memberships
from tests.factories import MembershipFactory, OrganizationFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_claim_values_name_an_organization_and_a_role(settings):
    claims = {"groups": ["acme:executive", "acme:office", "globex:integration", "acme:admin", "staff", ":office"]}
    assert granted_roles(claims) == {"acme": "office", "globex": "integration"}
    settings.OIDC_GROUP_MAP = {"CX-Office": "acme:office"}
    assert granted_roles({"groups": "CX-Office"}) == {"acme": "office"}
    settings.OIDC_ROLES_CLAIM = "roles"
    assert granted_roles({"groups": ["acme:office"], "roles": ["acme:executive"]}) == {"acme": "executive"}


def test_sync_creates_updates_and_removes_and_is_safe_to_re_run():
    acme, globex, initech = (OrganizationFactory(slug=s) for s in ("acme", "globex", "initech"))
    user = UserFactory(email="ana@example.com")
    MembershipFactory(user=user, organization=acme, role="integration")
    MembershipFactory(user=user, organization=initech, role="office")
    person = PersonFactory(organization=globex, email="ANA@example.com")
    claims = {"groups": ["acme:office", "globex:executive"]}
    assert sync_memberships(user, claims) == {acme.pk: "office", globex.pk: "executive"}
    assert dict(Membership.objects.filter(user=user).values_list("organization__slug", "role")) == {
        "acme": "office",
        "globex": "executive",
    }
    person.refresh_from_db()
    assert person.user == user
    history = Membership.history.count()
    sync_memberships(user, claims)
    assert Membership.history.count() == history


def test_with_oidc_off_the_login_page_offers_no_provider_and_its_urls_are_404(client, settings):
    assert settings.OIDC_ENABLED is False
    page = client.get("/accounts/login/")
    assert page.status_code == 200 and "Sign in with" not in page.content.decode()
    assert client.get("/oidc/authenticate/").status_code == 404
    assert client.get("/oidc/callback/?code=x&state=y").status_code == 404
