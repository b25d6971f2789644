"""Signing in with the organization's identity provider (OpenID Connect, SPEC §5).

mozilla-django-oidc runs the code flow (with PKCE); this module decides who the person
is and what they may do, at every sign-in:

- the user is matched by email (case-insensitive), created on first sign-in;
- their memberships come from one claim (`OIDC_ROLES_CLAIM`, default `groups`): each
  value reads `<organization slug>:<role>`, or is mapped to that by `OIDC_GROUP_MAP`
  (`{"CX-Office": "acme:office"}`) for providers whose group names cannot be chosen.
  Unknown organizations, roles and other values are ignored; two roles for one
  organization keep the wider (office > executive > integration);
- the claim is the source of truth for that user: memberships it grants are created or
  updated, those it no longer grants are removed, each with its history row and
  change-log entry (the user acting, reason "identity provider sign-in");
- a user the claim grants nothing is refused (after losing what they had), unless a
  superuser; the login page says why;
- in each organization granted, the Person with the same email and no account yet is
  linked to the user (the dashboard's "my items" need it).

Off unless `OIDC_RP_CLIENT_ID` is set (settings.OIDC_ENABLED): the views answer 404.
"""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.views import LoginView
from django.db import transaction
from django.http import Http404
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from .actors import stamp
from .choices import Role
from .models import Membership, Organization, Person

logger = logging.getLogger(__name__)

REASON = "identity provider sign-in"
_WIDTH = {Role.INTEGRATION: 1, Role.EXECUTIVE: 2, Role.OFFICE: 3}


def granted_roles(claims: dict) -> dict[str, str]:
    """organization slug → role, from the roles claim (see the module docstring)."""
    values = claims.get(settings.OIDC_ROLES_CLAIM) or []
    if isinstance(values, str):
        values = [values]
    granted: dict[str, str] = {}
    for value in values:
        value = settings.OIDC_GROUP_MAP.get(str(value), str(value))
        slug, _, role = value.rpartition(":")
        if not slug or role not in _WIDTH:
            continue
        if _WIDTH[role] > _WIDTH.get(granted.get(slug), 0):
            granted[slug] = role
    return granted


def sync_memberships(user, claims: dict) -> dict[int, str]:
    """Make the user's memberships what the claim grants; returns organization id → role.

    Safe to re-run: the same claims change nothing the second time."""
    by_slug = granted_roles(claims)
    wanted = dict(Organization.objects.filter(slug__in=by_slug).values_list("id", "slug"))
    wanted = {org_id: by_slug[slug] for org_id, slug in wanted.items()}
    for membership in Membership.objects.filter(user=user):
        role = wanted.get(membership.organization_id)
        if role is None:
            stamp(membership, user)
            membership._change_reason = REASON
            membership.delete()
        elif membership.role != role:
            stamp(membership, user)
            membership._change_reason = REASON
            membership.role = role
            membership.save(update_fields=["role"])
    existing = set(Membership.objects.filter(user=user).values_list("organization_id", flat=True))
    for org_id, role in wanted.items():
        if org_id not in existing:
            membership = Membership(user=user, organization_id=org_id, role=role)
            stamp(membership, user)
            membership._change_reason = REASON
            membership.save()
    _link_people(user, wanted)
    return wanted


def _link_people(user, organization_ids) -> None:
    """Link the Person with the user's email in each organization that has none for the user yet."""
    if not user.email or not organization_ids:
        return
    linked = set(Person.objects.filter(user=user).values_list("organization_id", flat=True))
    candidates = Person.objects.filter(
        organization_id__in=[org for org in organization_ids if org not in linked],
        email__iexact=user.email,
        user__isnull=True,
    ).order_by("organization_id", "id")
    for person in candidates:
        if person.organization_id in linked:
            continue
        stamp(person, user)
        person._change_reason = REASON
        person.user = user
        person.save(update_fields=["user"])
        linked.add(person.organization_id)


class OrganizationOIDCBackend(OIDCAuthenticationBackend):
    """Users by email, memberships from the roles claim, at every sign-in."""

    def verify_claims(self, claims) -> bool:
        # An address the provider says it has not verified could be anyone's.
        return bool(claims.get("email")) and claims.get("email_verified", True) is not False

    def get_username(self, claims) -> str:
        email = claims["email"].lower()
        taken = get_user_model().objects.filter(username__iexact=email).exists()
        return email if not taken else super().get_username(claims)

    def create_user(self, claims):
        user = get_user_model().objects.create_user(self.get_username(claims), email=claims["email"])
        return self.update_user(user, claims)

    @transaction.atomic
    def update_user(self, user, claims):
        # Names first: the change log names the user as the provider does.
        names = {"first_name": claims.get("given_name", ""), "last_name": claims.get("family_name", "")}
        changed = [field for field, value in names.items() if value and getattr(user, field) != value]
        for field in changed:
            setattr(user, field, names[field])
        granted = sync_memberships(user, claims)
        if not user.is_superuser and user.is_staff != bool(granted):
            user.is_staff = bool(granted)  # the admin is where the office works
            changed.append("is_staff")
        if changed:
            user.save(update_fields=changed)
        return user

    def get_or_create_user(self, access_token, id_token, payload):
        user = super().get_or_create_user(access_token, id_token, payload)
        if user is not None and not user.is_superuser and not user.memberships.exists():
            logger.info("OIDC sign-in refused for user %s: the roles claim grants no membership", user.pk)
            return None
        return user


class _WhenEnabled:
    def dispatch(self, request, *args, **kwargs):
        if not settings.OIDC_ENABLED:
            raise Http404("Signing in with an identity provider is not configured.")
        return super().dispatch(request, *args, **kwargs)


class SignInStartView(_WhenEnabled, OIDCAuthenticationRequestView):
    """Sends the browser to the identity provider (404 when OIDC is off)."""


class SignInCallbackView(_WhenEnabled, OIDCAuthenticationCallbackView):
    """Where the provider sends the browser back with a code (404 when OIDC is off)."""


class SignInView(LoginView):
    """The password form, offering the identity provider when one is configured."""

    def get_context_data(self, **kwargs) -> dict:
        return {
            **super().get_context_data(**kwargs),
            "oidc_enabled": settings.OIDC_ENABLED,
            "oidc_provider_name": settings.OIDC_PROVIDER_NAME,
            "oidc_refused": self.request.GET.get("oidc") == "refused",
        }
