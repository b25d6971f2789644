"""URLs of the API benchmark's gunicorn: the project's, plus baselines (benchmark only).

A baseline view returns the same rows as a page of the API, read with a plain
`.values()` and returned by `JsonResponse` (no serializer, no auth, no pagination
count), so `benchmarks/api.py` can compare the two in the same run.
"""

from django.urls import include, path

PAGE = 100


def _page(queryset, fields: list[str]):
    from django.http import JsonResponse

    return JsonResponse({"results": list(queryset.values(*fields)[:PAGE])})


def baseline_flags(request, organization_id: int):
    from accountability.models import Flag

    fields = ["id", "program_id", "kind", "severity", "subject_type", "subject_id", "owner_id", "title", "status"]
    queryset = Flag.objects.filter(organization_id=organization_id).order_by("-last_detected_at", "-id")
    return _page(queryset, [*fields, "evidence", "first_detected_at", "last_detected_at"])


def baseline_metrics(request, organization_id: int):
    from metrics.models import Metric

    # The same rows as the API serves: with the latest measurement annotated.
    queryset = (
        Metric.objects.filter(program__organization_id=organization_id)
        .with_latest()
        .order_by("program_id", "name", "id")
    )
    return _page(
        queryset,
        [
            "id",
            "program_id",
            "parent_id",
            "name",
            "level",
            "kind",
            "unit",
            "direction",
            "baseline",
            "target",
            "target_on",
            "owner_id",
            "incentive_weight",
            "status",
            "latest_value",
            "latest_period_end",
        ],
    )


def baseline_measurements(request, organization_id: int):
    from metrics.models import Measurement

    queryset = Measurement.objects.filter(metric__program__organization_id=organization_id).order_by(
        "metric_id", "-period_end"
    )
    return _page(queryset, ["id", "metric_id", "period_end", "value", "source", "recorded_at"])


urlpatterns = [
    path("baseline/<int:organization_id>/flags/", baseline_flags),
    path("baseline/<int:organization_id>/metrics/", baseline_metrics),
    path("baseline/<int:organization_id>/measurements/", baseline_measurements),
    path("", include("cxgov.urls")),
]
