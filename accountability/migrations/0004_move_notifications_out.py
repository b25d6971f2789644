"""Webhooks, deliveries, attempts and the email log leave for the `notifications` app.

The tables are renamed to their new app's names here (a real, rows-kept rename), then the
models leave this app's state; `notifications.0001` adds them to its own state, over the
same tables, without touching the database.
"""

from django.db import migrations

MOVED = {
    "webhook": "notifications_webhook",
    "webhookdelivery": "notifications_webhookdelivery",
    "webhookattempt": "notifications_webhookattempt",
    "notification": "notifications_notification",
}


class Migration(migrations.Migration):
    dependencies = [
        ("accountability", "0003_engine_scanrun_program_ids"),
    ]

    operations = [
        *[migrations.AlterModelTable(name=model, table=table) for model, table in MOVED.items()],
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name="webhookattempt", name="delivery"),
                migrations.RemoveField(model_name="webhookdelivery", name="webhook"),
                migrations.RemoveField(model_name="webhook", name="organization"),
                migrations.RemoveField(model_name="notification", name="organization"),
                migrations.DeleteModel(name="WebhookAttempt"),
                migrations.DeleteModel(name="WebhookDelivery"),
                migrations.DeleteModel(name="Webhook"),
                migrations.DeleteModel(name="Notification"),
            ],
            database_operations=[],
        ),
    ]
