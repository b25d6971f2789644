"""Admin of the accountability forums: forums, sessions with their attendance, agenda and actions, escalations."""

from django.contrib import admin
from django.db.models import Count, Max, Q
from django.utils import timezone

from programs.admin import (
    CachedChoicesInlineMixin,
    DeleteByRuleInlineMixin,
    DeleteThroughServiceMixin,
    KeptRecordsDeleteMixin,
    OrganizationScopedAdmin,
    ScopedHistoryAdmin,
    cache_choices,
)

from ..choices import SessionStatus
from ..models import ActionItem, AgendaItem, Attendance, Escalation, Forum, ForumSession
from ..services import agenda_item_delete, attendance_delete, session_delete, session_record_delete_refusal
from .landing import AttendanceRecordedFilter


class SessionRecordDeleteRules:
    """Sessions, attendance and agenda items: deleted through their services, evidence refused."""

    def delete_refusal(self, obj) -> str | None:
        return session_record_delete_refusal(obj)

    def delete_through_service(self, request, obj) -> None:
        delete_session_record(obj, request.user)


class RecordInline(SessionRecordDeleteRules, DeleteByRuleInlineMixin):
    """Inlines: a ticked "Delete" on evidence refuses the whole submit, naming the rule."""


class SessionRecordAdminRules(SessionRecordDeleteRules, DeleteThroughServiceMixin):
    """Admins: the delete page and "Delete selected" go through the services."""


def delete_session_record(obj, actor) -> None:
    if isinstance(obj, ForumSession):
        session_delete(session=obj, actor=actor)
    elif isinstance(obj, Attendance):
        attendance_delete(attendance=obj, actor=actor)
    else:
        agenda_item_delete(agenda_item=obj, actor=actor)


class ForumSessionInline(RecordInline, OrganizationScopedAdmin, admin.TabularInline):
    model = ForumSession
    fields = ("scheduled_for", "status", "notes")
    ordering = ("-scheduled_for",)
    extra = 0
    queryset_select_related = ("forum",)
    show_change_link = True


@admin.register(Forum)
class ForumAdmin(KeptRecordsDeleteMixin, ScopedHistoryAdmin):
    delete_instead = "make the forum inactive instead (untick Active)."
    list_display = ("name", "program", "cadence", "dedicated", "chair", "started_on", "last_held", "active")
    list_filter = ("active", "cadence", "dedicated", "program")
    list_select_related = ("program", "chair")
    search_fields = ("name", "purpose", "program__name")
    autocomplete_fields = ("program", "chair", "members", "metrics_reviewed")
    inlines = (ForumSessionInline,)

    def save_formset(self, request, form, formset, change) -> None:
        if formset.model is not ForumSession:
            super().save_formset(request, form, formset, change)
            return
        formset.save(commit=False)
        for session in formset.deleted_objects:
            session_delete(session=session, actor=request.user)
        for session in formset.new_objects + [obj for obj, _ in formset.changed_objects]:
            session.save()
        formset.save_m2m()

    def get_queryset(self, request):
        held = Max("sessions__scheduled_for", filter=Q(sessions__status=SessionStatus.HELD))
        return super().get_queryset(request).annotate(last_held_at=held)

    @admin.display(description="last held", ordering="last_held_at")
    def last_held(self, obj: Forum):
        return timezone.localtime(obj.last_held_at).date() if obj.last_held_at else "never"


class AttendanceInline(RecordInline, OrganizationScopedAdmin, CachedChoicesInlineMixin, admin.TabularInline):
    model = Attendance
    fields = ("person", "present", "delegate")
    extra = 0
    queryset_select_related = ("person", "session__forum")


class AgendaItemInline(RecordInline, OrganizationScopedAdmin, CachedChoicesInlineMixin, admin.TabularInline):
    model = AgendaItem
    fields = ("title", "customer_item", "outcome", "metric", "initiative")
    extra = 0

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        if obj is not None:
            # A session discusses its own program's metrics and initiatives.
            program_id = obj.forum.program_id
            fields = formset.form.base_fields
            cache_choices(fields.get("metric"), fields["metric"].queryset.filter(program_id=program_id))
            cache_choices(fields.get("initiative"), fields["initiative"].queryset.filter(program_id=program_id))
        return formset


