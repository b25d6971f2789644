"""Every list endpoint runs a constant number of queries, whatever the page or data size."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import FlagFactory, MetricRevisionFactory, PersonFactory, RiskAssessmentFactory

from .conftest import key_client
from .resources import RESOURCES

pytestmark = pytest.mark.django_db

BIG = 105  # rows beyond a page of 100


def _grow(resource, world, n: int) -> None:
    """Add n rows of the resource, with their many-to-many links and annotations' inputs."""
    for i in range(n):
        if resource.path == "flags":
            FlagFactory(program=world.program, subject_type="metric", subject_id=10_000 + i, kind="metric_stale")
            continue
        row = resource.fresh(world)
        if resource.path == "initiatives":
            row.business_units.add(world.business_unit)
        elif resource.path == "forums":
            row.members.add(world.person)
            row.metrics_reviewed.add(world.metric)
        elif resource.path == "programs":
            RiskAssessmentFactory(program=row, as_of=dt.date(2024, 6, 1))


def _count(client, path: str, page_size: int) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(f"/api/v1/{path}/", {"page_size": page_size})
    assert response.status_code == 200
    assert len(response.json()["results"]) <= page_size
    return len(ctx.captured_queries)


@pytest.mark.parametrize("resource", RESOURCES, ids=str)
def test_list_query_count_is_constant(resource, world, office, django_assert_max_num_queries):
    client = office
    client.get("/api/v1/people/")  # the key's first use writes last_used_at once; keep it out
    small = _count(client, resource.path, 10)
    _grow(resource, world, BIG)
    big_page_10 = _count(client, resource.path, 10)
    big_page_100 = _count(client, resource.path, 100)
    assert big_page_10 == big_page_100, (big_page_10, big_page_100)
    # A list shorter than its page skips its COUNT(*) (its rows are the count): one less.
    assert small in (big_page_10, big_page_10 - 1), (small, big_page_10)
    # key lookup + count + page + at most two prefetches (forums: members, metrics)
    with django_assert_max_num_queries(5):
        client.get(f"/api/v1/{resource.path}/", {"page_size": 100})


def test_scans_and_revisions_lists_are_constant(world, office):
    from accountability.models import ScanRun

    office.get("/api/v1/people/")
    ScanRun.objects.create(organization=world.organization, as_of=dt.date(2023, 1, 1))
    MetricRevisionFactory(metric=world.metric)
    revisions = f"metrics/{world.metric.pk}/revisions"
    # Pages of 1: full, so they ask their count like the big pages (a page that is not
    # full is counted from its rows: tests/api/test_pagination_counts.py).
    small = (_count(office, "scans", 1), _count(office, revisions, 1))
    for i in range(BIG):
        ScanRun.objects.create(organization=world.organization, as_of=dt.date(2024, 1, 1) + dt.timedelta(days=i))
        MetricRevisionFactory(metric=world.metric)
    assert (_count(office, "scans", 100), _count(office, revisions, 100)) == small


