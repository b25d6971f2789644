"""JSON for every answer under /api/, including the ones Django gives before DRF is reached.

DRF renders the errors of its views; these cover the rest: a path no route matches
(`/api/v1/programs/0.5/metric-tree/`, a missing trailing slash, an unknown resource), and
Django's own 400, 403 and 500 pages (`handler400`, `handler403`, `handler500` in the root
URLconf). Outside /api/ Django's HTML pages are kept.
"""

from django.http import HttpRequest, JsonResponse
from django.urls import Resolver404, resolve
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt

API_PREFIX = "/api/"


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def _with_slash(request: HttpRequest) -> str | None:
    """The same path with a trailing slash, when a route (not this one) answers it."""
    if request.path.endswith("/"):
        return None
    candidate = request.path + "/"
    try:
        match = resolve(candidate)
    except Resolver404:
        return None
    return None if match.func is not_found else candidate


@csrf_exempt  # a POST to no endpoint is a 404, not a CSRF failure page
def not_found(request: HttpRequest, exception=None, *args, **kwargs) -> JsonResponse:
    """The catch-all route of /api/: a JSON 404 that says what was asked (and the fix, if simple).

    Ids are whole numbers: a malformed one (`0.5`, `abc/def`) matches no route and lands
    here, answered like an id that does not exist.
    """
    slash = _with_slash(request)
    if slash:
        detail = f"No API endpoint at {request.path}; the path ends with a slash: {slash}"
    else:
        detail = f"No API endpoint or object at {request.path}."
    return JsonResponse({"detail": detail}, status=404)


def bad_request(request: HttpRequest, exception=None):
    if not is_api(request):
        return defaults.bad_request(request, exception)
    return JsonResponse({"detail": "The request could not be read (malformed or too many parameters)."}, status=400)


def permission_denied(request: HttpRequest, exception=None):
    if not is_api(request):
        return defaults.permission_denied(request, exception)
    return JsonResponse({"detail": "You do not have permission to perform this action."}, status=403)


def page_not_found(request: HttpRequest, exception=None):
    if not is_api(request):
        return defaults.page_not_found(request, exception)
    return not_found(request)


def server_error(request: HttpRequest):
    # The last resort: every input is meant to be answered with a 4xx; reaching this is a bug.
    if not is_api(request):
        return defaults.server_error(request)
    return JsonResponse({"detail": "The server failed to answer this request; it has been logged."}, status=500)
