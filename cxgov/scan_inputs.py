"""Inputs several rules share, read once per scan.

Sponsor presence, forum adherence (cancellations), in-flight work, metric freshness and
forum lapses are each read by a detector and again by the risk assessment or the
nudges. Inside `read_once_per_scan()` (the scan opens it) the selectors marked
`@shared_per_scan` answer a repeated question from the first answer; outside it they
read the database every time, so the dashboard, the API and the board pack always see
the current data. The scan writes flags, risk and notifications only, never the
sessions, initiatives or measurements these read, so the first answer stays true for
the whole scan.
"""

import copy
import functools
import inspect
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

from django.utils.hashable import make_hashable

_answers: ContextVar[dict | None] = ContextVar("cxgov_scan_inputs", default=None)

F = TypeVar("F", bound=Callable)


@contextmanager
def read_once_per_scan() -> Iterator[None]:
    token = _answers.set({})
    try:
        yield
    finally:
        _answers.reset(token)


def _key(fn: Callable, signature: inspect.Signature, args: tuple, kwargs: dict):
    arguments = signature.bind(*args, **kwargs).arguments
    # A set of program ids asks the same question in any order.
    frozen = {
        name: frozenset(value) if name == "program_ids" and isinstance(value, Collection) else value
        for name, value in arguments.items()
    }
    return fn.__module__, fn.__qualname__, make_hashable(frozen)


def shared_per_scan(fn: F) -> F:
    """Answer a repeated call (same arguments) from the first one inside a scan."""
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        answers = _answers.get()
        if answers is None:
            return fn(*args, **kwargs)
        try:
            key = _key(fn, signature, args, kwargs)
        except TypeError:  # an argument that cannot be a key: ask the database
            return fn(*args, **kwargs)
        if key not in answers:
            answers[key] = fn(*args, **kwargs)
        # A shallow copy: a caller adding to its dict or list never changes the next one's.
        return copy.copy(answers[key])

    return wrapper  # type: ignore[return-value]
