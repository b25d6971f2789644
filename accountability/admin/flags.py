"""Admin of the governance scan's output: flags (with their actions), scan runs, risk
assessments; and the Program admin extended with the latest risk and "Run a governance
scan now". Every action goes through the same services as the API."""

from collections import defaultdict

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Subquery
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from programs import access
from programs.admin import OrganizationScopedAdmin, ProgramAdmin, ReadOnlyAdminMixin
from programs.choices import Role
from programs.models import Program

from ..choices import LIVE_FLAG_STATUSES, FlagStatus, RiskLevel
from ..evidence import EvidenceText, evidence_text
from ..flag_actions import flag_acknowledge, flag_dismiss, flag_resolve
from ..models import Flag, RiskAssessment, ScanRun
from ..scans import ScanLocked, scan_fail, scan_organization

ACKNOWLEDGE_ROLES = frozenset({Role.OFFICE, Role.EXECUTIVE})
RESOLVE_ROLES = frozenset({Role.OFFICE})
SCAN_ROLES = frozenset({Role.OFFICE})


def sentences(lines: list[str]) -> str:
    """Evidence as the shared renderer's sentences (accountability/evidence.py), one per line."""
    if not lines:
        return "—"
    return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines))


def _may(request, organization_id: int, roles: frozenset[str]) -> bool:
    return access.role_in(request.user, organization_id) in roles


class FlagStateFilter(admin.SimpleListFilter):
    """The flag list opens on live flags (open or acknowledged): what still needs someone.

    Resolved and dismissed flags are one click away, and "All" shows everything.
    """

    title = "status"
    parameter_name = "state"
    LIVE, ALL = "live", "all"

    def lookups(self, request, model_admin):
        return ((self.LIVE, "Live (open or acknowledged)"), *FlagStatus.choices, (self.ALL, "All"))

    def value(self):
        return super().value() or self.LIVE

    def choices(self, changelist):
        # Django's filter adds its own "All" for no value; here no value means live.
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value()
        if value == self.LIVE:
            return queryset.filter(status__in=LIVE_FLAG_STATUSES)
        if value in FlagStatus.values:
            return queryset.filter(status=value)
        return queryset


class DismissForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 80}), help_text="Required.")


