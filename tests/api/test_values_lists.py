"""The hot lists' `.values()` read path (cxgov/api/values.py) gives the serializer's bytes.

For flags, metrics and measurements the list renders rows by hand; for the same rows, in
the same order, the JSON must be byte for byte what the resource's serializer renders:
same keys and order, same text for decimals, dates and date-times (in any time zone), the
same nulls. A field added to a serializer and not to its `values_row` fails here.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIRequestFactory, force_authenticate

from accountability.api.views import FlagViewSet
from cxgov.api.values import ValuesListMixin
from metrics.api.views import MeasurementViewSet, MetricViewSet
from tests.factories import FlagFactory, MeasurementFactory, MetricFactory, ProgramFactory, UserFactory

pytestmark = pytest.mark.django_db

HOT_LISTS = [FlagViewSet, MetricViewSet, MeasurementViewSet]


@pytest.fixture
def rows(organization):
    """Rows with every shape a value can take: nulls, negatives, 4 places, big, unicode, JSON."""
    program = ProgramFactory(organization=organization)
    bare = MetricFactory(
        program=program, baseline=None, baseline_on=None, target=None, target_on=None, owner=None, unit=""
    )
    rising = MetricFactory(program=program, baseline=Decimal("-12.5"), target=Decimal("999999999999.9999"))
    MetricFactory(program=program, parent=rising, level="tactical", description="Zürich — 顧客")
    for day, value in ((1, "0.0001"), (2, "-5"), (3, "123456789012.3456")):
        MeasurementFactory(metric=rising, period_end=dt.date(2024, 1, day), value=Decimal(value), source="crm")
    MeasurementFactory(metric=bare, period_end=dt.date(2024, 2, 29), value=Decimal("7"), source="")
    user = UserFactory()
    moment = dt.datetime(2024, 6, 30, 23, 30, 15, 123456, tzinfo=dt.UTC)
    FlagFactory(program=program, subject_id=1, owner=None, evidence={"days": 41, "names": ["Zoë", "顧客"]})
    FlagFactory(
        program=program,
        subject_id=2,
        status="resolved",
        acknowledged_at=moment,
        acknowledged_by=user,
        resolved_at=moment + dt.timedelta(days=1),
        resolved_by=user,
        resolution_note="fixed",
        detail="line one\nline two",
        evidence={},
    )
    return program


def both_renderings(viewset, user) -> tuple[bytes, bytes, int]:
    request = APIRequestFactory().get("/", {"page_size": 1000})
    force_authenticate(request, user)
    view = viewset(action="list", action_map={"get": "list"}, format_kwarg=None, args=(), kwargs={})
    view.setup(request)
    view.request = view.initialize_request(request)
    values_rows = view.list(view.request).data["results"]
    objects = list(view.filter_queryset(view.get_queryset()))
    serialized = view.get_serializer(objects, many=True).data
    renderer = JSONRenderer()
    return renderer.render(values_rows), renderer.render(serialized), len(objects)


def test_the_hot_lists_take_the_values_path():
    assert all(issubclass(viewset, ValuesListMixin) for viewset in HOT_LISTS)


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata"])
@pytest.mark.parametrize("viewset", HOT_LISTS, ids=lambda v: v.__name__)
def test_values_rows_are_the_serializers_bytes(viewset, zone, rows, office_user, settings):
    settings.TIME_ZONE = zone
    with timezone.override(zone):
        by_values, by_serializer, count = both_renderings(viewset, office_user)
    assert count >= 2
    assert by_values == by_serializer
