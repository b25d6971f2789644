"""Base viewsets: organization scoping, role rules, list reads and atomic writes in one place.

A resource's viewset is declarative:

    class StageViewSet(ScopedModelViewSet):
        queryset = RoadmapStage.objects.all()
        serializer_class = StageSerializer
        filterset_class = StageFilterSet
        ordering_fields = ["sequence", "starts_on"]
        select_related = ["program"]

`get_queryset()` scopes to the caller's organizations (another organization's row is a
404), applies `select_related` / `annotate_queryset()` once, and writes run in a
transaction after the caller's role in the target organization is checked. A list of plain
columns, many-to-many ids included, is read by its `.values()` plan (cxgov/api/values.py).
"""

from django.db import transaction
from django.http import Http404
from rest_framework import mixins, viewsets
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from programs.actors import Actor
from programs.numbers import parse_id
from programs.scoping import organization_id_of, related_path

from .filters import FilterBackend, OrderingFilter
from .pagination import Pagination
from .permissions import RolePermission, allowed_roles, require_role_in
from .spreadsheets import answer_errors_in_json, spreadsheet_list, spreadsheet_renderers, streams_rows
from .values import ValuesPlan, values_plan

#: (viewset, serializer, the queryset's annotations) → the list's `.values()` plan, or None for DRF's path.
_VALUES_PLANS: dict[tuple, ValuesPlan | None] = {}


class ScopedViewSetMixin:
    permission_classes = [RolePermission]
    filter_backends = [FilterBackend, OrderingFilter]
    pagination_class = Pagination
    #: action → roles allowed; "write" is the default for unsafe actions (office only).
    role_rules: dict = {}
    select_related: list[str] = []
    #: Actions besides `list` that answer a list (a flag's comments, a metric's revisions):
    #: they answer ?format=csv and ?format=xlsx too, each streaming its own rows through
    #: `spreadsheet_list` or `spreadsheet_series` (cxgov/api/spreadsheets.py).
    spreadsheet_actions: tuple[str, ...] = ()

    def annotate_queryset(self, queryset):
        return queryset

    def get_renderers(self) -> list:
        # Lists also answer ?format=csv and ?format=xlsx (cxgov/api/spreadsheets.py).
        renderers = super().get_renderers()
        # Also for a method the view does not map (no action): ?format=csv must not turn its
        # 405 into a 404 ("no renderer for this format").
        if getattr(self, "action", None) in ("list", None, *self.spreadsheet_actions):
            renderers += spreadsheet_renderers()
        return renderers

    def list(self, request, *args, **kwargs):
        if streams_rows(request):
            return spreadsheet_list(self, request)
        queryset = self.filter_queryset(self.get_queryset())
        plan = self.values_plan(queryset)
        if plan is not None:
            queryset = plan.values(queryset)
        page = self.paginate_queryset(queryset)
        rows = queryset if page is None else page
        data = self.get_serializer(rows, many=True).data if plan is None else plan.rows(rows)
        return Response(data) if page is None else self.get_paginated_response(data)

    def values_plan(self, queryset) -> ValuesPlan | None:
        """The list's `.values()` read path derived from its serializer, or None for DRF's
        (cxgov/api/values.py); the same for every request of the viewset, so derived once."""
        serializer_class = self.get_serializer_class()
        key = (type(self), serializer_class, tuple(queryset.query.annotations))
        if key not in _VALUES_PLANS:
            # Without a request: the plan's writers are DRF's stock fields, which read none.
            _VALUES_PLANS[key] = values_plan(serializer_class(), queryset)
        return _VALUES_PLANS[key]

    def finalize_response(self, request, response, *args, **kwargs):
        answer_errors_in_json(request, response)
        return super().finalize_response(request, response, *args, **kwargs)

    def get_queryset(self):
        queryset = super().get_queryset().for_user(self.request.user)
        related = list(self.select_related)
        path = related_path(queryset.model)
        if path and self.action not in ("list", None):
            related.append(path)
        if related:
            queryset = queryset.select_related(*related)
        return self.annotate_queryset(queryset)

    def get_object(self):
        """The object among the caller's organizations (404 otherwise), role checked.

        Unlike DRF's default, list filters are not applied: a detail URL names one row, and
        an action's own filterset (e.g. revisions) applies to what it lists, not to it.
        """
        lookup_url_kwarg = self.lookup_url_kwarg or self.lookup_field
        if self.lookup_field == "pk" and parse_id(self.kwargs[lookup_url_kwarg]) is None:
            raise Http404  # "３" or "3 " names no row, though int() would read them
        obj = get_object_or_404(self.get_queryset(), **{self.lookup_field: self.kwargs[lookup_url_kwarg]})
        self.check_object_permissions(self.request, obj)
        return obj

    def organization_id_of(self, obj) -> int | None:
        return organization_id_of(obj)

    @property
    def actor(self) -> Actor:
        """Who acts, for audit rows: the user, or the API key (with its creator)."""
        return Actor.of(self.request.user)

    def get_serializer_context(self) -> dict:
        # Services write audit rows with the actor (user or API key); serializers pass it on.
        return {**super().get_serializer_context(), "actor": self.actor}

    def check_target_role(self, serializer) -> None:
        allowed = allowed_roles(self, self.request)
        if allowed is not None:
            require_role_in(self.request.user, serializer.organization_id, allowed)

    def perform_create(self, serializer) -> None:
        self.check_target_role(serializer)
        with transaction.atomic():
            self.create_object(serializer)

    def create_object(self, serializer) -> None:
        serializer.save()

    def perform_update(self, serializer) -> None:
        with transaction.atomic():
            self.update_object(serializer)

    def update_object(self, serializer) -> None:
        serializer.save()

    def perform_destroy(self, instance) -> None:
        with transaction.atomic():
            self.destroy_object(instance)

    def destroy_object(self, instance) -> None:
        instance.delete()


class ScopedModelViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]


class ScopedReadOnlyViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass


class ScopedCreateReadViewSet(
    ScopedViewSetMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet
):
    """Records that are appended, read and (by the office) deleted, never edited."""
