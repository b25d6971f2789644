"""URLs of the API benchmark's gunicorn: the project's, plus baselines (benchmark only).

A baseline returns the same rows as a page of the API list of the same name: the same
organization's rows, in the viewset's default order, every column the API renders (the
viewset's `values_fields` with its annotations, e.g. the metric's latest measurement;
otherwise every column of the table and every annotation, and the ids of each many-to-many
field it renders, one query per field for the page), read with a plain `.values()` and
returned by `JsonResponse`. No serializer, no authentication, no filters, no pagination count: the
least any server must do to answer the same question, so `benchmarks/api.py` compares
the two in the same run (docs/performance.md).
"""

from django.urls import include, path

PAGE = 100


def _viewsets() -> dict:
    from cxgov.api_router import router

    return {prefix: viewset for prefix, viewset, _ in router.registry}


def baseline(request, name: str, organization_id: int):
    from django.http import Http404, JsonResponse

    from programs.scoping import organization_path

    viewset = _viewsets().get(name)
    if viewset is None:
        raise Http404(name)
    model = viewset.queryset.model
    queryset = viewset.queryset.all().filter(**{organization_path(model): organization_id})
    queryset = viewset().annotate_queryset(queryset)
    # The annotations the API renders (risk, readiness, last update…) are columns too.
    fields = getattr(viewset, "values_fields", ()) or [
        *(f.attname for f in model._meta.concrete_fields),
        *queryset.query.annotations,
    ]
    rows = list(queryset.order_by(*viewset.ordering).values(*fields)[:PAGE])
    # A many-to-many field the API renders (a forum's members) is a field of the page too:
    # its ids, in the related rows' order, one query per field for the whole page.
    rendered = set(viewset.serializer_class.Meta.fields)
    for field in model._meta.many_to_many:
        if field.name in rendered:
            ids = {row["id"]: row.setdefault(field.name, []) for row in rows}
            back = field.related_query_name()
            pairs = field.related_model._base_manager.filter(**{f"{back}__in": list(ids)}).values_list(back, "pk")
            for owner, related in pairs:
                ids[owner].append(related)
    return JsonResponse({"results": rows})


urlpatterns = [
    path("baseline/<int:organization_id>/<str:name>/", baseline),
    path("", include("cxgov.urls")),
]
