"""The monthly board pack by email: a real send through the outbox (locmem backend)."""

import datetime as dt
import io

import pytest
from pypdf import PdfReader

from cxgov import board_pack_delivery
from cxgov.celery import app as celery_app
from notifications.models import Notification
from tests.factories import OrganizationFactory, PersonFactory, ProgramFactory, UserFactory


@pytest.fixture
def board(settings):
    settings.BOARD_PACK_DAY = 5
    organization = OrganizationFactory(name="Northwind Mutual")
    ProgramFactory(organization=organization, name="Service Renewal", started_on=dt.date(2025, 1, 1))
    chair = PersonFactory(organization=organization, name="Board Chair", email="chair@example.com")
    member = PersonFactory(organization=organization, name="Board Member", email="member@example.com")
    no_email = PersonFactory(organization=organization, email="")
    gone = PersonFactory(organization=organization, email="gone@example.com", active=False)
    organization.board_recipients.set([chair, member, no_email, gone])
    # Another organization with no recipient: nothing to send.
    ProgramFactory(organization=OrganizationFactory(name="Other Co"))
    return organization


@pytest.mark.django_db(transaction=True)
def test_monthly_pack_sent_once_per_month_and_recipient(board, mailoutbox):
    # Before the month's day: nothing.
    assert board_pack_delivery.deliver_all(today=dt.date(2026, 3, 4)) == []
    assert mailoutbox == [] and not Notification.objects.exists()

    # On the day: one email per active recipient with an address, the PDF attached.
    assert board_pack_delivery.deliver_all(today=dt.date(2026, 3, 5)) == [board.id]
    assert sorted(m.to[0] for m in mailoutbox) == [
        "Board Chair <chair@example.com>",
        "Board Member <member@example.com>",
    ]
    message = mailoutbox[0]
    assert message.subject == "Board pack: Northwind Mutual, March 2026"
    ((name, content, mimetype),) = message.attachments
    assert mimetype == "application/pdf" and name.endswith("-portfolio-2026-03-05.pdf")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    assert "Northwind Mutual" in text and "Service Renewal" in text and "5 March 2026" in text
    rows = Notification.objects.filter(key=f"board-pack:{board.id}:2026-03")
    assert rows.count() == 2 and set(rows.values_list("status", flat=True)) == {"sent"}

    # Later the same month, again: nothing more (not twice in a month).
    assert board_pack_delivery.deliver_all(today=dt.date(2026, 3, 5)) == []
    assert board_pack_delivery.deliver_all(today=dt.date(2026, 3, 31)) == []
    assert board_pack_delivery.deliver_organization(organization_id=board.id, today=dt.date(2026, 3, 20)) == []
    assert len(mailoutbox) == 2

    # A recipient added mid-month gets this month's pack; the others do not get it again.
    late = PersonFactory(organization=board, name="Late Member", email="late@example.com")
    board.board_recipients.add(late)
    assert board_pack_delivery.deliver_all(today=dt.date(2026, 3, 31)) == [board.id]
    assert [m.to[0] for m in mailoutbox[2:]] == ["Late Member <late@example.com>"]

    # Next month, from its day: everyone once more.
    assert board_pack_delivery.deliver_all(today=dt.date(2026, 4, 4)) == []
    assert board_pack_delivery.deliver_all(today=dt.date(2026, 4, 5)) == [board.id]
    assert len(mailoutbox) == 6
    assert Notification.objects.filter(key=f"board-pack:{board.id}:2026-04", status="sent").count() == 3


def test_beat_runs_the_delivery_daily_with_an_expiry():
    entry = celery_app.conf.beat_schedule["monthly-board-pack"]
    assert entry["task"] == "cxgov.board_pack_delivery.deliver_all_board_packs_task"
    assert entry["task"] in celery_app.tasks and board_pack_delivery.DELIVER_BOARD_PACK_TASK in celery_app.tasks
    assert 0 < entry["options"]["expires"] <= 24 * 3600


@pytest.mark.django_db
def test_admin_lists_board_pack_emails_without_loading_the_pdf(client, django_assert_max_num_queries):
    organization = OrganizationFactory()
    row = Notification.objects.create(
        organization=organization,
        key=f"board-pack:{organization.id}:2026-03",
        recipient="chair@example.com",
        subject="Board pack",
        attachment_name="board-pack.pdf",
        attachment=b"%PDF-1.7 " + b"x" * 100_000,
        attachment_type="application/pdf",
    )
    admin = UserFactory(is_superuser=True, is_staff=True)
    client.force_login(admin)
    with django_assert_max_num_queries(12) as ctx:
        assert client.get("/admin/notifications/notification/").status_code == 200
    assert not any('"attachment"' in q["sql"] and "SELECT" in q["sql"] for q in ctx.captured_queries)
    page = client.get(f"/admin/notifications/notification/{row.pk}/change/")
    assert page.status_code == 200 and b"board-pack.pdf" in page.content
