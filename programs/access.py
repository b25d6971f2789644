"""Who may see and do what: organizations and roles of a user or an API key."""

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
