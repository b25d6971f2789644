"""Who acted: a person's user account or an API key (with the key's creator), as one value.

Every write records its actor (SPEC §2, "Who changed what"). Entry points hand services
whatever they have (`request.user`: a User, the API-key principal of
`programs.authentication`, an anonymous user; or nothing for the scheduled scan);
services turn it into an `Actor` with `Actor.of` and store it in a pair of columns: a
user foreign key and an API-key foreign key (`acknowledged_by` / `acknowledged_by_key`,
`changed_by` / `changed_by_key`...). Two plain foreign keys rather than a generic
relation: each is a real reference the database checks, both filter and join like any
column, and the key's creator is one `select_related` away.
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model

from .history import API_KEY_ATTRIBUTE
from .models import ApiKey


@dataclass(frozen=True)
class Actor:
    """A user or an API key; neither for the system itself (the scheduled scan)."""

    user: object | None = None
    api_key: ApiKey | None = None

    @classmethod
    def of(cls, who) -> "Actor":
        """The actor behind `who`: an Actor, a User, an API-key principal or an ApiKey; anything
        else (None, an anonymous user) is the system."""
        if isinstance(who, Actor):
            return who
        if isinstance(who, ApiKey):
            return cls(api_key=who)
        api_key = getattr(who, "api_key", None)
        if isinstance(api_key, ApiKey):
            return cls(api_key=api_key)
        if isinstance(who, get_user_model()) and who.is_authenticated:
            return cls(user=who)
        return SYSTEM

    @property
    def user_id(self) -> int | None:
        return getattr(self.user, "pk", None)

    @property
    def api_key_id(self) -> int | None:
        return getattr(self.api_key, "pk", None)

    def fields(self, prefix: str) -> dict:
        """The pair of columns naming this actor: `{prefix: user, prefix_key: api key}`."""
        return {prefix: self.user, f"{prefix}_key": self.api_key}

    def __bool__(self) -> bool:
        return self.user is not None or self.api_key is not None

    def __str__(self) -> str:
        return actor_label(self.user, self.api_key)


SYSTEM = Actor()


def user_label(user) -> str:
    """A person's name as the change log shows it: full name, else username."""
    if user is None:
        return ""
    full = user.get_full_name().strip() if hasattr(user, "get_full_name") else ""
    return full or user.get_username()


def actor_label(user, api_key) -> str:
    """'Ana Costa', 'API key “ERP feed” (created by Ana Costa)', or '' for the system."""
    if user is not None:
        return user_label(user)
    if api_key is not None:
        creator = user_label(api_key.created_by) if api_key.created_by_id else ""
        return f"API key “{api_key.name}”" + (f" (created by {creator})" if creator else "")
    return ""


def stamp(instance, actor) -> None:
    """Name `actor` on the history row the next save or delete of `instance` writes (and keep
    the request's principal out of it). Nobody given: the request's principal, if any, stays
    the one named."""
    actor = Actor.of(actor)
    if not actor:
        return
    instance._history_user = actor.user
    setattr(instance, API_KEY_ATTRIBUTE, actor.api_key)
