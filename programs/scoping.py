"""Which organization a row belongs to: the one organization-path walker.

Every organization-owned model's QuerySet names the lookup path to its Organization
(`organization`, `program__organization`, `initiative__program__organization`, "pk"
for Organization itself), and, where that path skips the program (a measurement, an
attendance row carry their organization), the path to its Program; see
`scoped_queryset` below. The API base (roles on
an object, one organization per write, select_related of references), the admin (rights
per object, forms that refuse cross-tenant references) and the demo purge all read that
path through these functions, so the tenant boundary is walked the same way everywhere.
"""

from django.db import models

from . import access


class OrganizationScopedQuerySet(models.QuerySet):
    """`for_user` scopes any organization-owned model; subclasses name the path."""

    organization_path = "organization"
    program_path: str | None = None  # see `program_path()`

    def for_organizations(self, organization_ids) -> "OrganizationScopedQuerySet":
        return self.filter(**{f"{self.organization_path}__in": organization_ids})

    def for_user(self, user) -> "OrganizationScopedQuerySet":
        """Rows of the organizations the user (or API key) belongs to; all for superusers."""
        ids = access.organization_ids(user)
        return self if ids is None else self.for_organizations(ids)


def scoped_queryset(path: str, *, program: str | None = None) -> type[OrganizationScopedQuerySet]:
    """A QuerySet class scoped by `path`; `program` names the lookup to the row's Program
    where the path does not pass through it (a measurement carries its organization)."""
    attributes = {"organization_path": path, "program_path": program}
    return type(f"ScopedBy_{path}", (OrganizationScopedQuerySet,), attributes)


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


def program_path(model: type[models.Model]) -> str | None:
    """The lookup from `model` to its Program ("pk" for Program itself), or None for rows
    of the organization as a whole (people, keys, webhooks...).

    The path the model's QuerySet names where its organization path skips the program (a
    measurement carries its organization: `metric__program`); else derived from the
    organization path (`…__program__organization` → `…__program`), or a direct `program`
    reference on an organization-scoped row (a flag).
    """
    if model._meta.label_lower == "programs.program":
        return "pk"
    queryset_class = getattr(model._default_manager, "_queryset_class", None)
    if getattr(queryset_class, "program_path", None):
        return queryset_class.program_path
    path = organization_path(model)
    if path is None:
        return None
    if path.endswith("program__organization"):
        return path.removesuffix("__organization")
    field = next((f for f in model._meta.fields if f.name == "program" and f.is_relation), None)
    return "program" if field is not None else None


def carry_organization(instance: models.Model) -> None:
    """Give a row that carries its organization (a measurement, an attendance row, an agenda
    item, a progress update: docs/performance.md) its program's, when its writer did not.

    Writers in bulk set the column with the row; one saved at a time (the API, the admin, a
    spreadsheet, a fixture) calls this from its `save`: one query along the model's program
    path (`metric__program`, `session__forum__program`, `initiative__program`). A program
    never changes organization, so the copy stays right.
    """
    if instance.organization_id is not None:
        return
    parent, _, rest = program_path(type(instance)).partition("__")
    parent_id = getattr(instance, f"{parent}_id")
    if parent_id is None:
        return
    parents = type(instance)._meta.get_field(parent).related_model._base_manager
    instance.organization_id = parents.filter(pk=parent_id).values_list(f"{rest}__organization_id", flat=True).get()
