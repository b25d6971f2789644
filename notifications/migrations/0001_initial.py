"""Webhooks, their deliveries and attempts, and the email log move here from `accountability`.

State only: `accountability.0004` renamed their tables to `notifications_*` and removed
them from its state; here they enter this app's state over the same tables, rows kept.
The content types (and so the permissions) follow the models.
"""

import django.db.models.deletion
import django.utils.timezone
import uuid
from django.db import migrations, models

MOVED = ["webhook", "webhookdelivery", "webhookattempt", "notification"]


def move_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="accountability", model__in=MOVED).update(app_label="notifications")


def restore_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="notifications", model__in=MOVED).update(app_label="accountability")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('programs', '0001_initial'),
        ('accountability', '0004_move_notifications_out'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Webhook',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('url', models.URLField(max_length=500)),
                        ('secret', models.CharField(max_length=200)),
                        ('events', models.JSONField(default=list, help_text='Any of flag.raised, flag.resolved, risk.level_changed.')),
                        ('active', models.BooleanField(default=True)),
                        ('consecutive_failures', models.PositiveIntegerField(default=0)),
                        ('disabled_reason', models.TextField(blank=True)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='webhooks', to='programs.organization')),
                    ],
                    options={
                        'ordering': ['organization', 'url'],
                    },
                ),
                migrations.CreateModel(
                    name='WebhookDelivery',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('event_id', models.UUIDField(default=uuid.uuid4)),
                        ('event', models.CharField(max_length=40)),
                        ('payload', models.JSONField()),
                        ('status', models.CharField(choices=[('pending', 'Pending'), ('delivered', 'Delivered'), ('failed', 'Failed (gave up)')], default='pending', max_length=20)),
                        ('attempt_count', models.PositiveIntegerField(default=0)),
                        ('next_attempt_at', models.DateTimeField(blank=True, null=True)),
                        ('delivered_at', models.DateTimeField(blank=True, null=True)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('webhook', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='notifications.webhook')),
                    ],
                    options={
                        'verbose_name_plural': 'webhook deliveries',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='WebhookAttempt',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('attempted_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('status_code', models.PositiveSmallIntegerField(blank=True, null=True)),
                        ('duration_ms', models.PositiveIntegerField(default=0)),
                        ('error', models.TextField(blank=True)),
                        ('delivery', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='attempts', to='notifications.webhookdelivery')),
                    ],
                    options={
                        'ordering': ['-attempted_at'],
                    },
                ),
                migrations.CreateModel(
                    name='Notification',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('key', models.CharField(help_text='What the email was about, e.g. flag:12:raised.', max_length=200)),
                        ('recipient', models.EmailField(max_length=254)),
                        ('subject', models.CharField(max_length=300)),
                        ('sent_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to='programs.organization')),
                    ],
                    options={
                        'ordering': ['-sent_at'],
                        'constraints': [models.UniqueConstraint(fields=('key', 'recipient'), name='notification_once_per_key')],
                    },
                ),
                migrations.AddIndex(
                    model_name='webhookdelivery',
                    index=models.Index(condition=models.Q(('status', 'pending')), fields=['next_attempt_at'], name='delivery_pending_due'),
                ),
                migrations.AddConstraint(
                    model_name='webhookdelivery',
                    constraint=models.UniqueConstraint(fields=('webhook', 'event_id'), name='delivery_one_per_event'),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, restore_content_types),
    ]
