"""The organization's change log: one row per change to a domain record, as people read it.

Written by `programs.changelog` from each snapshot django-simple-history writes (same
transaction), never edited. One table rather than a UNION of the ~25 history tables: a
page of the log is one indexed query whatever the number of tracked models, the filters
(person, key, model, program, dates) are plain indexed columns, and each entry keeps what
it said when it was written (the record's name, the values before and after, the actor's
name), so a later rename or deletion does not rewrite the past. The snapshots stay in the
history tables; `history_id` points back to the one an entry was made from.

The references (organization, program, actor) carry no database constraint: the log
outlives what it mentions (a deleted draft program, a deleted key).
"""

from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.models import Q

from .choices import ChangeAction
from .history import ActorHistoricalModel
from .scoping import scoped_queryset

# No constraint (an entry outlives what it names) and no index of its own: each reference
# leads one of the Meta indexes below, which answer its lookups; four more indexes cost a
# bulk ingest's 10,000 entries a third of their insert.
_LOOSE = {
    "null": True,
    "blank": True,
    "on_delete": models.DO_NOTHING,
    "db_constraint": False,
    "db_index": False,
    "related_name": "+",
}
# Longest text of one value in an entry: the snapshot keeps the whole value.
VALUE_CHARS = 200


class ChangeQuerySet(scoped_queryset("organization")):
    def for_model_names(self, names) -> "ChangeQuerySet":
        """`metric`, `metrics.metric`: a model's name or its label."""
        labels = {name if "." in name else label_of(name) for name in names}
        return self.filter(model__in=labels)


def tracked_models() -> list[type[models.Model]]:
    """Every model whose history (and so whose changes) the log keeps."""
    found = []
    for model in apps.get_models():
        manager = getattr(model._meta, "simple_history_manager_attribute", None)
        if manager and issubclass(getattr(model, manager).model, ActorHistoricalModel):
            found.append(model)
    return found


def model_choices() -> list[tuple[str, str]]:
    """The log's `model` filter values: each tracked model by name (`metric`) and by the
    label entries show (`metrics.metric`)."""
    names = [(m._meta.model_name, str(m._meta.verbose_name)) for m in tracked_models()]
    labels = [(m._meta.label_lower, str(m._meta.verbose_name)) for m in tracked_models()]
    return sorted(names) + sorted(labels)


def label_of(model_name: str) -> str:
    """`metric` → `metrics.metric` (model names are unique across cxgov's apps)."""
    for model in apps.get_models():
        if model._meta.model_name == model_name:
            return model._meta.label_lower
    return model_name


class Change(models.Model):
    organization = models.ForeignKey("programs.Organization", **_LOOSE)
    program = models.ForeignKey("programs.Program", **_LOOSE)
    model = models.CharField(max_length=100, help_text="The record's model, e.g. metrics.metric.")
    object_id = models.PositiveBigIntegerField()
    object_repr = models.CharField(max_length=300, help_text="The record's name when it changed.")
    action = models.CharField(max_length=1, choices=ChangeAction.choices)
    changes = models.JSONField(
        default=list, blank=True, help_text="For a change: each field with its label and old and new values, as text."
    )
    reason = models.TextField(blank=True)
    actor_user = models.ForeignKey(settings.AUTH_USER_MODEL, **_LOOSE)
    actor_api_key = models.ForeignKey("programs.ApiKey", **_LOOSE)
    actor_label = models.CharField(max_length=300, blank=True, help_text="Who acted, as named then.")
    history_id = models.PositiveBigIntegerField(help_text="The snapshot in the model's history table.")
    at = models.DateTimeField()

    objects = ChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [models.UniqueConstraint(fields=["model", "history_id"], name="change_one_per_snapshot")]
        indexes = [
            models.Index(fields=["organization", "-at", "-id"], name="change_org_at"),
            models.Index(fields=["program", "-at"], name="change_program_at"),
            models.Index(fields=["actor_user", "-at"], condition=Q(actor_user__isnull=False), name="change_user_at"),
            models.Index(
                fields=["actor_api_key", "-at"], condition=Q(actor_api_key__isnull=False), name="change_key_at"
            ),
        ]

    def __str__(self) -> str:
        return self.sentence

    @property
    def model_verbose_name(self) -> str:
        try:
            return str(apps.get_model(self.model)._meta.verbose_name)
        except (LookupError, ValueError):
            return self.model.rsplit(".", 1)[-1]

    @property
    def sentence(self) -> str:
        """The entry for people: "Ana Costa changed the target of Retention from 90 to 85 on 12 Nov 2024"."""
        who = self.actor_label or "The system"
        what = f"the {self.model_verbose_name} {self.object_repr}"
        if self.action == ChangeAction.CREATED:
            body = f"created {what}"
        elif self.action == ChangeAction.DELETED:
            body = f"deleted {what}"
        elif len(self.changes) == 1:
            body = _one_change(self.changes[0], self.object_repr)
        elif self.changes:
            body = f"changed {what}: " + "; ".join(_field_move(c) for c in self.changes)
        else:
            body = f"changed {what}"
        when = f"on {self.at.day} {self.at:%b %Y}"
        because = f" ({self.reason})" if self.reason else ""
        return f"{who} {body} {when}{because}"


def _one_change(change: dict, name: str) -> str:
    label, old, new = change["label"], change.get("old"), change.get("new")
    if change.get("secret"):
        return f"changed the {label} of {name}"
    if old in (None, ""):
        return f"set the {label} of {name} to {new}"
    if new in (None, ""):
        return f"cleared the {label} of {name} (was {old})"
    return f"changed the {label} of {name} from {old} to {new}"


def _field_move(change: dict) -> str:
    if change.get("secret"):
        return f"{change['label']} changed"
    old, new = (change.get(side) for side in ("old", "new"))
    return f"{change['label']} from {_shown(old)} to {_shown(new)}"


def _shown(value) -> str:
    return "nothing" if value in (None, "") else str(value)
