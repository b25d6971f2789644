"""Role rules of SPEC §2 (Memberships), applied per viewset action.

Every member role reads. Writes need a role listed by the viewset for that action:
`office` may write everything of its organization; `executive` acknowledges flags and
records commitment assessments; `integration` writes measurements, progress updates,
forum sessions, attendance, agenda items and action items. Superusers act as the office
in every organization. The check runs twice: once per request (the caller holds the role
in at least one organization, else 403 before any input is read) and once per object or
per target organization (the role in *that* organization).
"""

from rest_framework import exceptions, permissions

from programs.access import role_in, roles
from programs.choices import Role

OFFICE = frozenset({Role.OFFICE})
OFFICE_EXECUTIVE = frozenset({Role.OFFICE, Role.EXECUTIVE})
OFFICE_INTEGRATION = frozenset({Role.OFFICE, Role.INTEGRATION})
ANY_ROLE = frozenset(Role.values)

READ_ACTIONS = frozenset({"list", "retrieve", "metadata"})


def caller_roles(user) -> set[str]:
    """Every role the caller holds in some organization (superusers: office)."""
    if getattr(user, "is_superuser", False) and getattr(user, "api_key", None) is None:
        return {Role.OFFICE}
    return set(roles(user).values())


def allowed_roles(view, request) -> frozenset[str] | None:
    """Roles allowed for this request's action; None means any member (reads)."""
    action = getattr(view, "action", None)
    rules: dict = getattr(view, "role_rules", {})
    if action in rules:
        return rules[action]
    if request.method in permissions.SAFE_METHODS or action in READ_ACTIONS:
        return None
    return rules.get("write", OFFICE)


def describe(allowed: frozenset[str]) -> str:
    return " or ".join(sorted(allowed))


class RolePermission(permissions.BasePermission):
    """403 unless the caller's role allows the action (401 when not authenticated)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        allowed = allowed_roles(view, request)
        if allowed is None:
            return True
        if caller_roles(user) & allowed:
            return True
        raise exceptions.PermissionDenied(f"This action needs the {describe(allowed)} role.")

    def has_object_permission(self, request, view, obj) -> bool:
        allowed = allowed_roles(view, request)
        if allowed is None:
            return True
        require_role_in(request.user, view.organization_id_of(obj), allowed)
        return True


def require_role_in(user, organization_id: int | None, allowed: frozenset[str]) -> None:
    """403 unless the caller holds one of `allowed` in that organization."""
    if organization_id is None or role_in(user, organization_id) not in allowed:
        raise exceptions.PermissionDenied(f"This action needs the {describe(allowed)} role in this organization.")
