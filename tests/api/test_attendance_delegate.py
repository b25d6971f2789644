"""A delegate comes instead of an absent person: present with a delegate is refused, by one
rule (`accountability.models.forums.check_attendance`), on every path that writes attendance."""

import pytest
from django.core.exceptions import ValidationError

from accountability.models import Attendance
from accountability.models.forums import DELEGATE_OF_PRESENT
from tests.factories import AttendanceFactory, PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(world):
    attendee = PersonFactory(organization=world.organization)
    deputy = PersonFactory(organization=world.organization)
    world.forum.members.add(attendee)
    return attendee, deputy


def post(client, world, **body):
    return client.post("/api/v1/attendance/", {"session": world.session.pk, **body}, format="json")


def test_create_present_with_a_delegate_is_a_400(world, office, people):
    attendee, deputy = people
    response = post(office, world, person=attendee.pk, present=True, delegate=deputy.pk)
    assert response.status_code == 400
    assert response.json() == {"delegate": [DELEGATE_OF_PRESENT]}
    assert not Attendance.objects.filter(person=attendee).exists()


def test_create_absent_with_a_delegate_or_present_alone_is_accepted(world, office, people):
    attendee, deputy = people
    assert post(office, world, person=attendee.pk, present=False, delegate=deputy.pk).status_code == 201
    other = PersonFactory(organization=world.organization)
    assert post(office, world, person=other.pk, present=True).status_code == 201
    assert post(office, world, person=deputy.pk, present=True, delegate=None).status_code == 201


def test_patch_checks_the_row_it_would_leave(world, office, people):
    attendee, deputy = people
    delegated = AttendanceFactory(session=world.session, person=attendee, present=False, delegate=deputy)
    url = f"/api/v1/attendance/{delegated.pk}/"
    response = office.patch(url, {"present": True}, format="json")
    assert response.status_code == 400 and response.json() == {"delegate": [DELEGATE_OF_PRESENT]}
    delegated.refresh_from_db()
    assert (delegated.present, delegated.delegate_id) == (False, deputy.pk)
    # Present and the delegate left out in the same PATCH: fine.
    response = office.patch(url, {"present": True, "delegate": None}, format="json")
    assert response.status_code == 200 and response.json()["delegate"] is None
    # A delegate named on a present row: refused; with present false: fine.
    assert office.patch(url, {"delegate": deputy.pk}, format="json").status_code == 400
    response = office.patch(url, {"present": False, "delegate": deputy.pk}, format="json")
    assert response.status_code == 200, response.content


def test_the_model_clean_refuses_it_for_the_admin_and_the_import(world, people):
    # The sessions spreadsheet import and the admin write through full_clean().
    attendee, deputy = people
    row = Attendance(session=world.session, person=attendee, present=True, delegate=deputy)
    with pytest.raises(ValidationError) as error:
        row.clean()
    assert error.value.message_dict == {"delegate": [DELEGATE_OF_PRESENT]}
    Attendance(session=world.session, person=attendee, present=False, delegate=deputy).clean()


def test_meeting_mode_refuses_present_with_a_delegate(world, office, people):
    attendee, deputy = people
    url = f"/api/v1/sessions/{world.session.pk}/record/"
    status = world.session.status
    body = {"status": status, "attendance": [{"person": attendee.pk, "presence": "present", "delegate": deputy.pk}]}
    response = office.post(url, body, format="json")
    assert response.status_code == 400, response.content
    assert "delegate" in str(response.json())
    assert not Attendance.objects.filter(person=attendee).exists()
    body["attendance"][0]["presence"] = "delegate"
    response = office.post(url, body, format="json")
    assert response.status_code == 200, response.content
    row = Attendance.objects.get(person=attendee, session=world.session)
    assert (row.present, row.delegate_id) == (False, deputy.pk)


def test_another_organizations_key_cannot_patch(world, other_world, people):
    from .conftest import key_client

    attendee, deputy = people
    row = AttendanceFactory(session=world.session, person=attendee, present=False, delegate=deputy)
    stranger = key_client(other_world.organization, "office")
    assert stranger.patch(f"/api/v1/attendance/{row.pk}/", {"present": True}, format="json").status_code == 404
