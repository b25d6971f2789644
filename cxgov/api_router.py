"""The /api/v1/ router: every resource of the REST API registers here.

Other apps plug in with `router.register("<path>", ViewSet, basename="<name>")`; keep the
variable named `router`.
"""

from rest_framework.routers import DefaultRouter

from accountability.api import views as accountability_views
from accountability.api.programs import ProgramViewSet
from metrics.api import views as metrics_views
from notifications.api.views import WebhookViewSet
from programs.api import views as programs_views

router = DefaultRouter(trailing_slash=True)
router.register("organizations", programs_views.OrganizationViewSet, basename="organization")
router.register("people", programs_views.PersonViewSet, basename="person")
router.register("business-units", programs_views.BusinessUnitViewSet, basename="businessunit")
router.register("programs", ProgramViewSet, basename="program")
router.register("stages", programs_views.StageViewSet, basename="stage")
router.register("initiatives", programs_views.InitiativeViewSet, basename="initiative")
router.register("progress-updates", programs_views.ProgressUpdateViewSet, basename="progressupdate")
router.register("commitment-assessments", programs_views.CommitmentAssessmentViewSet, basename="commitmentassessment")
router.register("metrics", metrics_views.MetricViewSet, basename="metric")
router.register("measurements", metrics_views.MeasurementViewSet, basename="measurement")
router.register("exemptions", metrics_views.ExemptionViewSet, basename="exemption")
router.register("forums", accountability_views.ForumViewSet, basename="forum")
router.register("sessions", accountability_views.ForumSessionViewSet, basename="forumsession")
router.register("attendance", accountability_views.AttendanceViewSet, basename="attendance")
router.register("agenda-items", accountability_views.AgendaItemViewSet, basename="agendaitem")
router.register("action-items", accountability_views.ActionItemViewSet, basename="actionitem")
router.register("escalations", accountability_views.EscalationViewSet, basename="escalation")
router.register("flags", accountability_views.FlagViewSet, basename="flag")
router.register("scans", accountability_views.ScanRunViewSet, basename="scanrun")
router.register("webhooks", WebhookViewSet, basename="webhook")
router.register("changes", programs_views.ChangeViewSet, basename="change")

urlpatterns = router.urls