class ActionItemInline(OrganizationScopedAdmin, CachedChoicesInlineMixin, admin.TabularInline):
    """Actions agreed in the session; their program is the session's forum's program."""

    model = ActionItem
    fields = ("description", "owner", "due_on", "status", "completed_on")
    extra = 0


@admin.register(ForumSession)
class ForumSessionAdmin(SessionRecordAdminRules, ScopedHistoryAdmin):
    """Sessions with their record. A session no longer scheduled is evidence: its page, its
    inlines and "Delete selected" refuse to delete it or its attendance and agenda items."""

    list_display = ("scheduled_for", "forum", "program", "status", "present_count")
    list_filter = ("status", AttendanceRecordedFilter, "forum__program", "forum")
    list_select_related = ("forum__program",)
    search_fields = ("forum__name", "forum__program__name", "notes")
    autocomplete_fields = ("forum",)
    date_hierarchy = "scheduled_for"
    inlines = (AttendanceInline, AgendaItemInline, ActionItemInline)

    def get_queryset(self, request):
        present = Count("attendance", filter=Q(attendance__present=True))
        return super().get_queryset(request).annotate(present_total=present)

    @admin.display(description="program", ordering="forum__program__name")
    def program(self, obj: ForumSession):
        return obj.forum.program

    @admin.display(description="present", ordering="present_total")
    def present_count(self, obj: ForumSession) -> int:
        return obj.present_total

    def save_formset(self, request, form, formset, change) -> None:
        if formset.model in (Attendance, AgendaItem):
            formset.save(commit=False)
            for obj in formset.deleted_objects:
                delete_session_record(obj, request.user)
            for obj in formset.new_objects + [obj for obj, _ in formset.changed_objects]:
                obj.save()
            formset.save_m2m()
            return
        if formset.model is not ActionItem:
            super().save_formset(request, form, formset, change)
            return
        for action in formset.save(commit=False):
            action.program_id = form.instance.forum.program_id
            action.save()
        for action in formset.deleted_objects:
            action.delete()
        formset.save_m2m()


@admin.register(Attendance)
class AttendanceAdmin(SessionRecordAdminRules, OrganizationScopedAdmin, admin.ModelAdmin):
    list_display = ("person", "session", "present", "delegate")
    list_filter = ("present", "session__forum")
    list_select_related = ("person", "delegate", "session__forum")
    search_fields = ("person__name", "session__forum__name")
    autocomplete_fields = ("session", "person", "delegate")


@admin.register(AgendaItem)
class AgendaItemAdmin(SessionRecordAdminRules, OrganizationScopedAdmin, admin.ModelAdmin):
    list_display = ("title", "session", "customer_item", "outcome", "metric", "initiative")
    list_filter = ("outcome", "customer_item", "session__forum")
    list_select_related = ("session__forum", "metric", "initiative")
    search_fields = ("title", "session__forum__name")
    autocomplete_fields = ("session", "metric", "initiative")


@admin.register(ActionItem)
class ActionItemAdmin(ScopedHistoryAdmin):
    list_display = ("description", "program", "owner", "due_on", "status", "completed_on", "days_overdue")
    list_filter = ("status", "program")
    list_select_related = ("program", "owner")
    search_fields = ("description", "owner__name", "program__name")
    autocomplete_fields = ("program", "session", "owner")
    date_hierarchy = "due_on"

    @admin.display(description="days overdue")
    def days_overdue(self, obj: ActionItem) -> int | str:
        if obj.status != "open" or obj.due_on >= timezone.localdate():
            return "–"
        return (timezone.localdate() - obj.due_on).days


@admin.register(Escalation)
class EscalationAdmin(ScopedHistoryAdmin):
    """Stalled work taken to the sponsor; open escalations need air cover."""

    list_display = ("__str__", "program", "raised_by", "raised_to", "raised_on", "resolved_on", "days_open")
    list_filter = ("program", ("resolved_on", admin.EmptyFieldListFilter))
    list_select_related = ("program", "initiative", "metric", "raised_by", "raised_to")
    search_fields = ("initiative__name", "metric__name", "decision", "program__name")
    autocomplete_fields = ("program", "initiative", "metric", "raised_by", "raised_to")
    date_hierarchy = "raised_on"

    @admin.display(description="days open")
    def days_open(self, obj: Escalation) -> int:
        end = obj.resolved_on or timezone.localdate()
        return (end - obj.raised_on).days
