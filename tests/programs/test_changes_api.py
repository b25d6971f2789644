"""GET /api/v1/changes/ and the admin's change log: who reads it, filters, constant queries."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from metrics.services import metric_update
from programs.actors import stamp
from programs.changes import Change
from programs.services import api_key_create
from tests.factories import MembershipFactory, MetricFactory, PersonFactory, ProgramFactory, UserFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/changes/"


def session(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def key(organization, role: str, actor=None) -> APIClient:
    api_key, raw = api_key_create(organization=organization, name=f"{role} key", role=role, actor=actor)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.api_key = api_key
    return client


def rename(person, actor, title: str) -> None:
    stamp(person, actor)
    person.title = title
    person.save()


@pytest.fixture
def log(organization, office_user):
    """A program with a metric whose target moved, and a person renamed: a few entries."""
    program = ProgramFactory(organization=organization, name="Loyalty")
    metric = MetricFactory(program=program, name="Retention", target=Decimal("90"))
    metric_update(metric=metric, changes={"target": Decimal("85")}, reason="renegotiated", actor=office_user)
    person = PersonFactory(organization=organization, name="Rui")
    rename(person, office_user, "COO")
    return {"program": program, "metric": metric, "person": person}


def test_every_role_reads_the_log_integrations_included(organization, log):
    # SPEC §2: integration = "read; write ..." (docs/security.md, "Who reads it").
    for role in ("office", "executive", "integration"):
        response = key(organization, role).get(URL)
        assert response.status_code == 200, role
        assert response.json()["count"] >= 2, role
    assert APIClient().get(URL).status_code == 401


def test_newest_first_with_sentences(organization, log, office_user):
    results = key(organization, "office").get(URL).json()["results"]
    ats = [r["at"] for r in results]
    assert ats == sorted(ats, reverse=True)
    target = next(r for r in results if r["model"] == "metrics.metric" and r["action"] == "~")
    assert target["changes"] == [{"field": "target", "label": "target", "old": "90", "new": "85"}]
    assert target["user"] == office_user.pk and target["api_key"] is None
    assert target["program"] == log["program"].pk and target["object_id"] == log["metric"].pk
    assert target["sentence"].startswith(f"{office_user.username} changed the target of Retention from 90 to 85 on ")


def test_another_organizations_changes_are_invisible(organization, other_organization, log):
    PersonFactory(organization=other_organization, name="Elsewhere")
    results = key(organization, "office").get(URL, {"page_size": 100}).json()["results"]
    assert {r["organization"] for r in results} == {organization.pk}
    assert not any("Elsewhere" in r["object_repr"] for r in results)
    theirs = Change.objects.filter(organization=other_organization).first()
    assert key(organization, "office").get(f"{URL}{theirs.pk}/").status_code == 404


def test_a_user_reads_the_log_of_each_organization_they_belong_to(organization, other_organization, log):
    user = UserFactory()
    MembershipFactory(user=user, organization=organization, role="integration")
    MembershipFactory(user=user, organization=other_organization, role="executive")
    PersonFactory(organization=other_organization, name="Theirs")
    results = session(user).get(URL, {"page_size": 100}).json()["results"]
    assert {r["organization"] for r in results} == {organization.pk, other_organization.pk}


def test_filters_by_person_key_model_program_and_dates(organization, log, office_user):
    ana = PersonFactory(organization=organization, name="Ana", user=office_user)
    bot = key(organization, "office", actor=office_user)
    bot.patch(f"/api/v1/people/{log['person'].pk}/", {"title": "CFO"}, format="json")
    reader = key(organization, "executive")

    def ids(**params) -> set[int]:
        response = reader.get(URL, {"page_size": 100, **params})
        assert response.status_code == 200, response.json()
        return {r["id"] for r in response.json()["results"]}

    by_ana = Change.objects.filter(actor_user=office_user)
    assert ids(person=ana.pk) == set(by_ana.values_list("id", flat=True)) != set()
    assert ids(user=office_user.pk) == ids(person=ana.pk)
    by_key = set(Change.objects.filter(actor_api_key=bot.api_key).values_list("id", flat=True))
    assert ids(api_key=bot.api_key.pk) == by_key and len(by_key) == 1
    assert ids(model="metric") == set(Change.objects.filter(model="metrics.metric").values_list("id", flat=True))
    assert ids(model="metrics.metric") == ids(model="metric")
    assert ids(program=log["program"].pk) == set(
        Change.objects.filter(program=log["program"]).values_list("id", flat=True)
    )
    today = dt.date.today()
    assert ids(at_after=today.isoformat(), at_before=today.isoformat()) == ids()
    assert ids(at_before=(today - dt.timedelta(days=1)).isoformat()) == set()
    # A person of another organization matches nothing (and says nothing about its user).
    stranger = PersonFactory(user=office_user)
    assert ids(person=stranger.pk) == set()


@pytest.mark.parametrize(
    "params",
    [{"person": "x"}, {"api_key": "0"}, {"model": "nonsense"}, {"at_after": "12/11/2024"}, {"action": "?"}],
)
def test_invalid_filter_values_are_refused(organization, log, params):
    response = key(organization, "office").get(URL, params)
    assert response.status_code == 400
    assert set(response.json()) == set(params)


def test_a_page_of_100_costs_the_same_queries_at_two_sizes(organization, office_user):
    client = key(organization, "office")
    client.get("/api/v1/people/")  # the key's first use writes last_used_at once; keep it out
    people = [PersonFactory(organization=organization) for _ in range(60)]
    for person in people:
        rename(person, office_user, "small")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(URL, {"page_size": 100})
        assert response.status_code == 200 and len(response.json()["results"]) == 100
        return len(ctx.captured_queries)

    small = count()  # 120 entries
    for person in people * 5:
        rename(person, office_user, f"big {person.pk} {person.title}")
    big = count()  # 420 entries
    assert Change.objects.count() >= 420
    # The key's lookup, the count and the page: three queries whatever the log's length
    # and the number of history tables.
    assert small == big == 3


def test_the_admin_change_log(client, organization, log, office_user, django_assert_max_num_queries):
    client.force_login(office_user)
    with django_assert_max_num_queries(12):
        page = client.get("/admin/programs/change/")
    assert page.status_code == 200
    assert "changed the target of Retention from 90 to 85" in page.content.decode()
    filtered = client.get("/admin/programs/change/", {"model": "person"})
    assert "Retention" not in filtered.content.decode() and "Rui" in filtered.content.decode()
    entry = Change.objects.filter(organization=organization).first()
    assert client.get(f"/admin/programs/change/{entry.pk}/change/").status_code == 200
    assert client.post(f"/admin/programs/change/{entry.pk}/delete/").status_code == 403
    assert client.get("/admin/programs/change/add/").status_code == 403


def test_the_admin_change_log_is_not_for_integrations(client, organization, log):
    user = UserFactory()
    MembershipFactory(user=user, organization=organization, role="integration")
    client.force_login(user)
    assert client.get("/admin/programs/change/").status_code == 403
