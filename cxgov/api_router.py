"""The /api/v1/ router: every resource of the REST API registers here.

Other apps plug in with `router.register("<path>", ViewSet, basename="<name>")`; keep the
variable named `router`.
"""

from rest_framework.routers import DefaultRouter

from accountability.api.webhooks import WebhookViewSet

router = DefaultRouter(trailing_slash=True)
router.register("webhooks", WebhookViewSet, basename="webhook")

urlpatterns = router.urls
