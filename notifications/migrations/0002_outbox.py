"""Notifications become an outbox: a row is an email to send, written with the change that
calls for it, then sent and marked sent.

Every row of version 1 is an email already sent (a row was only kept when its send
succeeded): it arrives `sent`, with one attempt and `created_at` = its `sent_at`. The
bodies of those emails were never stored and stay empty.
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models
from django.db.models import F


def mark_version_1_rows_sent(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    Notification.objects.update(created_at=F("sent_at"), attempt_count=1)


class Migration(migrations.Migration):

    dependencies = [
        ('accountability', '0004_move_notifications_out'),
        ('notifications', '0001_initial'),
        ('programs', '0001_initial'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='notification',
            options={'ordering': ['-created_at']},
        ),
        migrations.AddField(
            model_name='notification',
            name='attempt_count',
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='notification',
            name='body_html',
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name='notification',
            name='body_text',
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name='notification',
            name='created_at',
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AddField(
            model_name='notification',
            name='flag',
            field=models.ForeignKey(blank=True, help_text='For a flag alert: not sent if the flag is closed before it goes out.', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to='accountability.flag'),
        ),
        migrations.AddField(
            model_name='notification',
            name='last_error',
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name='notification',
            name='next_attempt_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='notification',
            name='recipient_name',
            field=models.CharField(blank=True, max_length=200),
        ),
        # Added with "sent" so every existing row takes it, then the default becomes "pending".
        migrations.AddField(
            model_name='notification',
            name='status',
            field=models.CharField(choices=[('pending', 'Pending'), ('sent', 'Sent'), ('failed', 'Failed (gave up)'), ('cancelled', 'Cancelled (no longer true)')], default='sent', max_length=20),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name='notification',
            name='status',
            field=models.CharField(choices=[('pending', 'Pending'), ('sent', 'Sent'), ('failed', 'Failed (gave up)'), ('cancelled', 'Cancelled (no longer true)')], default='pending', max_length=20),
        ),
        migrations.AlterField(
            model_name='notification',
            name='key',
            field=models.CharField(help_text='What the email is about, e.g. flag:12:severity:high.', max_length=200),
        ),
        migrations.AlterField(
            model_name='notification',
            name='sent_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(mark_version_1_rows_sent, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='notification',
            index=models.Index(condition=models.Q(('status', 'pending')), fields=['next_attempt_at'], name='notification_pending_due'),
        ),
    ]
