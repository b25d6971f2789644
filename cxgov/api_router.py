"""The /api/v1/ router: every resource of the REST API registers here.

Other apps plug in with `router.register("<path>", ViewSet, basename="<name>")`; keep the
variable named `router`.
"""

from rest_framework.routers import DefaultRouter

router = DefaultRouter(trailing_slash=True)

urlpatterns = router.urls
