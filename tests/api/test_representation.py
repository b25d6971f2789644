"""The fast read path renders exactly what DRF's generic `to_representation` renders."""

import pytest
from rest_framework import serializers
from rest_framework.test import APIRequestFactory, force_authenticate

from accountability.models import ScanRun
from cxgov.api_router import router
from tests.factories import FlagFactory, MeasurementFactory, MetricRevisionFactory, RiskAssessmentFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("prefix", "viewset"), [(prefix, viewset) for prefix, viewset, _ in router.registry], ids=lambda v: str(v)
)
def test_fast_representation_equals_drf(prefix, viewset, world, office_user):
    FlagFactory(program=world.program, subject_type="metric", subject_id=world.metric.pk, kind="metric_stale")
    RiskAssessmentFactory(program=world.program)
    MeasurementFactory(metric=world.metric, period_end="2024-12-31", value="12.3456")
    MetricRevisionFactory(metric=world.metric)
    world.initiative.business_units.add(world.business_unit)
    ScanRun.objects.create(organization=world.organization, as_of="2024-06-01", errors=[{"where": "x"}])
    request = APIRequestFactory().get(f"/api/v1/{prefix}/")
    force_authenticate(request, office_user)
    view = viewset(action="list", action_map={"get": "list"}, format_kwarg=None, args=(), kwargs={})
    view.request = view.initialize_request(request)
    serializer = view.get_serializer()
    rows = list(view.get_queryset())
    assert rows or prefix == "webhooks"
    for row in rows:
        assert serializer.to_representation(row) == serializers.Serializer.to_representation(serializer, row)
