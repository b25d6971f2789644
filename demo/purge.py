"""Delete whole organizations fast: demo and benchmark data are rebuilt with `seed_demo --reset`.

The ORM's cascade cannot do it: measurements and people are PROTECTed (on purpose: a
measured metric is never deleted, a person with work assigned is never deleted), and
the simple-history signals would load and snapshot every row first. Here every
organization-owned table, and the many-to-many tables between them, is emptied of the
organizations' rows with plain DELETEs inside one transaction. "Organization-owned" is
whatever model's QuerySet names an organization path (programs/scoping.py), in any app:
a list of apps here once missed the notifications' rows (emails, nudges, webhooks) and
left the commit failing on their foreign keys. Foreign keys are checked
at commit (Django creates them deferrable), so only the filters need an order: the
deepest tables (attendance → session → forum → program) go first, while their path to
the organization still joins. Snapshot rows in the history tables are left as they are.
"""

from collections.abc import Collection

from django.apps import apps
from django.db import models, transaction

from programs.scoping import organization_path


def _targets() -> list[tuple[type[models.Model], str]]:
    targets: list[tuple[type[models.Model], str]] = []
    for model in apps.get_models():
        path = organization_path(model)
        if path is None:
            continue
        for m2m in model._meta.local_many_to_many:
            through = m2m.remote_field.through
            if through._meta.auto_created:
                fk = m2m.m2m_field_name()
                targets.append((through, fk if path == "pk" else f"{fk}__{path}"))
        targets.append((model, path))
    # Deeper paths first: their joins must still find the parent rows.
    return sorted(targets, key=lambda target: -target[1].count("__"))


def purge_organizations(organization_ids: Collection[int]) -> dict[str, int]:
    """Delete the organizations and every row they own; returns rows deleted per table. Safe to re-run."""
    counts: dict[str, int] = {}
    ids = list(organization_ids)
    if not ids:
        return counts
    with transaction.atomic():
        for model, path in _targets():
            queryset = model._base_manager.filter(**{f"{path}__in": ids})
            deleted = queryset._raw_delete(queryset.db)
            if deleted:
                counts[model._meta.db_table] = deleted
    return counts
