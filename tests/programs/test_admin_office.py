"""The admin as the office's workplace: no harmful default, refusals naming the rule, readiness filter."""

import pytest
from django.urls import reverse

from programs.choices import ProgramStatus
from programs.models import Program, ProgramStatusChange
from programs.services import PROGRAM_DELETE_RULE
from tests.factories import ProgramFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def office_client(client, office_user):
    client.force_login(office_user)
    return client


def test_the_status_change_form_preselects_no_status_and_requires_one(office_client, organization):
    program = ProgramFactory(organization=organization, status=ProgramStatus.ACTIVE)
    url = reverse("admin:programs_program_change_status", args=[program.pk])

    page = office_client.get(url).content.decode()
    assert '<option value="" selected>— choose the new status —</option>' in page
    assert '<option value="cancelled" selected' not in page

    response = office_client.post(url, {"to": "", "reason": "Budget freeze"})
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    program.refresh_from_db()
    assert program.status == ProgramStatus.ACTIVE and not ProgramStatusChange.objects.exists()


@pytest.mark.parametrize("status", [ProgramStatus.ACTIVE, ProgramStatus.PAUSED])
def test_deleting_a_live_program_is_refused_with_the_rule(office_client, organization, status):
    program = ProgramFactory(organization=organization, status=status)
    delete = reverse("admin:programs_program_delete", args=[program.pk])

    for response in (office_client.get(delete, follow=True), office_client.post(delete, {"post": "yes"}, follow=True)):
        page = response.content.decode()
        assert PROGRAM_DELETE_RULE in page
        assert "permission" not in page.lower()
    changelist = reverse("admin:programs_program_changelist")
    page = office_client.post(
        changelist, {"action": "delete_selected", "_selected_action": [program.pk]}, follow=True
    ).content.decode()
    assert f"Nothing was deleted. “{program}”: {PROGRAM_DELETE_RULE}" in page
    assert Program.objects.filter(pk=program.pk).exists()


def test_a_never_activated_draft_can_be_deleted(office_client, organization):
    draft = ProgramFactory(organization=organization, status=ProgramStatus.DRAFT)
    office_client.post(reverse("admin:programs_program_delete", args=[draft.pk]), {"post": "yes"})
    assert not Program.objects.filter(pk=draft.pk).exists()


def test_the_readiness_filter_lists_live_or_draft_programs_missing_a_condition(office_client, organization):
    ready = ProgramFactory(organization=organization, name="Ready one")
    unready = ProgramFactory(organization=organization, name="No vision", customer_vision="")
    ProgramFactory(organization=organization, name="Cancelled", customer_vision="", status=ProgramStatus.CANCELLED)
    url = reverse("admin:programs_program_changelist")

    def names(query):
        return {p.name for p in office_client.get(url + query).context["cl"].result_list}

    assert names("?ready=no") == {unready.name, ready.name} - ready_ones(organization)
    assert unready.name not in names("?ready=yes") and "Cancelled" not in names("?ready=no")


def ready_ones(organization) -> set[str]:
    return {p.name for p in Program.objects.filter(organization=organization).with_readiness() if not p.readiness}
