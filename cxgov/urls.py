from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accountability.api.me import MeView
from cxgov.api import errors as api_errors
from cxgov.health import healthz
from dashboard.api import DashboardSummaryView
from programs.oidc import SignInCallbackView, SignInStartView, SignInView

urlpatterns = [
    path("", RedirectView.as_view(url="/dashboard/", permanent=False)),
    path("admin/", admin.site.urls),
    # The login page offers the identity provider when OIDC is configured (settings.OIDC_ENABLED).
    path("accounts/login/", SignInView.as_view(), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("oidc/authenticate/", SignInStartView.as_view(), name="oidc_authentication_init"),
    path("oidc/callback/", SignInCallbackView.as_view(), name="oidc_authentication_callback"),
    # Calendar feeds and board packs (reports/): before the dashboard, whose paths they extend.
    path("", include("reports.urls")),
    path("dashboard/", include("dashboard.urls")),
    path("api/v1/dashboard/", DashboardSummaryView.as_view(), name="api-dashboard"),
    path("api/v1/me/", MeView.as_view(), name="api-me"),
    path("api/v1/", include("cxgov.api_router")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("healthz", healthz, name="healthz"),
    # Last: any other path under /api/ is a JSON 404 (malformed ids included), never HTML.
    re_path(r"^api/", api_errors.not_found, name="api-not-found"),
]

# Django's own error pages, as JSON under /api/ (HTML elsewhere).
handler400 = "cxgov.api.errors.bad_request"
handler403 = "cxgov.api.errors.permission_denied"
handler404 = "cxgov.api.errors.page_not_found"
handler500 = "cxgov.api.errors.server_error"
