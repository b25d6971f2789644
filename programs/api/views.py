"""API viewsets of the programs domain (programs themselves: accountability/api/programs.py,
because their risk and metric tree come from the apps above this one)."""

from rest_framework import mixins, viewsets

from cxgov.api.permissions import OFFICE, OFFICE_EXECUTIVE, OFFICE_INTEGRATION
from cxgov.api.viewsets import ScopedCreateReadViewSet, ScopedModelViewSet, ScopedReadOnlyViewSet, ScopedViewSetMixin
from programs import filtersets
from programs.access import calendar_url_column
from programs.models import (
    BusinessUnit,
    Change,
    CommitmentAssessment,
    Initiative,
    Organization,
    Person,
    ProgressUpdate,
    RoadmapStage,
)

from . import serializers


class OrganizationViewSet(ScopedViewSetMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """The caller's organizations (superusers: all). PATCH by the office only: CEO, board
    contact, board recipients, currency. Created by an operator, never deleted here."""

    queryset = Organization.objects.all()
    serializer_class = serializers.OrganizationSerializer
    http_method_names = ["get", "patch", "head", "options"]
    ordering_fields = ["id", "name"]
    ordering = ["name", "id"]
    role_rules = {"partial_update": OFFICE}


class PersonViewSet(ScopedModelViewSet):
    queryset = Person.objects.all()
    serializer_class = serializers.PersonSerializer
    filterset_class = filtersets.PersonFilterSet
    ordering_fields = ["id", "name", "title"]
    ordering = ["name", "id"]

    def annotate_queryset(self, queryset):
        request = getattr(self, "request", None)
        return queryset.annotate(calendar_url=calendar_url_column(request.user if request else None))

    def create_object(self, serializer) -> None:
        super().create_object(serializer)
        # Answer with the row as it is read, its calendar address (a column of the read) included.
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)


class BusinessUnitViewSet(ScopedModelViewSet):
    queryset = BusinessUnit.objects.all()
    serializer_class = serializers.BusinessUnitSerializer
    filterset_class = filtersets.BusinessUnitFilterSet
    ordering_fields = ["id", "name"]
    ordering = ["name", "id"]


class StageViewSet(ScopedModelViewSet):
    queryset = RoadmapStage.objects.all()
    serializer_class = serializers.StageSerializer
    filterset_class = filtersets.StageFilterSet
    ordering_fields = ["id", "sequence", "starts_on", "ends_on", "budget"]
    ordering = ["program_id", "sequence"]


class InitiativeViewSet(ScopedModelViewSet):
    queryset = Initiative.objects.all()
    serializer_class = serializers.InitiativeSerializer
    filterset_class = filtersets.InitiativeFilterSet
    ordering_fields = ["id", "name", "status", "starts_on", "due_on", "percent_complete", "last_update_on"]
    ordering = ["program_id", "due_on", "id"]

    def annotate_queryset(self, queryset):
        return queryset.with_last_update()


class ProgressUpdateViewSet(ScopedCreateReadViewSet):
    queryset = ProgressUpdate.objects.all()
    serializer_class = serializers.ProgressUpdateSerializer
    filterset_class = filtersets.ProgressUpdateFilterSet
    ordering_fields = ["id", "reported_on", "created_at"]
    ordering = ["-reported_on", "-id"]
    role_rules = {"create": OFFICE_INTEGRATION, "destroy": OFFICE}


class CommitmentAssessmentViewSet(ScopedModelViewSet):
    queryset = CommitmentAssessment.objects.all()
    serializer_class = serializers.CommitmentAssessmentSerializer
    filterset_class = filtersets.CommitmentAssessmentFilterSet
    ordering_fields = ["id", "assessed_on", "score"]
    ordering = ["-assessed_on", "-id"]
    role_rules = {"create": OFFICE_EXECUTIVE}


class ChangeViewSet(ScopedReadOnlyViewSet):
    """The organization's change log, newest first (SPEC §2 "Who changed what").

    Every role reads it, integrations included (SPEC §2: integration = "read; ..."), each
    caller only the log of its own organizations (docs/security.md). A page is one query
    (plus the count) whatever the number of tracked models.
    """

    queryset = Change.objects.all()
    serializer_class = serializers.ChangeSerializer
    filterset_class = filtersets.ChangeFilterSet
    ordering_fields = ["at", "id"]
    ordering = ["-at", "-id"]
    # Scoped like every resource (`ChangeQuerySet.for_user`): the caller's organizations.
