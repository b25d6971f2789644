"""Snapshots of every domain record, with who wrote them: a user or an API key.

Every domain model declares `history = tracked()` (django-simple-history's
`HistoricalRecords` with our base). simple-history keeps the acting user in
`history_user`; an API key is not a User row, so each historical table also has
`history_api_key`. Both are filled the same way for every write path:

- an explicit actor stamped on the instance (`programs.actors.stamp`, used by services,
  and by simple-history's own `_history_user`), else
- the request in progress (simple-history's middleware keeps it): its user when it is a
  User, its key when it is an API-key principal (`programs.authentication`).

Historical rows outlive what they mention: `history_api_key` has no database constraint
(like simple-history's own snapshot columns), so deleting a key or purging demo data never
touches the evidence; the id stays, the change log keeps the key's name as it was.

The change log (`programs.changelog`) turns each of these rows into a sentence.
"""

from django.contrib.auth import get_user_model
from django.db import models
from django.dispatch import receiver
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

#: Attribute a service sets on an instance to name the API key that acted (None: no key),
#: next to simple-history's `_history_user`. Its presence wins over the request's principal.
API_KEY_ATTRIBUTE = "_history_api_key"
#: Attribute naming the secret fields the next save of an instance changes (`secret_changed`).
SECRETS_CHANGED_ATTRIBUTE = "_history_secrets_changed"


class ActorHistoricalModel(models.Model):
    """Base of every historical model: the API key that acted, when one did."""

    history_api_key = models.ForeignKey(
        "programs.ApiKey",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )

    class Meta:
        abstract = True


def history_user(request=None, **kwargs):
    """simple-history's `get_user`: the request's user only when it is a User row.

    An API key's principal is authenticated but is not a User: it goes to
    `history_api_key` instead (see `_stamp_api_key`)."""
    user = getattr(request, "user", None)
    return user if isinstance(user, get_user_model()) else None


def tracked(**kwargs) -> HistoricalRecords:
    """`HistoricalRecords` for a domain model: snapshots with the acting user or API key."""
    return HistoricalRecords(bases=[ActorHistoricalModel], get_user=history_user, **kwargs)


def secret_changed(instance, *fields: str) -> None:
    """Tell the change log that the next save of `instance` changes `fields`, secrets its
    history leaves out (`tracked(excluded_fields=...)`: neither a secret nor a hash of it is
    evidence). No snapshot can show such a change, so the writer, who saw the old value,
    says so: the entry of that save names each field as changed, with the actor, and never
    a value (`programs.changelog`)."""
    marked = getattr(instance, SECRETS_CHANGED_ATTRIBUTE, ())
    setattr(instance, SECRETS_CHANGED_ATTRIBUTE, (*marked, *fields))


def request_api_key():
    """The API key of the request in progress, or None (no request, or a person's session)."""
    request = getattr(HistoricalRecords.context, "request", None)
    principal = getattr(request, "user", None) if request is not None else None
    return getattr(principal, "api_key", None)


@receiver(pre_create_historical_record)
def _stamp_api_key(sender, instance, history_instance, **kwargs) -> None:
    if not isinstance(history_instance, ActorHistoricalModel):
        return
    if hasattr(instance, API_KEY_ATTRIBUTE):
        history_instance.history_api_key = getattr(instance, API_KEY_ATTRIBUTE)
    elif not hasattr(instance, "_history_user"):
        history_instance.history_api_key = request_api_key()
