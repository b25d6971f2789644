"""Queue a Celery task by its name, once the current transaction commits.

Services queue the tasks that wrap them by name, never by importing the task module: a
task module imports its services (tasks are thin wrappers), so the reverse import would
be a cycle. The name is the contract, as it is on the broker; an unknown name raises
KeyError at the first call, and `tests/test_architecture.py` checks that every name used
is a registered task. With `CELERY_TASK_ALWAYS_EAGER` (no REDIS_URL) the task runs
in-process, as `.delay()` would.
"""

import datetime as dt
from functools import cache

from celery import current_app
from django.apps import apps
from django.db import transaction


@cache
def _load_task_modules() -> None:
    # A worker imports every app's tasks.py at start-up; a web process, a shell or a
    # management command does not, and an unregistered name would be sent to the broker
    # even in eager mode. Import them once, the first time a name is missing.
    current_app.loader.autodiscover_tasks([app.name for app in apps.get_app_configs()])


def queue_task(name: str, *args, eta: dt.datetime | None = None) -> None:
    """Send task `name` with `args` now (at `eta` if given)."""
    if name not in current_app.tasks:
        _load_task_modules()
    current_app.tasks[name].apply_async(args, eta=eta)


def queue_task_on_commit(name: str, *args, eta: dt.datetime | None = None) -> None:
    """Send task `name` with `args` after the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: queue_task(name, *args, eta=eta))
