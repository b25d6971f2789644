"""django-filter classes for the programs domain, shared by the API and the dashboard."""

from django.db.models import Exists, OuterRef
from django_filters import rest_framework as filters

from cxgov.api.filters import IdFilter, choices, date_range

from .changes import model_choices
from .choices import ChangeAction, InitiativeStatus, ProgramStatus, Rag, StageStatus
from .models import (
    BusinessUnit,
    Change,
    CommitmentAssessment,
    Initiative,
    Person,
    Program,
    ProgressUpdate,
    RoadmapStage,
)


class PersonFilterSet(filters.FilterSet):
    organization = IdFilter(field_name="organization_id")
    reports_to = IdFilter(field_name="reports_to_id")
    name = filters.CharFilter(lookup_expr="icontains", max_length=200)
    email = filters.CharFilter(lookup_expr="iexact", max_length=254)

    class Meta:
        model = Person
        fields = ["organization", "reports_to", "name", "email", "is_officer", "active"]


class BusinessUnitFilterSet(filters.FilterSet):
    organization = IdFilter(field_name="organization_id")
    name = filters.CharFilter(lookup_expr="icontains", max_length=200)

    class Meta:
        model = BusinessUnit
        fields = ["organization", "name"]


class ProgramFilterSet(filters.FilterSet):
    organization = IdFilter(field_name="organization_id")
    status = choices(ProgramStatus)
    executive_sponsor = IdFilter(field_name="executive_sponsor_id")
    customer_champion = IdFilter(field_name="customer_champion_id")
    started_on_after, started_on_before = date_range("started_on")
    name = filters.CharFilter(lookup_expr="icontains", max_length=200)

    class Meta:
        model = Program
        fields = ["organization", "status", "executive_sponsor", "customer_champion", "name"]


class StageFilterSet(filters.FilterSet):
    program = IdFilter(field_name="program_id")
    status = choices(StageStatus)
    starts_on_after, starts_on_before = date_range("starts_on")
    ends_on_after, ends_on_before = date_range("ends_on")

    class Meta:
        model = RoadmapStage
        fields = ["program", "status"]


class InitiativeFilterSet(filters.FilterSet):
    program = IdFilter(field_name="program_id")
    stage = IdFilter(field_name="stage_id")
    owner = IdFilter(field_name="owner_id")
    business_unit = IdFilter(field_name="business_units", label="Initiatives touching this business unit")
    status = choices(InitiativeStatus)
    due_on_after, due_on_before = date_range("due_on")
    starts_on_after, starts_on_before = date_range("starts_on")

    class Meta:
        model = Initiative
        fields = ["program", "stage", "owner", "business_unit", "status"]


class ProgressUpdateFilterSet(filters.FilterSet):
    initiative = IdFilter(field_name="initiative_id")
    program = IdFilter(field_name="initiative__program_id")
    author = IdFilter(field_name="author_id")
    rag = choices(Rag)
    reported_on_after, reported_on_before = date_range("reported_on")

    class Meta:
        model = ProgressUpdate
        fields = ["initiative", "program", "author", "rag"]


class CommitmentAssessmentFilterSet(filters.FilterSet):
    program = IdFilter(field_name="program_id")
    assessor = IdFilter(field_name="assessor_id")
    assessed_on_after, assessed_on_before = date_range("assessed_on")

    class Meta:
        model = CommitmentAssessment
        fields = ["program", "assessor"]


class ChangeFilterSet(filters.FilterSet):
    """The change log's filters (SPEC: person, API key, model, program, dates)."""

    person = IdFilter(method="by_person", label="Changes made by this person (id), through their user account")
    user = IdFilter(field_name="actor_user_id", label="Changes made by this user account (id)")
    api_key = IdFilter(field_name="actor_api_key_id", label="Changes made with this API key (id)")
    model = filters.MultipleChoiceFilter(
        choices=model_choices, method="by_model", label="Record type: metric, measurement, flag..."
    )
    program = IdFilter(field_name="program_id")
    object_id = IdFilter(field_name="object_id", label="One record's changes (with model)")
    action = choices(ChangeAction)
    at_after, at_before = date_range("at", on_date=True)

    class Meta:
        model = Change
        fields = ["person", "user", "api_key", "model", "program", "object_id", "action"]

    def by_person(self, queryset, name, value):
        # The person's user, in the organization of the entry: a person id of another
        # organization matches nothing, and reveals nothing.
        person = Person.objects.filter(
            pk=value, user_id=OuterRef("actor_user_id"), organization_id=OuterRef("organization_id")
        )
        return queryset.filter(Exists(person))

    def by_model(self, queryset, name, value):
        return queryset.for_model_names(value) if value else queryset
