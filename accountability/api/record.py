"""`POST /api/v1/sessions/{id}/record/`: meeting mode through the API, with the same service.

The body says the whole record of a session at once (every list optional):
`{"status": "held", "notes": "...", "attendance": [{"person": 3, "presence": "delegate",
"delegate": 9}], "agenda": [{"item": 12, "outcome": "deferred"}, {"title": "New", "outcome":
"discussed"}], "actions": [{"owner": 3, "description": "...", "due_on": "2026-12-15"}],
"metric_changes": [{"metric": 7, "field": "target", "value": "45", "reason": "..."}]}`.
Ids are resolved within the session's organization (people) and program (metrics); an
id of anything else is a 400, like every reference of the API. One transaction.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from cxgov.api.fields import IsoDateField
from cxgov.api.serializers import StrictSerializer
from metrics.models import Metric
from programs.models import Person

from ..choices import AgendaOutcome, SessionStatus
from ..models import AgendaItem, ForumSession
from ..models.forums import check_attendance
from ..session_record import (
    DECIDED_FIELDS,
    PRESENCE,
    ActionEntry,
    AgendaEntry,
    AttendanceEntry,
    MetricChange,
    SessionRecord,
    metric_value,
)


class RecordAttendanceSerializer(StrictSerializer):
    person = serializers.IntegerField(min_value=1)
    presence = serializers.ChoiceField(choices=PRESENCE)
    delegate = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)

    def validate(self, attrs):
        # Present with a delegate is contradictory (`check_attendance`, the one rule); it was
        # dropped silently (only presence "delegate" keeps a delegate), now it is a 400.
        try:
            check_attendance(present=attrs["presence"] == "present", delegate_id=attrs["delegate"])
        except DjangoValidationError:
            raise serializers.ValidationError(
                {
                    "delegate": [
                        'A delegate comes instead of an absent person: say presence "delegate", or leave the '
                        "delegate out."
                    ]
                }
            ) from None
        return attrs


class RecordAgendaSerializer(StrictSerializer):
    item = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    title = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    outcome = serializers.ChoiceField(choices=AgendaOutcome.choices)
    customer_item = serializers.BooleanField(required=False, default=True)


class RecordActionSerializer(StrictSerializer):
    owner = serializers.IntegerField(min_value=1)
    description = serializers.CharField(max_length=5000)
    due_on = IsoDateField()


class RecordMetricChangeSerializer(StrictSerializer):
    metric = serializers.IntegerField(min_value=1)
    field = serializers.ChoiceField(choices=DECIDED_FIELDS)
    value = serializers.CharField(
        max_length=100, allow_blank=True, help_text="The new value (a person's id for owner)."
    )
    reason = serializers.CharField(max_length=5000)


class SessionRecordSerializer(StrictSerializer):
    status = serializers.ChoiceField(choices=SessionStatus.choices)
    notes = serializers.CharField(max_length=20000, required=False, allow_blank=True, allow_null=True, default=None)
    attendance = RecordAttendanceSerializer(many=True, required=False, default=list)
    agenda = RecordAgendaSerializer(many=True, required=False, default=list)
    actions = RecordActionSerializer(many=True, required=False, default=list)
    metric_changes = RecordMetricChangeSerializer(many=True, required=False, default=list)

    def to_record(self, session: ForumSession) -> SessionRecord:
        """The validated body as a SessionRecord, ids resolved in one query per kind."""
        data = self.validated_data
        organization_id = session.forum.program.organization_id
        people = {p.pk: p for p in Person.objects.filter(organization_id=organization_id)}
        metrics = {
            m.pk: m for m in Metric.objects.filter(program_id=session.forum.program_id).select_related("program")
        }
        items = {i.pk: i for i in AgendaItem.objects.filter(session=session)}

        def pick(rows: dict, key, where: str):
            if key is None:
                return None
            if key not in rows:
                raise serializers.ValidationError({where: [f"No such id ({key}) for this session."]})
            return rows[key]

        record = SessionRecord(status=data["status"], notes=data["notes"])
        for i, a in enumerate(data["attendance"]):
            record.attendance.append(
                AttendanceEntry(
                    person=pick(people, a["person"], f"attendance[{i}]"),
                    presence=a["presence"],
                    delegate=pick(people, a["delegate"], f"attendance[{i}]"),
                )
            )
        for i, g in enumerate(data["agenda"]):
            item = pick(items, g["item"], f"agenda[{i}]")
            record.agenda.append(
                AgendaEntry(item=item, title=g["title"], outcome=g["outcome"], customer_item=g["customer_item"])
            )
        for i, a in enumerate(data["actions"]):
            owner = pick(people, a["owner"], f"actions[{i}]")
            record.actions.append(ActionEntry(owner=owner, description=a["description"], due_on=a["due_on"]))
        for i, c in enumerate(data["metric_changes"]):
            metric = pick(metrics, c["metric"], f"metric_changes[{i}]")
            value = metric_value(metric, c["field"], c["value"])
            record.metric_changes.append(MetricChange(metric=metric, field=c["field"], value=value, reason=c["reason"]))
        return record
