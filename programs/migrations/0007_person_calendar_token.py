"""Person.calendar_token: the secret of each person's calendar feed.

Added nullable, filled with a distinct random token per existing person, then made unique
and required: a callable default in AddField would give every existing row the same value.
"""

import secrets

from django.db import migrations, models

import programs.models


def fill_tokens(apps, schema_editor):
    Person = apps.get_model("programs", "Person")
    people = list(Person.objects.filter(calendar_token__isnull=True).only("id"))
    for person in people:
        person.calendar_token = secrets.token_urlsafe(32)
    Person.objects.bulk_update(people, ["calendar_token"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("programs", "0006_history_reason_text"),
    ]

    operations = [
        migrations.AddField(
            model_name="person",
            name="calendar_token",
            field=models.CharField(max_length=64, null=True, editable=False),
        ),
        migrations.RunPython(fill_tokens, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="person",
            name="calendar_token",
            field=models.CharField(
                default=programs.models.new_calendar_token,
                editable=False,
                max_length=64,
                unique=True,
            ),
        ),
    ]
