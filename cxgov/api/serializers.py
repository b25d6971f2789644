"""The base ModelSerializer of the API: organization-scoped references, strict types,
database constraints checked before the write, and one organization per write.

A write names its organization in one of three ways: org-level resources (people,
business units, programs) take it from the API key, from the caller's only membership,
or from an explicit `organization` id; everything else takes it from its parent
(`organization_from`: the program, initiative, metric, forum, session...). Every
reference in the body must then belong to that same organization: an id the caller
cannot see is "does not exist" (400), an id of another of the caller's organizations is
"belongs to another organization" (400).
"""

import copy

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from rest_framework import serializers

from programs.access import organization_ids
from programs.models import Organization
from programs.scoping import organization_id_of, organization_path

from .exceptions import django_validation_detail
from .fields import (
    IsoDateField,
    SaneDateTimeField,
    ScopedPrimaryKeyRelatedField,
    StrictDecimalField,
    json_type_errors,
)


class StrictTypesMixin:
    """Refuse a JSON value of the wrong type (SPEC §5) instead of coercing it: 12 for a text,
    0 for a boolean, "12" for an id or an integer (`fields.json_type_errors`).

    Put it first in the bases of any serializer that reads a request body.
    """

    def to_internal_value(self, data):
        errors = json_type_errors(self.fields, data)
        if errors:
            raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class StrictSerializer(StrictTypesMixin, serializers.Serializer):
    """A plain serializer of a request body (an action's input), with strict JSON types."""


class ScopedModelSerializer(StrictTypesMixin, serializers.ModelSerializer):
    serializer_related_field = ScopedPrimaryKeyRelatedField
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DecimalField: StrictDecimalField,
        models.DateField: IsoDateField,
        models.DateTimeField: SaneDateTimeField,
    }

    #: Field whose value gives the organization on create ("organization" for org-level).
    organization_from: str = "program"
    #: Fields that may be set on create only (moving a row to another parent is refused).
    create_only_fields: tuple[str, ...] = ()

    # --- organization ---
    @property
    def request(self):
        return self.context.get("request")

    def default_organization(self) -> Organization | None:
        """The organization of the API key, or of a caller with exactly one membership."""
        ids = organization_ids(self.request.user) if self.request else []
        if ids is not None and len(ids) == 1:
            return Organization(pk=ids[0])
        return None

    def target_organization_id(self, attrs: dict) -> int:
        if self.instance is not None:
            return organization_id_of(self.instance)
        source = self.organization_from
        value = attrs.get(source)
        if value is None and source == "organization":
            value = self.default_organization()
            if value is None:
                raise serializers.ValidationError(
                    {"organization": ["Name the organization (id): you belong to several."]}
                )
            attrs["organization"] = value
        if value is None:
            raise serializers.ValidationError({source: ["This field is required."]})
        return value.pk if isinstance(value, Organization) else organization_id_of(value)

    def check_same_organization(self, attrs: dict, organization_id: int) -> None:
        errors = {}
        for name, value in attrs.items():
            values = value if isinstance(value, list) else [value]
            for item in values:
                if not isinstance(item, models.Model) or organization_path(type(item)) is None:
                    continue
                if organization_id_of(item) != organization_id:
                    errors[name] = [
                        f"{item._meta.verbose_name.capitalize()} {item.pk} belongs to another organization."
                    ]
                    break
        if errors:
            raise serializers.ValidationError(errors)

    def check_create_only(self, attrs: dict) -> None:
        if self.instance is None:
            return
        errors = {}
        for name in self.create_only_fields:
            if name in attrs and attrs[name] != getattr(self.instance, name):
                errors[name] = ["This cannot be changed once the record exists."]
        if errors:
            raise serializers.ValidationError(errors)

    # --- database constraints, as 400s before the write ---
    def check_constraints(self, attrs: dict) -> None:
        """Run the model's unique and check constraints on the would-be row."""
        model = self.Meta.model
        candidate = copy.copy(self.instance) if self.instance is not None else model()
        concrete = {f.name for f in model._meta.concrete_fields}
        for name, value in attrs.items():
            if name in concrete:
                setattr(candidate, name, value)
        try:
            candidate.validate_constraints()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(django_validation_detail(exc)) from None

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        self.check_create_only(attrs)
        organization_id = self.target_organization_id(attrs)
        self.check_same_organization(attrs, organization_id)
        self.organization_id = organization_id
        self.check_constraints(attrs)
        return attrs
