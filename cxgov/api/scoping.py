"""Which organization a row belongs to, read from the model's own scoping path.

Every scoped model's QuerySet names the path to its organization (`organization`,
`program__organization`, `session__forum__program__organization`...). The API uses the
same path to check roles on an object and to keep a write inside one organization.
"""

from django.db import models


def organization_path(model: type[models.Model]) -> str | None:
    """The lookup path from `model` to its Organization, or None for unscoped models."""
    queryset_class = getattr(model._default_manager, "_queryset_class", None)
    return getattr(queryset_class, "organization_path", None)


def related_path(model: type[models.Model]) -> str | None:
    """The select_related path needed to read the organization id without a query."""
    path = organization_path(model)
    if not path or path == "pk":
        return None
    parts = path.split("__")
    return "__".join(parts[:-1]) or None


def organization_id_of(obj: models.Model) -> int | None:
    """The organization id of a row, walking its (select_related) path."""
    path = organization_path(type(obj))
    if path is None:
        return None
    if path == "pk":
        return obj.pk
    parts = path.split("__")
    target = obj
    for part in parts[:-1]:
        target = getattr(target, part)
        if target is None:
            return None
    return getattr(target, f"{parts[-1]}_id")
