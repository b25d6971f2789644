"""Admin of programs and their work: status (through the service), stages, initiatives, updates, commitment."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from .. import readiness
from ..choices import PROGRAM_TRANSITIONS, ProgramStatus, Role
from ..models import CommitmentAssessment, Initiative, Program, ProgramStatusChange, ProgressUpdate, RoadmapStage
from ..money import format_money
from ..services import (
    TransitionRefused,
    program_delete,
    program_delete_refusal,
    program_review_move,
    program_transition,
    progress_update_create,
)
from .deletion import DeleteThroughServiceMixin
from .scoping import (
    CachedChoicesInlineMixin,
    OrganizationScopedAdmin,
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    ScopedHistoryAdmin,
    ScopedModelForm,
    cache_choices,
)

# --- Programs ------------------------------------------------------------------


class RoadmapStageInline(OrganizationScopedAdmin, admin.TabularInline):
    model = RoadmapStage
    fields = ("sequence", "name", "starts_on", "ends_on", "budget", "status")
    extra = 0
    show_change_link = True


class InitiativeInline(OrganizationScopedAdmin, CachedChoicesInlineMixin, admin.TabularInline):
    model = Initiative
    fields = ("name", "stage", "owner", "status", "starts_on", "due_on", "percent_complete")
    extra = 0
    show_change_link = True

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        if obj is not None:
            # Only this program's stages make sense here, not every stage of the organization.
            cache_choices(formset.form.base_fields.get("stage"), obj.stages.all())
        return formset


class ProgramStatusChangeInline(OrganizationScopedAdmin, ReadOnlyInline):
    model = ProgramStatusChange
    fields = ("at", "from_status", "to_status", "reason", "forced", "committed_horizon_months", "changed_by")
    verbose_name_plural = "status changes (use “Change status” above)"
    queryset_select_related = ("program", "changed_by")


class ProgramTransitionForm(forms.Form):
    to = forms.ChoiceField(label="New status")
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        required=False,
        help_text="Required to pause, resume or cancel, and to force activation.",
    )
    force = forms.BooleanField(
        required=False, help_text="Activate although readiness is unmet (kept in the status change, with the reason)."
    )

    def __init__(self, *args, program: Program, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        allowed = sorted(PROGRAM_TRANSITIONS[program.status])
        # No preselected move: one careless click must not cancel a program (SPEC §5).
        self.fields["to"].choices = [("", "— choose the new status —")] + [(s, ProgramStatus(s).label) for s in allowed]


# Readiness matters for programs that are or may go live; a finished one is not "not ready".
READINESS_STATUSES = (ProgramStatus.DRAFT, ProgramStatus.ACTIVE, ProgramStatus.PAUSED)


def not_ready_q() -> Q:
    """Rows of `Program.objects.with_readiness()` missing at least one condition for going live."""
    unmet = Q()
    for check in readiness.checks():
        unmet |= Q(**{check.annotation: False})
    return unmet & Q(status__in=READINESS_STATUSES)


class ReadyListFilter(admin.SimpleListFilter):
    title = "readiness"
    parameter_name = "ready"

    def lookups(self, request, model_admin):
        return (("yes", "Ready"), ("no", "Not ready (draft, active or paused)"))

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(not_ready_q())
        if self.value() == "yes":
            return queryset.exclude(not_ready_q())
        return queryset


class ProgramAdminForm(ScopedModelForm):
    """A launched program's earliest review date only moves later, with a reason (`program_review_move`)."""

    review_change_reason = forms.CharField(
        label="Why the review date moves",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Required when a launched program's earliest review date moves (later only). Kept in its history.",
    )

    class Meta:
        model = Program
        fields = "__all__"

    def review_date_moves(self) -> bool:
        stored = self.instance
        return (
            stored.pk is not None
            and stored.status != ProgramStatus.DRAFT
            and "earliest_review_on" in self.cleaned_data
            and self.cleaned_data["earliest_review_on"] != self.initial.get("earliest_review_on")
        )

    def clean(self) -> dict:
        cleaned = super().clean()
        if not self.review_date_moves():
            return cleaned
        committed, moved_to = self.initial.get("earliest_review_on"), cleaned.get("earliest_review_on")
        if moved_to is None or (committed is not None and moved_to < committed):
            self.add_error(
                "earliest_review_on",
                f"A launched program's earliest review date only ever moves later than {committed}, the date "
                "committed to.",
            )
        elif not (cleaned.get("review_change_reason") or "").strip():
            self.add_error("review_change_reason", "Say why the earliest review date moves (kept in the history).")
        return cleaned


