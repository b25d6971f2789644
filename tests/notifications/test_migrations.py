"""notifications.0002 turns the email log into an outbox: the emails of version 1 arrive sent."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from notifications import outbox
from notifications.models import Notification

BEFORE = [("notifications", "0001_initial")]


def migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


@pytest.mark.django_db(transaction=True)
def test_emails_sent_by_version_1_migrate_as_sent_and_are_never_sent_again(mailoutbox):
    executor = migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps
        organization = old.get_model("programs", "Organization").objects.create(name="Acme", slug="acme")
        sent_at = dt.datetime(2024, 5, 27, 7, 0, tzinfo=dt.UTC)
        old.get_model("notifications", "Notification").objects.create(
            organization=organization,
            key="digest:1:2024-W22",
            recipient="dana@example.com",
            subject="[cxgov] Weekly digest",
            sent_at=sent_at,
        )
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    row = Notification.objects.get()
    assert (row.status, row.sent_at, row.created_at, row.attempt_count, row.next_attempt_at) == (
        "sent",
        sent_at,
        sent_at,
        1,
        None,
    )
    assert (row.key, row.recipient, row.subject, row.body_text) == (
        "digest:1:2024-W22",
        "dana@example.com",
        "[cxgov] Weekly digest",
        "",
    )
    assert outbox.sweep() == {"emails": 0, "webhooks": 0}
    assert mailoutbox == []
    # New rows default to pending: the outbox's normal life.
    assert Notification._meta.get_field("status").default == "pending"
