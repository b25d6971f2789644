"""A process that raises a high flag and is killed (SIGKILL) the instant its transaction commits.

Run by `test_outbox.py` as `python -m tests.notifications.killed_after_commit <initiative id>`
against the test database. The first on-commit callback registered is the kill, so the
process dies after the commit and before the send tasks queued on commit (by the outbox
writers, registered later) could run. It runs with eager Celery: had it lived on, it
would have sent the emails and the webhook request inline, as it does with `--live`
(the control: the same process, not killed).
"""

import datetime as dt
import os
import signal
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxgov.settings")
django.setup()

from django.db import transaction  # noqa: E402  (after django.setup())

from accountability.choices import FlagKind, Severity, SubjectType  # noqa: E402
from accountability.findings import Finding  # noqa: E402
from accountability.flags import flags_sync  # noqa: E402
from programs.models import Initiative  # noqa: E402

AS_OF = dt.date(2024, 6, 3)


def main(initiative_id: int, *, live: bool) -> None:
    initiative = Initiative.objects.select_related("program__organization").get(pk=initiative_id)
    finding = Finding(
        kind=FlagKind.INITIATIVE_STALLED,
        program_id=initiative.program_id,
        subject_type=SubjectType.INITIATIVE,
        subject_id=initiative.id,
        severity=Severity.HIGH,
        owner_id=initiative.owner_id,
        title=f"{initiative.name} has had no progress update for 75 days",
        detail="Stalled work needs the sponsor's air cover.",
        evidence={"days_since": 75},
    )
    with transaction.atomic():
        if not live:
            transaction.on_commit(lambda: os.kill(os.getpid(), signal.SIGKILL))
        flags_sync(
            organization=initiative.program.organization,
            findings=[finding],
            kinds=[FlagKind.INITIATIVE_STALLED],
            as_of=AS_OF,
        )
    if not live:
        sys.exit("still alive after the commit")  # never reached


if __name__ == "__main__":
    main(int(sys.argv[1]), live="--live" in sys.argv[2:])
