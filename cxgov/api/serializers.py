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
import datetime
import decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings

from programs.access import organization_ids
from programs.models import Organization

from .exceptions import django_validation_detail
from .fields import IsoDateField, ScopedPrimaryKeyRelatedField, StrictDecimalField
from .scoping import organization_id_of, organization_path

_PASS_THROUGH = (
    (serializers.ChoiceField, str),
    (serializers.CharField, str),
    (serializers.BooleanField, bool),
    (serializers.IntegerField, int),
    (serializers.FloatField, float),
)


def _plain_decimal(field) -> bool:
    """A DecimalField rendered the default way: a string, quantized, not localized."""
    coerce = getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING)
    return bool(coerce) and not field.localize and field.decimal_places is not None


def _plain_datetime(field) -> bool:
    output_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
    return isinstance(output_format, str) and output_format.lower() == ISO_8601 and not hasattr(field, "timezone")


class FastReadMixin:
    """DRF's `to_representation`, minus its per-field machinery on plain attributes.

    A list of 100 rows spends most of its time in DRF's generic path: `get_attribute`
    walks `source_attrs` for every field of every row. Here a read plan is built once per
    serializer (a ListSerializer reuses its child for every row): model attributes and
    foreign-key ids are read directly, values already of the output type pass through,
    many-to-many ids come from the prefetch cache, and anything else (decimals, dates,
    method fields, nested serializers) goes through the field's own `to_representation`.
    The output is identical to DRF's (tests/api/test_representation.py checks every
    resource against `serializers.Serializer.to_representation`).
    """

    _field_templates: dict = {}

    def get_fields(self):
        """ModelSerializer introspects the model on every instantiation (about 1 ms for a
        metric); the result depends only on the class, so it is built once and copied, as
        DRF itself does for declared fields."""
        cls = type(self)
        template = FastReadMixin._field_templates.get(cls)
        if template is None:
            template = super().get_fields()
            FastReadMixin._field_templates[cls] = template
        return copy.deepcopy(template)

    def _read_plan(self) -> list[tuple]:
        plan = self.__dict__.get("_read_plan_cache")
        if plan is None:
            plan = [self._plan_field(field) for field in self._readable_fields]
            self.__dict__["_read_plan_cache"] = plan
        return plan

    def _plan_field(self, field) -> tuple:
        name, source = field.field_name, field.source
        model = getattr(getattr(self, "Meta", None), "model", None)
        simple = source != "*" and "." not in source
        if simple and isinstance(field, serializers.ManyRelatedField) and not field.child_relation.pk_field:
            return (name, "m2m", source, field)
        if simple and isinstance(field, serializers.PrimaryKeyRelatedField) and not field.pk_field and model:
            try:
                return (name, "fk", model._meta.get_field(source).attname, field)
            except Exception:  # not a model field (a property): the generic path
                return (name, "generic", source, field)
        generic = serializers.SerializerMethodField | serializers.BaseSerializer | serializers.ModelField
        if not simple or isinstance(field, generic):
            return (name, "generic", source, field)
        if type(field) in (serializers.DecimalField, StrictDecimalField) and _plain_decimal(field):
            context = decimal.getcontext().copy()
            if field.max_digits is not None:
                context.prec = field.max_digits
            quantum = decimal.Decimal(".1") ** field.decimal_places
            return (name, "decimal", source, field, (quantum, field.rounding, context))
        if type(field) is serializers.DateTimeField and _plain_datetime(field):
            return (name, "datetime", source, field, timezone.get_current_timezone())
        for field_class, native in _PASS_THROUGH:
            if type(field) is field_class or (
                field_class is serializers.ChoiceField and isinstance(field, field_class)
            ):
                return (name, "plain", source, field, native)
        return (name, "value", source, field)

    def to_representation(self, instance):
        ret = {}
        for entry in self._read_plan():
            name, kind, source, field = entry[:4]
            if kind == "generic":
                try:
                    attribute = field.get_attribute(instance)
                except serializers.SkipField:
                    continue
                check = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
                ret[name] = None if check is None else field.to_representation(attribute)
            elif kind == "fk":
                ret[name] = getattr(instance, source)
            elif kind == "m2m":
                ret[name] = [related.pk for related in getattr(instance, source).all()]
            elif kind == "decimal":
                value = getattr(instance, source)
                if value is None or not isinstance(value, decimal.Decimal):
                    ret[name] = None if value is None else field.to_representation(value)
                else:
                    quantum, rounding, context = entry[4]
                    ret[name] = f"{value.quantize(quantum, rounding=rounding, context=context):f}"
            elif kind == "datetime":
                value = getattr(instance, source)
                if not value or not isinstance(value, datetime.datetime) or timezone.is_naive(value):
                    ret[name] = field.to_representation(value) if value else None
                else:
                    text = value.astimezone(entry[4]).isoformat()
                    ret[name] = text[:-6] + "Z" if text.endswith("+00:00") else text
            else:
                value = getattr(instance, source)
                if value is None:
                    ret[name] = None
                elif kind == "plain" and type(value) is entry[4]:
                    ret[name] = value
                else:
                    ret[name] = field.to_representation(value)
        return ret


class ScopedModelSerializer(FastReadMixin, serializers.ModelSerializer):
    serializer_related_field = ScopedPrimaryKeyRelatedField
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DecimalField: StrictDecimalField,
        models.DateField: IsoDateField,
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
