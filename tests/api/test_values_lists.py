"""The hot lists' `.values()` read path (cxgov/api/values.py) gives the serializer's bytes.

For flags, metrics and measurements the list renders rows by hand; for the same rows, in
the same order, the JSON must be byte for byte what the resource's serializer renders:
same keys and order, same text for decimals, dates and date-times (in any time zone), the
same nulls. A field added to a serializer and not to its `values_row` fails here.

Every other list whose serializer is plain columns derives its rows from the serializer's
own fields (`values_plan`); the same comparison covers each, many-to-many ids included, and
the set of lists on each path is pinned, so a serializer change that moves one is seen.
"""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIRequestFactory, force_authenticate

from accountability.api.views import FlagViewSet
from accountability.models import ScanRun
from cxgov.api.values import ValuesListMixin
from metrics.api.views import MeasurementViewSet, MetricViewSet
from reports.spreadsheets.renderers import cell_text
from tests.factories import (
    ActionItemFactory,
    FlagFactory,
    ForumFactory,
    ForumSessionFactory,
    MeasurementFactory,
    MetricFactory,
    PersonFactory,
    ProgramFactory,
    UserFactory,
)

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


# Every other list whose serializer is made only of plain columns derives the same path from
# its serializer (`values_plan`); a list with a method field or many-to-many ids stays on DRF's.
DERIVED = {
    "organizations",
    "people",
    "business-units",
    "initiatives",
    "forums",
    "stages",
    "progress-updates",
    "commitment-assessments",
    "exemptions",
    "sessions",
    "attendance",
    "agenda-items",
    "action-items",
    "escalations",
    "scans",
}
ON_DRF = {"programs", "webhooks", "changes"}


def _viewsets() -> dict:
    from cxgov.api_router import router

    return {prefix: viewset for prefix, viewset, _ in router.registry}


def _list_view(viewset, user):
    request = APIRequestFactory().get("/")
    force_authenticate(request, user)
    view = viewset(action="list", action_map={"get": "list"}, format_kwarg=None, args=(), kwargs={})
    view.setup(request)
    view.request = view.initialize_request(request)
    return view


def _plan(view):
    return view.values_plan(view.get_queryset())


def test_the_lists_of_plain_columns_and_only_they_derive_the_values_path(office_user):
    plain = {
        prefix
        for prefix, viewset in _viewsets().items()
        if not issubclass(viewset, ValuesListMixin) and _plan(_list_view(viewset, office_user)) is not None
    }
    assert plain == DERIVED
    assert set(_viewsets()) - plain - {"flags", "metrics", "measurements"} == ON_DRF


@pytest.fixture
def every_list(world, organization):
    """The world's row of every resource, a scan among them, and rows with nulls."""
    ScanRun.objects.create(organization=organization, as_of=dt.date(2025, 3, 31))
    ActionItemFactory(program=world.program, session=None, owner=world.person, completed_on=None)
    ForumSessionFactory(forum=world.forum, notes="Zürich — 顧客\nline two")
    # Many-to-many ids: several, in the related rows' order (by name), and none at all.
    for name in ("Zoë Adams", "Abe Zhou"):
        world.forum.members.add(PersonFactory(organization=organization, name=name))
    world.forum.metrics_reviewed.add(world.metric)
    ForumFactory(program=world.program, name="Quiet forum")
    world.initiative.business_units.add(world.business_unit)
    organization.board_recipients.add(world.person)
    return world


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata"])
@pytest.mark.parametrize("prefix", sorted(DERIVED))
def test_derived_values_rows_are_the_serializers_bytes(prefix, zone, every_list, office_user, settings):
    settings.TIME_ZONE = zone
    with timezone.override(zone):
        by_values, by_serializer, count = both_renderings(_viewsets()[prefix], office_user)
    assert count >= 1
    assert by_values == by_serializer


def test_a_derived_list_spreadsheet_has_the_json_rows_ids_included(every_list, office):
    """The spreadsheet streams the same plan chunk by chunk: the forums' member ids as the page has them."""
    page = office.get("/api/v1/forums/", {"page_size": 100}).json()["results"]
    response = office.get("/api/v1/forums/", {"format": "csv"})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["id"] for row in rows] == [str(row["id"]) for row in page]
    assert [row["members"] for row in rows] == [cell_text(row["members"]) for row in page]
    assert any(len(row["members"]) >= 2 for row in page) and any(row["members"] == [] for row in page)
