"""Which organization a row belongs to: the one organization-path walker.

Every organization-owned model's QuerySet names the lookup path to its Organization
(`organization`, `program__organization`, `session__forum__program__organization`, "pk"
for Organization itself); see `programs.models.scoped_queryset`. The API base (roles on
an object, one organization per write, select_related of references), the admin (rights
per object, forms that refuse cross-tenant references) and the demo purge all read that
path through these functions, so the tenant boundary is walked the same way everywhere.
"""

from django.db import models


def organization_path(model: type[models.Model]) -> str | None:
    """The lookup from `model` to its Organization ("pk" for Organization itself), or None
    for models that belong to no organization."""
    queryset_class = getattr(model._default_manager, "_queryset_class", None)
    return getattr(queryset_class, "organization_path", None)


def related_path(model: type[models.Model]) -> str | None:
    """The select_related path that makes `organization_id_of` free of queries, or None
    when the organization id is on the row itself (or the model is unscoped)."""
    path = organization_path(model)
    if not path or path == "pk":
        return None
    return "__".join(path.split("__")[:-1]) or None


def organization_id_of(obj: models.Model | None) -> int | None:
    """The id of the organization a row belongs to, following its model's path.

    Walks attributes: a deep path (session → forum → program) costs a query per hop unless
    the chain was fetched with `select_related(related_path(model))`. None for None, for
    unscoped models and for a broken chain (a null hop).
    """
    if obj is None:
        return None
    path = organization_path(type(obj))
    if path is None:
        return None
    if path == "pk":
        return obj.pk
    *hops, last = path.split("__")
    for hop in hops:
        obj = getattr(obj, hop, None)
        if obj is None:
            return None
    return getattr(obj, f"{last}_id", None)
