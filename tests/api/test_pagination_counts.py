"""A page that is not full is the last one: its rows give `count`, with no COUNT(*) query.

A full page, and a page past the end, still ask the count (the second to refuse the page).
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from programs.models import Person
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def _get(client, params: dict):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/api/v1/people/", params)
    counts = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith('SELECT COUNT(*) AS "__count"')]
    return response, len(counts)


@pytest.fixture
def seven_people(world, office):
    for i in range(7 - Person.objects.filter(organization=world.organization).count()):
        PersonFactory(organization=world.organization, name=f"Person {i:02}")
    office.get("/api/v1/people/")  # the key's first use writes last_used_at; keep it out
    assert Person.objects.filter(organization=world.organization).count() == 7


def test_a_list_shorter_than_its_page_is_counted_from_its_rows(seven_people, office):
    response, counts = _get(office, {"page_size": 8})
    body = response.json()
    assert response.status_code == 200 and counts == 0
    assert body["count"] == 7 and len(body["results"]) == 7 and body["next"] is None


def test_a_full_page_asks_the_count(seven_people, office):
    response, counts = _get(office, {"page_size": 7})
    body = response.json()
    assert response.status_code == 200 and counts == 1
    assert body["count"] == 7 and body["next"] is None


def test_the_last_page_counts_the_rows_before_it(seven_people, office):
    first, first_counts = _get(office, {"page_size": 3})
    last, last_counts = _get(office, {"page_size": 3, "page": 3})
    assert (first_counts, last_counts) == (1, 0)
    assert first.json()["count"] == last.json()["count"] == 7
    assert len(last.json()["results"]) == 1 and last.json()["next"] is None
    assert last.json()["previous"] is not None


def test_a_page_past_the_end_is_still_refused(seven_people, office):
    response, counts = _get(office, {"page_size": 3, "page": 4})
    assert response.status_code == 400 and counts == 1
    assert response.json() == {"page": ["There is no page 4: the list has 3 pages."]}


def test_an_empty_list_is_page_one_of_nothing(world, office):
    response = office.get("/api/v1/people/", {"name": "nobody of that name"})
    assert response.status_code == 200
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


@pytest.mark.parametrize("path", ["people", "escalations", "attendance", "business-units"])
@pytest.mark.parametrize("page", ["100000000000000001", "9999999999999999999", "92233720368547759"])
def test_a_page_further_than_the_database_can_offset_is_a_400_not_a_500(seven_people, office, path, page):
    # (page - 1) × 100 is beyond PostgreSQL's bigint OFFSET for the first two, within it for the last.
    response = office.get(f"/api/v1/{path}/", {"page": page, "page_size": 100})
    assert response.status_code == 400, response.content
    assert response.json()["page"][0].startswith(f"There is no page {page}: the list has ")
