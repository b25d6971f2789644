"""flags/ (read, acknowledge, resolve, dismiss) and scans/ (queue 202, follow)."""

import datetime as dt

import pytest
from django.utils import timezone

from accountability.models import Flag, ScanRun
from tests.factories import FlagFactory

from .conftest import session_client

pytestmark = pytest.mark.django_db


def move(client, flag, verb, body=None):
    return client.post(f"/api/v1/flags/{flag.pk}/{verb}/", body or {}, format="json")


def test_executives_and_the_office_acknowledge_integrations_do_not(world, clients):
    assert move(clients["integration"], world.flag, "acknowledge").status_code == 403
    response = move(clients["executive"], world.flag, "acknowledge")
    assert response.status_code == 200
    assert response.json()["status"] == "acknowledged"
    assert response.json()["acknowledged_at"] is not None
    assert response.json()["acknowledged_by"] is None  # an API key is nobody
    twice = move(clients["office"], world.flag, "acknowledge")
    assert twice.status_code == 400
    assert twice.json() == {"detail": "A flag that is acknowledged cannot be acknowledged."}


def test_a_session_user_is_recorded_as_who_acknowledged(world, executive_user):
    response = move(session_client(executive_user), world.flag, "acknowledge")
    assert response.json()["acknowledged_by"] == executive_user.pk


def test_only_the_office_resolves_with_a_note(world, clients):
    assert move(clients["executive"], world.flag, "resolve", {"note": "x"}).status_code == 403
    assert move(clients["integration"], world.flag, "resolve", {"note": "x"}).status_code == 403
    response = move(clients["office"], world.flag, "resolve", {"note": "Owner named in the QBR."})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["resolution_note"]) == ("resolved", "Owner named in the QBR.")
    assert move(clients["office"], world.flag, "resolve").status_code == 400


def test_dismissing_needs_a_reason(world, clients):
    assert move(clients["executive"], world.flag, "dismiss", {"reason": "x"}).status_code == 403
    missing = move(clients["office"], world.flag, "dismiss")
    assert missing.status_code == 400
    assert missing.json() == {"reason": ["This field is required."]}
    blank = move(clients["office"], world.flag, "dismiss", {"reason": "   "})
    assert blank.status_code == 400
    assert Flag.objects.get(pk=world.flag.pk).status == "open"
    done = move(clients["office"], world.flag, "dismiss", {"reason": "Seasonal dip, agreed with the CEO."})
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["resolution_note"]) == (
        "dismissed",
        "Seasonal dip, agreed with the CEO.",
    )


def test_flag_moves_on_another_organizations_flag_are_404(world, other_world, office):
    for verb, body in (("acknowledge", {}), ("resolve", {}), ("dismiss", {"reason": "x"})):
        assert move(office, other_world.flag, verb, body).status_code == 404
    assert Flag.objects.get(pk=other_world.flag.pk).status == "open"


def test_flags_are_read_only(world, office):
    assert office.post("/api/v1/flags/", {"title": "x"}, format="json").status_code == 405
    assert office.patch(f"/api/v1/flags/{world.flag.pk}/", {"title": "x"}, format="json").status_code == 405
    assert office.delete(f"/api/v1/flags/{world.flag.pk}/").status_code == 405


def test_flag_filters(world, other_world, clients):
    client = clients["executive"]
    stale = FlagFactory(
        program=world.program, kind="metric_stale", severity="low", subject_type="metric", subject_id=world.metric.pk
    )
    FlagFactory(
        program=world.program,
        kind="initiative_overdue",
        severity="medium",
        subject_type="initiative",
        subject_id=world.initiative.pk,
        status="resolved",
    )

    def ids(**params):
        response = client.get("/api/v1/flags/", params)
        assert response.status_code == 200, response.json()
        return {row["id"] for row in response.json()["results"]}

    assert ids(kind="metric_stale") == {stale.pk}
    assert ids(severity=["low", "high"]) == {stale.pk, world.flag.pk}
    assert ids(subject_type="metric", subject_id=world.metric.pk) == {stale.pk}
    assert len(ids(live="true")) == 2 and len(ids(live="false")) == 1
    assert ids(status="resolved") == ids(live="false")
    assert ids(program=other_world.program.pk) == set()  # another organization's id matches nothing
    assert ids(last_detected_on_after="2024-06-01", last_detected_on_before="2024-06-01") == ids()
    assert ids(first_detected_on_after="2024-06-02") == set()
    assert client.get("/api/v1/flags/", {"severity": "urgent"}).status_code == 400
    assert client.get("/api/v1/flags/", {"first_detected_on_after": "01/06/2024"}).status_code == 400


