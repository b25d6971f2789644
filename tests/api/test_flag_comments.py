"""flags/{id}/comments/ (GET, POST) and flags/{id}/assign/ (POST): office and executive, every
write naming its actor; the new owner is told by email through the outbox."""

import pytest

from accountability.models import Flag, FlagComment
from notifications.models import Notification
from tests.factories import PersonFactory

from .conftest import session_client

pytestmark = pytest.mark.django_db


def comments_url(flag) -> str:
    return f"/api/v1/flags/{flag.pk}/comments/"


def test_executives_and_the_office_comment_integrations_read_only(world, clients):
    assert clients["integration"].post(comments_url(world.flag), {"text": "x"}, format="json").status_code == 403
    response = clients["executive"].post(comments_url(world.flag), {"text": "  On it with Sales.  "}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["text"] == "On it with Sales."
    assert body["author"] is None and body["author_key"] == clients["executive"].api_key.pk
    assert body["author_name"].startswith("API key “executive integration”")
    listed = clients["integration"].get(comments_url(world.flag))
    assert listed.status_code == 200
    assert [c["text"] for c in listed.json()["results"]] == ["On it with Sales."]  # a page, like every list


def test_a_person_signed_in_is_the_author(world, executive_user):
    person = PersonFactory(organization=world.organization, user=executive_user, name="Ines Ferreira")
    response = session_client(executive_user).post(comments_url(world.flag), {"text": "Seen."}, format="json")
    assert response.status_code == 201
    assert (response.json()["author"], response.json()["author_name"]) == (person.pk, "Ines Ferreira")
    assert response.json()["author_user"] == executive_user.pk


@pytest.mark.parametrize("body", [{}, {"text": ""}, {"text": "   "}, {"text": 5}, {"text": "x" * 5001}])
def test_a_bad_comment_is_refused_and_writes_nothing(world, office, body):
    assert office.post(comments_url(world.flag), body, format="json").status_code == 400
    assert not FlagComment.objects.exists()


def test_a_comment_of_5000_characters_is_kept(world, office):
    assert office.post(comments_url(world.flag), {"text": "x" * 5000}, format="json").status_code == 201


def test_another_organizations_flag_is_404(world, other_world, office, anonymous):
    assert office.get(comments_url(other_world.flag)).status_code == 404
    assert office.post(comments_url(other_world.flag), {"text": "x"}, format="json").status_code == 404
    assert anonymous.get(comments_url(world.flag)).status_code == 401
    assert office.post(f"/api/v1/flags/{other_world.flag.pk}/assign/", {"owner": 1}, format="json").status_code == 404


def test_assigning_hands_the_flag_over_names_both_and_tells_the_new_owner(
    world, clients, django_capture_on_commit_callbacks
):
    old = world.flag.owner
    new = PersonFactory(organization=world.organization, name="Lea Park", email="lea@example.com")
    url = f"/api/v1/flags/{world.flag.pk}/assign/"
    assert clients["integration"].post(url, {"owner": new.pk}, format="json").status_code == 403
    with django_capture_on_commit_callbacks():
        response = clients["executive"].post(url, {"owner": new.pk, "note": "Sales owns this now."}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["owner"] == new.pk
    comment = FlagComment.objects.get(flag=world.flag)
    expected = f"Handed this flag {'from ' + old.name + ' ' if old else ''}to Lea Park. Sales owns this now."
    assert comment.text == expected
    mail = Notification.objects.get(key=f"flag:{world.flag.pk}:assigned:{comment.pk}")
    assert mail.recipient == "lea@example.com"
    # Twice to the same person: refused, nothing more written.
    again = clients["office"].post(url, {"owner": new.pk}, format="json")
    assert again.status_code == 400 and again.json() == {"owner": ["Lea Park already owns this flag."]}
    assert FlagComment.objects.count() == 1


def test_assign_refuses_other_organizations_inactive_people_and_closed_flags(world, other_world, office):
    url = f"/api/v1/flags/{world.flag.pk}/assign/"
    before = Flag.objects.get(pk=world.flag.pk).owner_id
    for body in ({}, {"owner": "x"}, {"owner": 0}, {"owner": other_world.person.pk}, {"owner": 10**9}):
        assert office.post(url, body, format="json").status_code == 400, body
    gone = PersonFactory(organization=world.organization, active=False)
    assert office.post(url, {"owner": gone.pk}, format="json").status_code == 400
    office.post(f"/api/v1/flags/{world.flag.pk}/dismiss/", {"reason": "Seasonal."}, format="json")
    someone = PersonFactory(organization=world.organization)
    closed = office.post(url, {"owner": someone.pk}, format="json")
    assert closed.status_code == 400 and "dismissed" in closed.json()["detail"]
    assert Flag.objects.get(pk=world.flag.pk).owner_id == before
    assert not FlagComment.objects.exists()
