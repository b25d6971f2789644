"""The demo's story: Northwind Mutual and its three programs (docs/demo-data.md)."""

import random

from django.db import transaction
from django.utils import timezone

from .healthy import build_healthy
from .paused import build_paused
from .people import build_cast, build_demo_users
from .reach import build_reach
from .struggling import build_struggling


def build_demo(*, today=None, seed: int = 7, users: bool = True):
    """Create Northwind Mutual with its three programs as of `today` (and, with `users`, the demo logins).

    One transaction; not idempotent by itself (the organization's slug is unique): the
    command checks for an existing demo first. The logins carry a known password: callers
    check DEBUG first. Returns the Organization.
    """
    today = today or timezone.localdate()
    rng = random.Random(seed)
    with transaction.atomic():
        cast = build_cast()
        build_healthy(cast, today, rng)
        build_struggling(cast, today, rng)
        build_paused(cast, today, rng)
        build_reach(cast, today)
        if users:
            build_demo_users(cast)
    return cast.organization