def _queries(client, url: str, params: dict) -> int:
    """Queries of one answer, a spreadsheet's rows streamed to the end."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
        assert response.status_code == 200, url
        if response.streaming:
            b"".join(response.streaming_content)
    return len(ctx.captured_queries)


def test_action_lists_and_their_spreadsheets_are_constant(world, office, django_assert_max_num_queries):
    """A flag's comments, a metric's revisions and a program's risk series: the same number of
    queries for a few rows as for more than a page, in JSON, CSV and XLSX."""
    from accountability.models import FlagComment
    from programs.services import api_key_create

    def grow(n: int) -> None:
        # Comments by a person and by an API key with its creator: their names come with the row.
        key, _ = api_key_create(organization=world.organization, name=f"feed {n}", role="integration")
        for i in range(n):
            author = {"author": world.person} if i % 2 else {"author_key": key}
            FlagComment.objects.create(flag=world.flag, text=f"Comment {i}", **author)
            MetricRevisionFactory(metric=world.metric)
            RiskAssessmentFactory(program=world.program, as_of=dt.date(2020, 1, 1) + dt.timedelta(days=n * 1000 + i))

    office.get("/api/v1/people/")
    reads = [
        (f"/api/v1/flags/{world.flag.pk}/comments/", {}),
        (f"/api/v1/metrics/{world.metric.pk}/revisions/", {}),
        (f"/api/v1/programs/{world.program.pk}/risk/", {"history": "1"}),
    ]
    # Full pages of 2 at both sizes: each asks its count (a page that is not full is
    # counted from its rows, tests/api/test_pagination_counts.py).
    formats = ({"page_size": 2}, {"format": "csv"}, {"format": "xlsx"})
    grow(2)
    small = [_queries(office, url, {**params, **fmt}) for url, params in reads for fmt in formats]
    grow(BIG)
    assert [_queries(office, url, {**params, **fmt}) for url, params in reads for fmt in formats] == small
    # key lookup + the flag, metric or program + count + rows (the risk series: no count)
    for url, params in reads:
        for fmt in formats:
            with django_assert_max_num_queries(4):
                response = office.get(url, {**params, **fmt})
                if response.streaming:
                    b"".join(response.streaming_content)


def test_session_callers_add_a_fixed_cost_only(world, office_user):
    from .conftest import session_client

    client = session_client(office_user)
    small = _count(client, "initiatives", 1)  # a full page, as below: both ask the count
    _grow(next(r for r in RESOURCES if r.path == "initiatives"), world, BIG)
    assert _count(client, "initiatives", 100) == small


def test_large_counts_are_cached_briefly_and_small_ones_are_exact(world, office, settings, other_organization):
    from django.core.cache import cache

    from tests.factories import MeasurementFactory

    cache.clear()
    settings.CXGOV_API_COUNT_CACHE_MIN = 3
    office.get("/api/v1/people/")
    assert office.get("/api/v1/measurements/").json()["count"] == 1  # under the threshold: exact
    MeasurementFactory(metric=world.metric, period_end=dt.date(2024, 7, 31))
    MeasurementFactory(metric=world.metric, period_end=dt.date(2024, 8, 31))
    full = {"page_size": 2}  # a full page asks the count; one that is not full counts its rows
    assert office.get("/api/v1/measurements/", full).json()["count"] == 3  # now cached
    MeasurementFactory(metric=world.metric, period_end=dt.date(2024, 9, 30))
    with CaptureQueriesContext(connection) as ctx:
        body = office.get("/api/v1/measurements/", full).json()
    assert body["count"] == 3  # the cached count; the rows are live
    assert len(body["results"]) == 2 and body["next"] is not None
    assert not any("COUNT(" in q["sql"] for q in ctx.captured_queries)
    whole = office.get("/api/v1/measurements/").json()  # one page, not full: its rows are the count
    assert whole["count"] == 4 and len(whole["results"]) == 4
    filtered = office.get("/api/v1/measurements/", {"period_end_after": "2024-09-01"}).json()
    assert filtered["count"] == 1  # another query, its own exact count
    other = key_client(other_organization, "office").get("/api/v1/measurements/").json()
    assert other["count"] == 0  # another tenant never reads this tenant's cached count
    settings.CXGOV_API_COUNT_CACHE_SECONDS = 0
    assert office.get("/api/v1/measurements/", full).json()["count"] == 4
    cache.clear()


def test_many_to_many_ids_are_read_from_the_page_prefetch_and_fresh_after_a_write(world, office):
    # A list renders members from one prefetch for the page; a write answers with the ids it
    # just set, never with a list read before the write.
    other = PersonFactory(organization=world.organization)
    listed = office.get("/api/v1/forums/").json()["results"]
    assert [row["members"] for row in listed] == [[world.person.pk]]
    changed = office.patch(f"/api/v1/forums/{world.forum.pk}/", {"members": [other.pk]}, format="json")
    assert changed.status_code == 200 and changed.json()["members"] == [other.pk]
    assert office.get(f"/api/v1/forums/{world.forum.pk}/").json()["members"] == [other.pk]
    assert office.get("/api/v1/forums/").json()["results"][0]["members"] == [other.pk]
