"""Demo data: Northwind Mutual, an insurer with three customer programs, and benchmark-size data.

`build_demo(today=...)` writes the story told in docs/demo-data.md: on `today`, the
governance scan raises every flag kind on the two troubled programs while "Claims
Without Friction" raises none and scores low risk. `build_scale(scale=N)` adds about
N×20 programs across a few organizations, written in bulk, for the benchmarks.

Nothing here runs on import; the `seed_demo` command calls these builders.
"""

DEMO_ORG_NAME = "Northwind Mutual"
DEMO_ORG_SLUG = "northwind-mutual"
# A known password for the two local demo logins. seed_demo refuses to create it unless
# DEBUG is on (or the operator insists with --allow-production).
DEMO_PASSWORD = "northwind-demo"
DEMO_OFFICE_USER = "office@demo"
DEMO_CEO_USER = "ceo@demo"

HEALTHY_PROGRAM = "Claims Without Friction"
STRUGGLING_PROGRAM = "Service Everywhere"
PAUSED_PROGRAM = "Digital First Onboarding"


def build_demo(*, today=None, seed: int = 7, users: bool = True):
    """Create Northwind Mutual with its three programs as of `today` (and, with `users`, the demo logins).

    One transaction; not idempotent by itself (the organization's slug is unique): the
    command checks for an existing demo first. The logins carry a known password: callers
    check DEBUG first. Returns the Organization.
    """
    import random

    from django.db import transaction
    from django.utils import timezone

    from .healthy import build_healthy
    from .paused import build_paused
    from .people import build_cast, build_demo_users
    from .struggling import build_struggling

    today = today or timezone.localdate()
    rng = random.Random(seed)
    with transaction.atomic():
        cast = build_cast()
        build_healthy(cast, today, rng)
        build_struggling(cast, today, rng)
        build_paused(cast, today, rng)
        if users:
            build_demo_users(cast)
    return cast.organization