@admin.register(Flag)
class FlagAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin, admin.ModelAdmin):
    list_display = ("title", "severity", "status", "escalation_level", "program", "owner_name", "last_detected_on")
    list_filter = (FlagStateFilter, "severity", "escalation_level", "kind", "program")
    list_select_related = ("program", "owner")
    search_fields = ("title", "detail", "program__name", "owner__name")
    date_hierarchy = "last_detected_at"
    actions = ("acknowledge_flags", "resolve_flags", "dismiss_flags")
    fields = (
        "title",
        "kind",
        "severity",
        "status",
        "organization",
        "program",
        "subject",
        "owner",
        "evidence_sentences",
        "first_detected_at",
        "last_detected_at",
        "first_detected_on",
        "last_detected_on",
        "acknowledged_at",
        "acknowledged_by",
        "resolved_at",
        "resolved_by",
        "resolution_note",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        # `for_user` scoping comes from OrganizationScopedAdmin for non-superusers.
        return super().get_queryset(request).select_related("organization", "acknowledged_by", "resolved_by")

    @admin.display(description="evidence")
    def evidence_sentences(self, obj: Flag) -> str:
        # The shared renderer: names, dates and money, never codes, ids or JSON (SPEC §5).
        text = evidence_text(currency=obj.organization.currency, evidences=[obj.evidence])
        return sentences(text.flag(obj.kind, obj.evidence))

    @admin.display(description="owner", ordering="owner__name")
    def owner_name(self, obj: Flag) -> str:
        return obj.owner.name if obj.owner else "–"

    @admin.display(description="about")
    def subject(self, obj: Flag) -> str:
        # The title names the subject; its id means nothing to the office.
        return obj.get_subject_type_display()

    # Actions: who may do what is checked per flag (a user's role differs by organization).
    def has_acknowledge_permission(self, request) -> bool:
        return request.user.is_superuser or any(r in ACKNOWLEDGE_ROLES for r in access.roles(request.user).values())

    def has_resolve_permission(self, request) -> bool:
        return request.user.is_superuser or any(r in RESOLVE_ROLES for r in access.roles(request.user).values())

    def _apply(self, request, queryset, roles, verb: str, move) -> None:
        done, refused = 0, []
        for flag in queryset:
            if not _may(request, flag.organization_id, roles):
                refused.append(f"{flag.title}: your role may not do this in {flag.organization}")
                continue
            try:
                move(flag)
            except ValidationError as exc:
                refused.append(f"{flag.title}: {' '.join(exc.messages)}")
            else:
                done += 1
        if done:
            self.message_user(request, f"{done} flag(s) {verb}.", messages.SUCCESS)
        if refused:
            self.message_user(request, f"{len(refused)} not {verb}: " + "; ".join(refused[:10]), messages.WARNING)

    @admin.action(description="Acknowledge the selected flags", permissions=["acknowledge"])
    def acknowledge_flags(self, request, queryset) -> None:
        self._apply(
            request, queryset, ACKNOWLEDGE_ROLES, "acknowledged", lambda f: flag_acknowledge(flag=f, actor=request.user)
        )

    @admin.action(description="Resolve the selected flags", permissions=["resolve"])
    def resolve_flags(self, request, queryset) -> None:
        note = f"Resolved in the admin by {request.user.get_username()}"
        self._apply(
            request, queryset, RESOLVE_ROLES, "resolved", lambda f: flag_resolve(flag=f, actor=request.user, note=note)
        )

    @admin.action(description="Dismiss the selected flags (asks for a reason)", permissions=["resolve"])
    def dismiss_flags(self, request, queryset):
        form = DismissForm(request.POST if "reason" in request.POST else None)
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"]
            self._apply(
                request,
                queryset,
                RESOLVE_ROLES,
                "dismissed",
                lambda f: flag_dismiss(flag=f, actor=request.user, reason=reason),
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Dismiss flags",
            "opts": self.model._meta,
            "flags": queryset,
            "form": form,
            "action": "dismiss_flags",
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/accountability/flag/dismiss_flags.html", context)


@admin.register(ScanRun)
class ScanRunAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin, admin.ModelAdmin):
    list_display = (
        "__str__",
        "organization",
        "as_of",
        "status",
        "raised",
        "refreshed",
        "resolved",
        "duration",
        "requested_by",
        "created_at",
    )
    list_filter = ("status", "organization")
    list_select_related = ("organization", "requested_by")
    date_hierarchy = "created_at"
    fields = (
        "organization",
        "as_of",
        "programs_scanned",
        "status",
        "requested_by",
        "created_at",
        "started_at",
        "finished_at",
        "duration",
        "raised",
        "refreshed",
        "resolved",
        "errors_list",
    )
    readonly_fields = fields

    @admin.display(description="programs")
    def programs_scanned(self, obj: ScanRun) -> str:
        # Names, not the stored ids (SPEC §5: never ids).
        if obj.program_ids is None:
            return "All of the organization's active and paused programs"
        names = Program.objects.filter(pk__in=obj.program_ids).order_by("name").values_list("name", flat=True)
        return ", ".join(names) or "none"

    @admin.display(description="duration")
    def duration(self, obj: ScanRun) -> str:
        if obj.started_at and obj.finished_at:
            return f"{(obj.finished_at - obj.started_at).total_seconds():.1f} s"
        return "–"

    @admin.display(description="errors")
    def errors_list(self, obj: ScanRun) -> str:
        if not obj.errors:
            return "none"
        return format_html_join(
            mark_safe("<br>"), "{}: {}", ((e.get("where", "scan"), e.get("message", "")) for e in obj.errors)
        )


def factors_table(factors: list[dict], text: EvidenceText) -> str:
    """Risk factors as a table of plain words: what, how many points, why (a sentence)."""
    if not factors:
        return format_html("<p>{}</p>", "No risk factor.")
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
        ((text.factor_label(f.get("code", "")), f.get("points", 0), text.factor(f)) for f in factors),
    )
    return format_html(
        '<table class="risk-factors"><thead><tr><th scope="col">factor</th><th scope="col">points</th>'
        '<th scope="col">why</th></tr></thead><tbody>{}</tbody></table>',
        rows,
    )


@admin.register(RiskAssessment)
class RiskAssessmentAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin, admin.ModelAdmin):
    list_display = ("program", "as_of", "score", "level", "factor_codes")
    list_filter = ("level", "program")
    list_select_related = ("program",)
    search_fields = ("program__name",)
    date_hierarchy = "as_of"
    fields = ("program", "as_of", "score", "level", "factors_display", "scan_run", "created_at")
    readonly_fields = fields

    @admin.display(description="factors")
    def factor_codes(self, obj: RiskAssessment) -> str:
        text = EvidenceText()
        return ", ".join(f"{text.factor_label(f['code'])} ({f['points']})" for f in obj.factors) or "–"

    @admin.display(description="factors")
    def factors_display(self, obj: RiskAssessment) -> str:
        text = evidence_text(currency=obj.program.organization.currency, evidences=[obj.factors])
        return factors_table(obj.factors, text)


