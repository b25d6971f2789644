"""django-filter classes for accountability, shared by the API and the dashboard."""

import datetime as dt

from django import forms
from django_filters import rest_framework as filters
from rest_framework.exceptions import ValidationError

from cxgov.api.filters import IdFilter, IsoDateFilter, choices, date_range

from .choices import (
    LIVE_FLAG_STATUSES,
    ActionStatus,
    AgendaOutcome,
    Cadence,
    FlagKind,
    FlagStatus,
    ScanStatus,
    SessionStatus,
    Severity,
    SubjectType,
)
from .models import ActionItem, AgendaItem, Attendance, Escalation, Flag, Forum, ForumSession, ScanRun


class ForumFilterSet(filters.FilterSet):
    program = IdFilter(field_name="program_id")
    chair = IdFilter(field_name="chair_id")
    member = IdFilter(field_name="members", label="Forums this person is a member of")
    cadence = choices(Cadence)

    class Meta:
        model = Forum
        fields = ["program", "chair", "member", "cadence", "active", "dedicated"]


class ForumSessionFilterSet(filters.FilterSet):
    forum = IdFilter(field_name="forum_id")
    program = IdFilter(field_name="forum__program_id")
    status = choices(SessionStatus)
    scheduled_for_after, scheduled_for_before = date_range("scheduled_for", on_date=True)

    class Meta:
        model = ForumSession
        fields = ["forum", "program", "status"]


class AttendanceFilterSet(filters.FilterSet):
    session = IdFilter(field_name="session_id")
    forum = IdFilter(field_name="session__forum_id")
    person = IdFilter(field_name="person_id")
    delegate = IdFilter(field_name="delegate_id")

    class Meta:
        model = Attendance
        fields = ["session", "forum", "person", "delegate", "present"]


class AgendaItemFilterSet(filters.FilterSet):
    session = IdFilter(field_name="session_id")
    forum = IdFilter(field_name="session__forum_id")
    metric = IdFilter(field_name="metric_id")
    initiative = IdFilter(field_name="initiative_id")
    outcome = choices(AgendaOutcome)

    class Meta:
        model = AgendaItem
        fields = ["session", "forum", "metric", "initiative", "outcome", "customer_item"]


class ActionItemFilterSet(filters.FilterSet):
    program = IdFilter(field_name="program_id")
    session = IdFilter(field_name="session_id")
    owner = IdFilter(field_name="owner_id")
    status = choices(ActionStatus)
    due_on_after, due_on_before = date_range("due_on")

    class Meta:
        model = ActionItem
        fields = ["program", "session", "owner", "status"]


class EscalationFilterSet(filters.FilterSet):
    program = IdFilter(field_name="program_id")
    initiative = IdFilter(field_name="initiative_id")
    metric = IdFilter(field_name="metric_id")
    raised_by = IdFilter(field_name="raised_by_id")
    raised_to = IdFilter(field_name="raised_to_id")
    open = filters.BooleanFilter(field_name="resolved_on", lookup_expr="isnull", label="Only unresolved escalations")
    raised_on_after, raised_on_before = date_range("raised_on")

    class Meta:
        model = Escalation
        fields = ["program", "initiative", "metric", "raised_by", "raised_to", "open"]


class FlagFilterSet(filters.FilterSet):
    program = IdFilter(field_name="program_id")
    owner = IdFilter(field_name="owner_id")
    kind = choices(FlagKind)
    severity = filters.MultipleChoiceFilter(
        choices=Severity.choices,
        method="filter_severity",
        label="One or more severities; with open_on/as_of, the severity at the end of that day",
    )
    status = filters.MultipleChoiceFilter(
        choices=FlagStatus.choices,
        method="filter_status",
        label="One or more statuses; with open_on/as_of, the status at the end of that day",
    )
    subject_type = choices(SubjectType)
    subject_id = IdFilter(field_name="subject_id")
    live = filters.BooleanFilter(
        method="filter_live",
        label="Only open or acknowledged flags (true) or only closed; with open_on/as_of, as of that day",
    )
    first_detected_on_after, first_detected_on_before = date_range("first_detected_on")
    last_detected_on_after, last_detected_on_before = date_range("last_detected_on")
    resolved_at_after, resolved_at_before = date_range("resolved_at", on_date=True)
    closed_on_after, closed_on_before = date_range("closed_on")
    open_on = IsoDateFilter(
        method="filter_open_on",
        label="Only flags open at the end of this day (YYYY-MM-DD): first detected on or before it and "
        "not resolved or dismissed by then",
    )
    as_of = IsoDateFilter(method="filter_open_on", label="Same as open_on: the flags open as of this day")

    class Meta:
        model = Flag
        fields = ["program", "owner", "kind", "severity", "status", "subject_type", "subject_id", "live"]

    @classmethod
    def as_of_day(cls, data) -> dt.date | None:
        """The day `open_on` or `as_of` names in these query parameters, or None.

        Read as of a day, the list shows each flag as it was at the end of that day (its
        `status_on`, see `filter_queryset`). Both parameters naming different days is a 400.
        """
        days = {}
        for name in ("open_on", "as_of"):
            value = data.get(name)
            if value not in (None, ""):
                try:
                    days[name] = cls.base_filters[name].field.clean(value)
                except forms.ValidationError as error:
                    raise ValidationError({name: error.messages}) from error
        if len(set(days.values())) > 1:
            raise ValidationError({"as_of": ["open_on and as_of are the same filter: give one day, not two."]})
        return next(iter(days.values()), None)

    def filter_queryset(self, queryset):
        """As of a day, annotate each flag as it stood then (`Flag.objects.with_state_on`: its
        status, severity and title on that day): the status and severity filters read them
        and the list renders them."""
        day = self.as_of_day(self.form.cleaned_data)
        if day is not None:
            queryset = queryset.with_state_on(day)
        return super().filter_queryset(queryset)

    def filter_severity(self, queryset, name, value):
        if not value:
            return queryset
        field = "severity_on" if "severity_on" in queryset.query.annotations else "severity"
        return queryset.filter(**{f"{field}__in": value})

    @staticmethod
    def _status_field(queryset) -> str:
        return "status_on" if "status_on" in queryset.query.annotations else "status"

    def filter_status(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(**{f"{self._status_field(queryset)}__in": value})

    def filter_live(self, queryset, name, value):
        field = self._status_field(queryset)
        if field == "status":
            return queryset.live() if value else queryset.exclude(pk__in=queryset.live().values("pk"))
        live = {f"{field}__in": LIVE_FLAG_STATUSES}
        return queryset.filter(**live) if value else queryset.exclude(**live)

    def filter_open_on(self, queryset, name, value):
        return queryset.open_on(value)


class ScanRunFilterSet(filters.FilterSet):
    status = choices(ScanStatus)
    as_of_after, as_of_before = date_range("as_of")

    class Meta:
        model = ScanRun
        fields = ["status"]