def test_the_office_queues_a_scan_and_gets_202(world, clients, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = clients["office"].post("/api/v1/scans/", {"as_of": "2024-06-01"}, format="json")
    assert response.status_code == 202
    body = response.json()
    assert (body["as_of"], body["organization"]) == ("2024-06-01", world.organization.pk)
    run = ScanRun.objects.get(pk=body["id"])
    assert run.status == "succeeded"  # eager Celery ran it once the transaction committed
    followed = clients["integration"].get(f"/api/v1/scans/{run.pk}/")
    assert followed.json()["status"] == "succeeded"


def test_scan_rules(world, other_world, clients):
    assert clients["executive"].post("/api/v1/scans/", {}, format="json").status_code == 403
    assert clients["integration"].post("/api/v1/scans/", {}, format="json").status_code == 403
    bad = clients["office"].post("/api/v1/scans/", {"as_of": "June 1st"}, format="json")
    assert bad.status_code == 400
    other = clients["office"].post("/api/v1/scans/", {"organization": other_world.organization.pk}, format="json")
    assert other.status_code == 400
    today = clients["office"].post("/api/v1/scans/", {}, format="json")
    assert today.status_code == 202
    assert today.json()["as_of"] == timezone.localdate().isoformat()
    assert clients["office"].delete(f"/api/v1/scans/{today.json()['id']}/").status_code == 405
    other_run = ScanRun.objects.create(organization=other_world.organization, as_of=timezone.localdate())
    assert clients["office"].get(f"/api/v1/scans/{other_run.pk}/").status_code == 404
    listed = {r["id"] for r in clients["office"].get("/api/v1/scans/").json()["results"]}
    assert listed == {today.json()["id"]}


def test_a_user_of_two_organizations_names_the_one_to_scan(world, other_world, office_user):
    from tests.factories import MembershipFactory

    MembershipFactory(user=office_user, organization=other_world.organization, role="executive")
    client = session_client(office_user)
    assert client.post("/api/v1/scans/", {}, format="json").status_code == 400
    body = {"organization": other_world.organization.pk}
    assert client.post("/api/v1/scans/", body, format="json").status_code == 403
    mine = client.post("/api/v1/scans/", {"organization": world.organization.pk}, format="json")
    assert mine.status_code == 202
    assert mine.json()["requested_by"] == office_user.pk


def test_flags_open_on_a_date(world, clients):
    client = clients["executive"]
    closed = FlagFactory(
        program=world.program,
        kind="metric_stale",
        subject_type="metric",
        subject_id=world.metric.pk,
        status="resolved",
        first_detected_on=dt.date(2024, 5, 1),
        closed_on=dt.date(2024, 6, 10),
    )

    def ids(**params):
        response = client.get("/api/v1/flags/", params)
        assert response.status_code == 200, response.json()
        return {row["id"] for row in response.json()["results"]}

    # world.flag: first detected 2024-06-01, still open.
    assert ids(open_on="2024-05-31") == {closed.pk}
    assert ids(open_on="2024-06-09") == {closed.pk, world.flag.pk}
    assert ids(open_on="2024-06-10") == {world.flag.pk} == ids(as_of="2024-06-10")
    assert ids(open_on="2024-04-30") == set()
    assert ids(closed_on_after="2024-06-10") == {closed.pk}
    for bad in ("2024-02-30", "10/06/2024", "1899-12-31", "3000-01-01"):
        response = client.get("/api/v1/flags/", {"open_on": bad})
        assert response.status_code == 400 and "open_on" in response.json(), bad
    assert client.get("/api/v1/flags/", {"as_of": "9999-12-31"}).status_code == 400
