"""The organization's change log: one row per change to a domain record, as people read it.

Written by `programs.changelog` from each snapshot django-simple-history writes (same
transaction), never edited. One table rather than a UNION of the ~25 history tables: a
page of the log is one indexed query whatever the number of tracked models, the filters
(person, key, model, program, dates) are plain indexed columns, and each entry keeps what
it said when it was written (the record's name, the values before and after, the actor's
name), so a later rename or deletion does not rewrite the past. The snapshots stay in the
history tables; `history_id` points back to the one an entry was made from.

`changes` keeps each value as the writer's text ("800000", "2029-04-19", the evidence as
JSON): the API gives it to integrators as it is. People read an entry through
`Change.sentence` (the admin's change log and History pages, the API's `sentence` and its
spreadsheets), which renders each value by its field's type: days as "19 Apr 2029", money
in the organization's currency, choices by label, documents such as a flag's evidence as
"evidence updated" (their own pages read them as sentences).

The references (organization, program, actor) carry no database constraint: the log
outlives what it mentions (a deleted draft program, a deleted key).
"""

import datetime as dt
import re

from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .choices import ChangeAction
from .history import ActorHistoricalModel
from .money import format_day, format_money
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


class ChangeManager(models.Manager.from_queryset(ChangeQuerySet)):
    def get_queryset(self) -> ChangeQuerySet:
        # An entry's sentence shows money in its organization's currency: read with the entry
        # (one join; `values()` leaves it out), never a query per entry.
        return super().get_queryset().select_related("organization")


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

    objects = ChangeManager()

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
    def currency(self) -> str | None:
        """The organization's currency, which money in the entry is shown in (None: the default).
        Read with the entry (`ChangeManager`); a dangling organization id reads as None."""
        if self.organization_id is None:
            return None
        try:
            organization = self.organization
        except ObjectDoesNotExist:
            return None
        return organization.currency if organization is not None else None

    @property
    def actor_name(self) -> str:
        return self.actor_label or "The system"

    @property
    def moment(self) -> str:
        """When, as people read it: "1 Dec 2026, 06:00" (the project's time zone)."""
        return moment_text(self.at)

    @property
    def moves(self) -> list[str]:
        """Each changed field as people read it: "budget from €800,000 to €400,000"."""
        model = _model(self.model)
        return [_field_move(change, model, self._money_currency) for change in self.changes]

    @property
    def _money_currency(self) -> str | None:
        # Asked only of an entry that moved money: another needs no organization at all.
        return self.currency if any(c.get("field") in MONEY_FIELDS for c in self.changes) else None

    @property
    def sentence(self) -> str:
        """The entry for people: "Ana Costa changed the target of Retention from 90 to 85 on 12 Nov 2024".

        The one rendering of an entry (the admin's change log and History pages, the API's
        `sentence` and its spreadsheets): values by their field's type (`shown_value`), the
        record's name and the reason with their dates written out. The stored `changes` stay
        as written, for integrators."""
        what = f"the {self.model_verbose_name} {plain_dates(self.object_repr)}"
        if self.action == ChangeAction.CREATED:
            body = f"created {what}"
        elif self.action == ChangeAction.DELETED:
            body = f"deleted {what}"
        elif len(self.changes) == 1:
            name, model = plain_dates(self.object_repr), _model(self.model)
            body = _one_change(self.changes[0], name, model, self._money_currency)
        elif self.changes:
            body = f"changed {what}: " + "; ".join(self.moves)
        else:
            body = f"changed {what}"
        because = f" ({plain_dates(self.reason)})" if self.reason else ""
        return f"{self.actor_name} {body} on {format_day(self.at)}{because}"


# --- values as people read them -----------------------------------------------------------

# Fields holding money, by name (no field type marks money): shown in the organization's
# currency, "€2,400,000", never the stored "2400000".
MONEY_FIELDS = frozenset({"budget"})
# The writer's text for a reference whose row is gone (`changelog._display`).
_DELETED_REFERENCE = re.compile(r"#[0-9]+ \(deleted\)")
# A day written YYYY-MM-DD inside a text (not the start of a date-time).
_ISO_DAY = re.compile(r"(?<![0-9])[0-9]{4}-[0-9]{2}-[0-9]{2}(?![0-9T])")


def moment_text(value: dt.datetime) -> str:
    """ "1 Dec 2026, 06:00": the day as everywhere (`format_day`), then the time."""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{format_day(local.date())}, {local:%H:%M}"


def plain_dates(text: str) -> str:
    """`text` with each YYYY-MM-DD written as people read it ("escalated by the scan as of 1 Dec 2026")."""
    return _ISO_DAY.sub(lambda match: format_day(match.group()), text or "")


def summarized(field: models.Field | None) -> bool:
    """Whether a field's values are left out of the sentence, which says it was updated:
    documents (a flag's evidence, read as sentences on its own page) and digests."""
    return field is not None and (isinstance(field, models.JSONField) or field.name.endswith("_fingerprint"))


def shown_value(field: models.Field | None, value, currency: str | None = None) -> str:
    """One value of a changed field as people read it, by the field's type: a day as "19 Apr
    2029", a moment as "1 Dec 2026, 06:00", money in `currency`, a choice by its label, a
    reference by its name ("a deleted person" when it is gone); "nothing" for no value.
    `value` is the log's text of it (`changelog._text`): the rule applies to old entries too."""
    if value in (None, ""):
        return "nothing"
    text = str(value)
    if field is None:
        return text
    if field.is_relation:
        if _DELETED_REFERENCE.fullmatch(text):
            return f"a deleted {field.related_model._meta.verbose_name}"
        return text
    if field.choices:
        return next((str(label) for key, label in field.flatchoices if str(key) == text), text)
    if isinstance(field, models.DateTimeField):
        try:
            return moment_text(dt.datetime.fromisoformat(text))
        except ValueError:
            return text
    if isinstance(field, models.DateField):
        return format_day(text)
    if isinstance(field, models.DecimalField) and field.name in MONEY_FIELDS:
        return format_money(text, currency)
    return text


def _model(label: str) -> type[models.Model] | None:
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def _field(model: type[models.Model] | None, name: str | None) -> models.Field | None:
    if model is None or not name:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _one_change(change: dict, name: str, model, currency) -> str:
    label, field = change["label"], _field(model, change.get("field"))
    if change.get("secret"):
        return f"changed the {label} of {name}"
    if summarized(field):
        return f"updated the {label} of {name}"
    old, new = change.get("old"), change.get("new")
    was, now = shown_value(field, old, currency), shown_value(field, new, currency)
    if old in (None, ""):
        return f"set the {label} of {name} to {now}"
    if new in (None, ""):
        return f"cleared the {label} of {name} (was {was})"
    return f"changed the {label} of {name} from {was} to {now}"


def _field_move(change: dict, model, currency) -> str:
    field = _field(model, change.get("field"))
    if change.get("secret"):
        return f"{change['label']} changed"
    if summarized(field):
        return f"{change['label']} updated"
    old, new = (shown_value(field, change.get(side), currency) for side in ("old", "new"))
    return f"{change['label']} from {old} to {new}"
