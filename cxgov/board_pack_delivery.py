"""The monthly board pack by email (SPEC §4): reports (the PDF) meet notifications (the outbox).

Neither app may import the other, so the project composes them here:

- `deliver_all(today)` (beat, daily): from `settings.BOARD_PACK_DAY` of each month on, it
  queues one `deliver_board_pack_task` per organization that has a board recipient still
  without this month's pack. Running daily from that day (rather than on that day only)
  catches up a month whose day was missed (beat down, worker down);
- `deliver_organization(organization_id, today)`: renders the portfolio pack as of `today`
  once and writes one outbox email per active recipient with an address, with the PDF
  attached, under the key `board-pack:<organization id>:<YYYY-MM>`. The outbox's unique
  (key, recipient) makes "once per month and recipient" a database fact; the send happens
  after commit through the outbox (retries, sweep) like every other email.
Both are safe to re-run.
"""

import datetime as dt

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cxgov.queue import queue_task_on_commit
from notifications import mail
from notifications.models import Notification
from programs.models import Organization
from reports.board_pack import data, render

DELIVER_BOARD_PACK_TASK = "cxgov.board_pack_delivery.deliver_board_pack_task"


def board_pack_key(organization_id: int, today: dt.date) -> str:
    return f"board-pack:{organization_id}:{today:%Y-%m}"


def _recipients(organization: Organization) -> list[mail.Recipient]:
    return mail.recipients_of(*(p for p in organization.board_recipients.all() if p.active))


def _missing(organization: Organization, today: dt.date, written: set[tuple[str, str]]) -> list[mail.Recipient]:
    key = board_pack_key(organization.id, today)
    return [r for r in _recipients(organization) if (key, r.email) not in written]


def _written(today: dt.date) -> set[tuple[str, str]]:
    """(key, recipient) of this month's board-pack emails already in the outbox: one query."""
    rows = Notification.objects.filter(key__startswith="board-pack:", key__endswith=f":{today:%Y-%m}")
    return set(rows.values_list("key", "recipient"))


def deliver_all(*, today: dt.date) -> list[int]:
    """Queue the delivery of every organization still owing this month's pack to someone.
    Before the month's day, nothing. Returns the organization ids queued."""
    if today.day < settings.BOARD_PACK_DAY:
        return []
    written = _written(today)
    queued = []
    for organization in Organization.objects.prefetch_related("board_recipients"):
        if _missing(organization, today, written):
            queue_task_on_commit(DELIVER_BOARD_PACK_TASK, organization.id, today.isoformat())
            queued.append(organization.id)
    return queued


def deliver_organization(*, organization_id: int, today: dt.date) -> list[int]:
    """Write this month's board-pack email for each recipient who has not had it; the PDF
    is rendered only when someone is owed it. Returns the ids of the emails queued."""
    organization = Organization.objects.prefetch_related("board_recipients").filter(pk=organization_id).first()
    if organization is None:
        return []
    todo = _missing(organization, today, _written(today))
    if not todo:
        return []
    pack = data.portfolio_board_pack(organization=organization, as_of=today)
    pdf = render.render_pdf(pack)
    email = mail.Email(
        organization_id=organization.id,
        key=board_pack_key(organization.id, today),
        subject=f"Board pack: {organization.name}, {today:%B %Y}",
        recipients=todo,
        template="board_pack",
        context={
            "organization_name": organization.name,
            "as_of": today,
            "program_count": len(pack.programs),
            "severe_count": pack.severe_total,
            "url": f"{settings.SITE_URL.rstrip('/')}/dashboard/board-pack.pdf?organization={organization.id}",
        },
        attachment=(render.filename(pack), pdf, "application/pdf"),
    )
    with transaction.atomic():
        return mail.write([email])


@shared_task(name="cxgov.board_pack_delivery.deliver_all_board_packs_task", soft_time_limit=300, time_limit=360)
def deliver_all_board_packs_task() -> int:
    """Beat's daily entry: fan out one delivery per organization owed this month's pack."""
    return len(deliver_all(today=timezone.localdate()))


@shared_task(name=DELIVER_BOARD_PACK_TASK, soft_time_limit=300, time_limit=360)
def deliver_board_pack_task(organization_id: int, today: str) -> int:
    """Render one organization's pack and write its emails; a second run writes nothing."""
    return len(deliver_organization(organization_id=organization_id, today=dt.date.fromisoformat(today)))
