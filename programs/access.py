"""Who may see and do what: organizations and roles of a user or an API key."""

from django.conf import settings
from django.db.models import Case, CharField, Value, When
from django.db.models.functions import Concat

from .choices import Role


def organization_ids(user) -> list[int] | None:
    """The organizations the caller belongs to; None means all (superusers)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    api_key = getattr(user, "api_key", None)
    if api_key is not None:
        return [api_key.organization_id]
    if user.is_superuser:
        return None
    cached = getattr(user, "_cxgov_roles", None)
    if cached is None:
        cached = roles(user)
    return list(cached)


def roles(user) -> dict[int, str]:
    """organization id → role, cached on the user object for the request."""
    if user is None or not getattr(user, "is_authenticated", False):
        return {}
    api_key = getattr(user, "api_key", None)
    if api_key is not None:
        return {api_key.organization_id: api_key.role}
    cached = getattr(user, "_cxgov_roles", None)
    if cached is None:
        # Through the user's reverse relation: `models` imports this module, not the reverse.
        cached = dict(user.memberships.values_list("organization_id", "role"))
        user._cxgov_roles = cached
    return cached


def role_in(user, organization_id: int) -> str | None:
    """The caller's role in one organization; superusers act as the program office."""
    if getattr(user, "is_superuser", False) and getattr(user, "api_key", None) is None:
        return Role.OFFICE
    return roles(user).get(organization_id)


def calendar_url_column(user) -> Case | Concat | Value:
    """A person's private calendar feed address as a column of a people query, for `user`:
    the address for a person of an organization where `user` is the program office (which
    hands the addresses out), NULL for everyone else. The one rule of who sees it: the API's
    people list, its detail and its spreadsheets all read this column."""
    address = Concat(
        Value(f"{settings.SITE_URL.rstrip('/')}/calendar/"), "calendar_token", Value(".ics"), output_field=CharField()
    )
    if getattr(user, "is_superuser", False) and getattr(user, "api_key", None) is None:
        return address
    offices = sorted(org for org, role in roles(user).items() if role == Role.OFFICE)
    if not offices:
        return Value(None, output_field=CharField())
    return Case(When(organization_id__in=offices, then=address), default=Value(None), output_field=CharField())
