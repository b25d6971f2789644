"""Signing in through a real OpenID provider, end to end over HTTP (SPEC §5).

A browser is played by `requests`: cxgov's live server sends it to the provider
(oidc-provider on node), the person signs in and consents there, the provider sends it back
with a code, cxgov exchanges it (with PKCE), reads the claims and signs the person in.
"""

import re
from urllib.parse import urljoin

import pytest
import requests

from programs.changes import Change
from programs.models import Membership
from tests.factories import OrganizationFactory, PersonFactory

pytestmark = pytest.mark.django_db(transaction=True)

ANA = {
    "email": "Ana.Costa@example.com",
    "email_verified": True,
    "given_name": "Ana",
    "family_name": "Costa",
}


@pytest.fixture
def oidc(oidc_provider, settings):
    for name, value in oidc_provider.settings().items():
        setattr(settings, name, value)
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, "programs.oidc.OrganizationOIDCBackend"]
    return oidc_provider


def _form_action(page: requests.Response) -> str:
    match = re.search(r'<form[^>]*action="([^"]+)"', page.text)
    assert match, page.text[:2000]
    return urljoin(page.url, match.group(1).replace("&amp;", "&"))


def sign_in(base: str, provider, login: str) -> tuple[requests.Session, requests.Response]:
    """The whole browser round trip; returns the session and the last page."""
    browser = requests.Session()
    page = browser.get(f"{base}/oidc/authenticate/", timeout=10)
    assert page.url.startswith(f"{provider.issuer}/interaction/"), page.url
    page = browser.post(_form_action(page), data={"prompt": "login", "login": login, "password": "pw"}, timeout=10)
    if page.url.startswith(f"{provider.issuer}/interaction/"):  # the consent prompt
        page = browser.post(_form_action(page), data={"prompt": "consent"}, timeout=10)
    return browser, page


def test_the_login_page_offers_the_provider(live_server, oidc):
    page = requests.get(f"{live_server.url}/accounts/login/", timeout=10)
    assert "Sign in with your organization&#x27;s sign-in" in page.text
    assert 'href="/oidc/authenticate/' in page.text


def test_first_sign_in_creates_the_user_membership_and_links_the_person(live_server, oidc):
    acme = OrganizationFactory(slug="acme")
    person = PersonFactory(organization=acme, name="Ana Costa", email="ana.costa@example.com")
    oidc.set_accounts({"ana": {**ANA, "groups": ["acme:office", "unknown-org:office", "acme:nonsense", "staff"]}})

    browser, page = sign_in(live_server.url, oidc, "ana")

    assert page.status_code == 200 and page.url == f"{live_server.url}/dashboard/", page.url
    membership = Membership.objects.select_related("user").get(organization=acme)
    user = membership.user
    assert (membership.role, user.email, user.get_full_name(), user.is_staff) == (
        "office",
        "Ana.Costa@example.com",
        "Ana Costa",
        True,
    )
    person.refresh_from_db()
    assert person.user == user
    # Signed in, with the office's rights: the API answers this browser's session.
    assert browser.get(f"{live_server.url}/api/v1/people/", timeout=10).json()["count"] == 1
    entry = Change.objects.get(model="programs.membership")
    assert entry.sentence.startswith("Ana Costa created the membership ")
    assert entry.reason == "identity provider sign-in"


def test_the_claim_updates_the_role_then_removes_it(live_server, oidc):
    acme = OrganizationFactory(slug="acme")
    globex = OrganizationFactory(slug="globex")
    oidc.set_accounts({"ana": {**ANA, "groups": ["acme:office", "globex:integration"]}})
    sign_in(live_server.url, oidc, "ana")
    assert dict(Membership.objects.values_list("organization__slug", "role")) == {
        "acme": "office",
        "globex": "integration",
    }

    # Next sign-in: executive at acme, nothing at globex any more.
    oidc.set_accounts({"ana": {**ANA, "groups": ["acme:executive"]}})
    _, page = sign_in(live_server.url, oidc, "ana")
    assert page.url == f"{live_server.url}/dashboard/"
    assert dict(Membership.objects.values_list("organization__slug", "role")) == {"acme": "executive"}

    # The claim loses the role: the membership goes, and the sign-in is refused, saying why.
    oidc.set_accounts({"ana": {**ANA, "groups": []}})
    browser, page = sign_in(live_server.url, oidc, "ana")
    assert not Membership.objects.exists()
    assert page.url == f"{live_server.url}/accounts/login/?oidc=refused"
    assert "grants you no role in any organization here" in page.text
    assert browser.get(f"{live_server.url}/api/v1/people/", timeout=10).status_code in (401, 403)
    removed = Change.objects.filter(model="programs.membership", action="-")
    assert removed.count() == 2 and {e.reason for e in removed} == {"identity provider sign-in"}
    assert acme.pk and globex.pk


def test_an_unverified_email_is_refused(live_server, oidc):
    OrganizationFactory(slug="acme")
    oidc.set_accounts({"eve": {**ANA, "email_verified": False, "groups": ["acme:office"]}})
    _, page = sign_in(live_server.url, oidc, "eve")
    assert page.url.startswith(f"{live_server.url}/accounts/login/")
    assert not Membership.objects.exists()
