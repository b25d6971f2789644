"""Queue a Celery task by its name, once the current transaction commits.

Services queue the tasks that wrap them by name, never by importing the task module: a
task module imports its services (tasks are thin wrappers), so the reverse import would
be a cycle. The name is the contract, as it is on the broker; an unknown name fails
loudly at the first call, and `tests/test_architecture.py` checks that every name used
is a registered task. With `CELERY_TASK_ALWAYS_EAGER` (no REDIS_URL) the task runs
in-process, as `.delay()` would.
"""

import datetime as dt

from celery import current_app
from django.db import transaction


def queue_task(name: str, *args, eta: dt.datetime | None = None) -> None:
    """Send task `name` with `args` now (at `eta` if given)."""
    current_app.signature(name, args=args).apply_async(eta=eta)


def queue_task_on_commit(name: str, *args, eta: dt.datetime | None = None) -> None:
    """Send task `name` with `args` after the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: queue_task(name, *args, eta=eta))