class RiskProgramAdmin(ProgramAdmin):
    """The programs admin plus the latest early-bail risk and a "scan now" action."""

    list_display = (*ProgramAdmin.list_display, "risk_score", "risk_level")
    readonly_fields = (*ProgramAdmin.readonly_fields, "latest_risk")
    fieldsets = (
        *ProgramAdmin.fieldsets[:1],
        ("Early-bail risk", {"fields": ("latest_risk",)}),
        *ProgramAdmin.fieldsets[1:],
    )
    actions = ("run_scan_now",)

    def get_queryset(self, request):
        latest = RiskAssessment.objects.filter(program=OuterRef("pk")).order_by("-as_of")
        return (
            super()
            .get_queryset(request)
            .annotate(
                latest_risk_score=Subquery(latest.values("score")[:1]),
                latest_risk_level=Subquery(latest.values("level")[:1]),
            )
        )

    @admin.display(description="risk", ordering="latest_risk_score")
    def risk_score(self, obj: Program):
        return "–" if obj.latest_risk_score is None else obj.latest_risk_score

    @admin.display(description="risk level", ordering="latest_risk_level")
    def risk_level(self, obj: Program) -> str:
        return RiskLevel(obj.latest_risk_level).label if obj.latest_risk_level else "not assessed"

    @admin.display(description="latest assessment")
    def latest_risk(self, obj: Program) -> str:
        assessment = obj.risk_assessments.order_by("-as_of").first() if obj.pk else None
        if assessment is None:
            return "Not assessed yet: run a governance scan."
        text = evidence_text(currency=obj.organization.currency, evidences=[assessment.factors])
        return format_html(
            "<strong>{} / 100 — {}</strong> as of {}{}",
            assessment.score,
            assessment.get_level_display(),
            text.day(assessment.as_of),
            factors_table(assessment.factors, text),
        )

    def has_scan_permission(self, request) -> bool:
        return request.user.is_superuser or any(r in SCAN_ROLES for r in access.roles(request.user).values())

    @admin.action(description="Run a governance scan now", permissions=["scan"])
    def run_scan_now(self, request, queryset) -> None:
        """Scan the selected programs now (one run per organization, as of today) and say what it did.

        The scan runs in the request rather than on a worker: the office asked for it now
        and reads its counts on the next page (a demo-sized organization takes well under a
        second; the daily scan stays on the workers). A scan already running for the
        organization makes this one wait up to CXGOV_SCAN_LOCK_WAIT, then it is refused.
        """
        by_org: dict = defaultdict(list)
        for program in queryset.select_related("organization"):
            by_org[program.organization].append(program.pk)
        today = timezone.localdate()
        for organization, program_ids in by_org.items():
            if not _may(request, organization.pk, SCAN_ROLES):
                self.message_user(
                    request, f"Not scanned: {organization}: your role may not run scans there.", messages.WARNING
                )
                continue
            run = ScanRun.objects.create(
                organization=organization, as_of=today, requested_by=request.user, program_ids=sorted(program_ids)
            )
            try:
                run = scan_organization(organization=organization, as_of=today, program_ids=program_ids, scan_run=run)
            except ScanLocked:
                scan_fail(run, "Another scan of the organization was running.")
                self.message_user(
                    request,
                    f"Scan #{run.pk} of {organization} was not run: another scan of it is still running. "
                    "Try again in a minute.",
                    messages.WARNING,
                )
                continue
            level = messages.SUCCESS if not run.errors else messages.WARNING
            failed = f" {len(run.errors)} part(s) failed: see scan #{run.pk}." if run.errors else ""
            self.message_user(
                request,
                f"Scan #{run.pk} of {organization} as of {today:%d %B %Y}, {len(program_ids)} program(s): "
                f"{run.raised} flag(s) raised, {run.refreshed} refreshed, {run.resolved} resolved.{failed} "
                "Draft, completed and cancelled programs are not scanned.",
                level,
            )


admin.site.unregister(Program)
admin.site.register(Program, RiskProgramAdmin)