@admin.register(Program)
class ProgramAdmin(DeleteThroughServiceMixin, ScopedHistoryAdmin):
    """Programs. Status moves only through `program_transition`, from the "Change status"
    page; deletes only through `program_delete` (a never-activated draft), single or bulk.

    Subclass-friendly: the accountability admin extends it with risk and a scan action.
    """

    # Short columns, so that the list (with the risk columns the engine adds) fits a 1366 px
    # screen: people by name (their titles are on the program page), money in the currency.
    list_display = (
        "name",
        "status",
        "sponsor_name",
        "champion_name",
        "started_on",
        "horizon",
        "budget_money",
        "is_ready",
    )
    list_filter = ("status", ReadyListFilter, "organization")
    list_select_related = ("organization", "executive_sponsor", "customer_champion")
    search_fields = ("name", "customer_vision", "business_case")
    autocomplete_fields = ("executive_sponsor", "customer_champion")
    readonly_fields = ("status_and_actions", "readiness_list", "created_at")
    inlines = (RoadmapStageInline, InitiativeInline, ProgramStatusChangeInline)
    form = ProgramAdminForm
    fieldsets = (
        (None, {"fields": ("organization", "name", "status_and_actions", "readiness_list")}),
        ("Purpose", {"fields": ("customer_vision", "business_case")}),
        ("People", {"fields": ("executive_sponsor", "customer_champion", "champion_time_pct")}),
        (
            "Commitment",
            {
                "fields": (
                    "started_on",
                    "committed_horizon_months",
                    "first_results_due_on",
                    "budget",
                    "stall_after_days",
                    "earliest_review_on",
                    "review_change_reason",
                    "exit_criteria",
                )
            },
        ),
        ("Record", {"fields": ("created_at",), "classes": ("collapse",)}),
    )

    def get_readonly_fields(self, request, obj=None):
        # A program stays in the organization it was created in, as in the API (create-only):
        # its people, forums and evidence belong there (measurements carry it on each row).
        readonly = tuple(super().get_readonly_fields(request, obj))
        return (*readonly, "organization") if obj is not None else readonly

    def get_queryset(self, request):
        # Readiness is annotated in the same query, for the list column and the change page alike.
        return super().get_queryset(request).with_readiness()

    def save_model(self, request, obj, form, change) -> None:
        """A launched program's review date moves through `program_review_move`, after the other fields."""
        if not (change and form.review_date_moves()):
            super().save_model(request, obj, form, change)
            return
        moved_to = obj.earliest_review_on
        obj.earliest_review_on = form.initial.get("earliest_review_on")
        if set(form.changed_data) - {"earliest_review_on", "review_change_reason"}:
            super().save_model(request, obj, form, change)
        program_review_move(
            program=obj, to=moved_to, reason=form.cleaned_data["review_change_reason"], actor=request.user
        )

    def delete_refusal(self, obj: Program) -> str | None:
        return program_delete_refusal(obj)

    def delete_through_service(self, request, obj: Program) -> None:
        program_delete(program=obj, actor=request.user)

    @admin.display(description="sponsor", ordering="executive_sponsor__name")
    def sponsor_name(self, obj: Program) -> str:
        return obj.executive_sponsor.name if obj.executive_sponsor else "–"

    @admin.display(description="champion", ordering="customer_champion__name")
    def champion_name(self, obj: Program) -> str:
        return obj.customer_champion.name if obj.customer_champion else "–"

    @admin.display(description="budget", ordering="budget")
    def budget_money(self, obj: Program) -> str:
        return format_money(obj.budget, obj.organization.currency) if obj.budget is not None else "–"

    @admin.display(description="horizon (months)", ordering="committed_horizon_months")
    def horizon(self, obj: Program) -> int:
        return obj.committed_horizon_months

    @admin.display(boolean=True, description="ready")
    def is_ready(self, obj: Program) -> bool:
        return not obj.readiness

    @admin.display(description="status")
    def status_and_actions(self, obj: Program) -> str:
        if obj.pk is None:
            return "Draft (new programs start as drafts; change the status once saved)."
        url = reverse(f"{self.admin_site.name}:programs_program_change_status", args=[obj.pk])
        return format_html('{} &nbsp; <a class="button" href="{}">Change status…</a>', obj.get_status_display(), url)

    @admin.display(description="readiness")
    def readiness_list(self, obj: Program) -> str:
        if obj.pk is None:
            return "–"
        unmet = obj.readiness
        if not unmet:
            return "Ready: every condition for going live is met."
        return format_html_join(mark_safe("<br>"), "✗ {}", ((m,) for m in unmet))

    def get_urls(self):
        info = (self.model._meta.app_label, self.model._meta.model_name)
        return [
            path(
                "<path:object_id>/change-status/",
                self.admin_site.admin_view(self.change_status_view),
                name="{}_{}_change_status".format(*info),
            ),
            *super().get_urls(),
        ]

    def change_status_view(self, request, object_id: str):
        """GET: the allowed moves; POST: `program_transition`, its refusal shown on the form."""
        program = self.get_object(request, unquote(object_id))
        if program is None:
            return self._get_obj_does_not_exist_redirect(request, self.model._meta, object_id)
        if not self.has_change_permission(request, program):
            raise PermissionDenied
        form = ProgramTransitionForm(request.POST or None, program=program)
        if request.method == "POST" and form.is_valid():
            try:
                change = program_transition(
                    program=program,
                    to=form.cleaned_data["to"],
                    reason=form.cleaned_data["reason"],
                    force=form.cleaned_data["force"],
                    actor=request.user,
                )
            except TransitionRefused as refusal:
                for field, errors in refusal.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
                messages.error(request, "The status was not changed: " + " ".join(refusal.messages))
            else:
                self.log_change(request, program, f"Status {change.from_status} → {change.to_status}")
                messages.success(request, f"{program} is now {program.get_status_display().lower()}.")
                return redirect(reverse(f"{self.admin_site.name}:programs_program_change", args=[program.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Change the status of {program}",
            "opts": self.model._meta,
            "original": program,
            "form": form,
            "readiness": program.readiness,
            "history": program.status_changes.select_related("changed_by")[:10],
        }
        return TemplateResponse(request, "admin/programs/program/change_status.html", context)


@admin.register(ProgramStatusChange)
class ProgramStatusChangeAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin, admin.ModelAdmin):
    """Append-only: written by `program_transition`, never edited here."""

    list_display = ("program", "from_status", "to_status", "at", "forced", "changed_by", "reason")
    list_filter = ("to_status", "forced", "program")
    list_select_related = ("program", "changed_by")
    search_fields = ("program__name", "reason")
    date_hierarchy = "at"


@admin.register(RoadmapStage)
class RoadmapStageAdmin(ScopedHistoryAdmin):
    list_display = ("__str__", "program", "status", "starts_on", "ends_on", "budget")
    list_filter = ("status", "program")
    list_select_related = ("program",)
    search_fields = ("name", "program__name")
    autocomplete_fields = ("program",)


class ProgressUpdateInline(OrganizationScopedAdmin, CachedChoicesInlineMixin, admin.TabularInline):
    model = ProgressUpdate
    fields = ("reported_on", "rag", "percent_complete", "author", "note")
    extra = 0
    queryset_select_related = ("initiative",)


@admin.register(Initiative)
class InitiativeAdmin(ScopedHistoryAdmin):
    list_display = (
        "name",
        "program",
        "stage",
        "owner",
        "status",
        "starts_on",
        "due_on",
        "percent_complete",
        "last_update",
    )
    list_filter = ("status", "program")
    list_select_related = ("program", "stage", "owner")
    search_fields = ("name", "description", "program__name")
    autocomplete_fields = ("program", "stage", "owner", "business_units")
    inlines = (ProgressUpdateInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).with_last_update()

    def save_formset(self, request, form, formset, change) -> None:
        if formset.model is not ProgressUpdate:
            super().save_formset(request, form, formset, change)
            return
        # New updates go through the service, which moves the initiative's percent along.
        saved = formset.save(commit=False)
        for update in formset.deleted_objects:
            update.delete()
        for update in saved:
            if update.pk is not None:
                update.save()
                continue
            update.pk = progress_update_create(
                initiative=form.instance,
                author=update.author,
                reported_on=update.reported_on,
                rag=update.rag,
                percent_complete=update.percent_complete,
                note=update.note,
            ).pk

    @admin.display(description="last update", ordering="last_update_on")
    def last_update(self, obj: Initiative):
        return obj.last_update_on


@admin.register(ProgressUpdate)
class ProgressUpdateAdmin(OrganizationScopedAdmin, admin.ModelAdmin):
    list_display = ("initiative", "reported_on", "rag", "percent_complete", "author")
    list_filter = ("rag", "initiative__program")
    list_select_related = ("initiative", "author")
    search_fields = ("initiative__name", "note")
    autocomplete_fields = ("initiative", "author")
    date_hierarchy = "reported_on"

    def save_model(self, request, obj, form, change) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # New updates go through the service, which moves the initiative's percent along.
        created = progress_update_create(
            initiative=obj.initiative,
            author=obj.author,
            reported_on=obj.reported_on,
            rag=obj.rag,
            percent_complete=obj.percent_complete,
            note=obj.note,
        )
        obj.pk = created.pk
        obj._state.adding = False


@admin.register(CommitmentAssessment)
class CommitmentAssessmentAdmin(OrganizationScopedAdmin, admin.ModelAdmin):
    """Executives record commitment assessments too (SPEC: Membership roles)."""

    write_roles = frozenset({Role.OFFICE, Role.EXECUTIVE})
    list_display = ("program", "assessed_on", "assessor", "score_display")
    list_filter = ("program",)
    list_select_related = ("program", "assessor")
    search_fields = ("program__name", "assessor__name", "note")
    autocomplete_fields = ("program", "assessor")
    readonly_fields = ("score_display",)
    date_hierarchy = "assessed_on"

    @admin.display(description="score (0–100)", ordering="score")
    def score_display(self, obj: CommitmentAssessment) -> str:
        return "–" if obj.pk is None or obj.score is None else f"{obj.score:.0f}"
