"""Deleting a program: only a draft that was never activated, through `program_delete`, from
the shell, the admin (single and bulk) and the API alike; a refusal names the rule and
leaves every row in place."""

import datetime as dt

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from programs.changes import Change
from programs.choices import ProgramStatus
from programs.models import Program, ProgramStatusChange
from programs.scoping import program_path
from programs.services import PROGRAM_DELETE_RULE, program_delete, program_delete_refusal, program_transition
from tests.factories import (
    ActionItemFactory,
    AgendaItemFactory,
    AttendanceFactory,
    CommitmentAssessmentFactory,
    ExemptionFactory,
    ForumFactory,
    ForumSessionFactory,
    InitiativeFactory,
    MeasurementFactory,
    MembershipFactory,
    MetricFactory,
    MetricRevisionFactory,
    ProgramFactory,
    ProgressUpdateFactory,
    RoadmapStageFactory,
)

pytestmark = pytest.mark.django_db

DOMAIN_APPS = ("programs", "metrics", "accountability")


def row_counts() -> dict[str, int]:
    """Rows of every domain model (history tables included)."""
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label in DOMAIN_APPS
    }


def draft_with_everything(organization, status=ProgramStatus.DRAFT) -> Program:
    """A program with a row of every kind a draft may gather before it goes live."""
    program = ProgramFactory(organization=organization, status=status, started_on=None)
    stage = RoadmapStageFactory(program=program)
    initiative = InitiativeFactory(program=program, stage=stage)
    ProgressUpdateFactory(initiative=initiative, author=initiative.owner)
    strategic = MetricFactory(program=program)
    tactical = MetricFactory(program=program, parent=strategic, level="tactical", kind="perception")
    MetricFactory(program=program, parent=tactical, level="operational", kind="operational")
    ExemptionFactory(metric=strategic)
    forum = ForumFactory(program=program)
    forum.metrics_reviewed.add(strategic)
    # Planned, not yet held: a held session is evidence, never deleted (see the test below).
    session = ForumSessionFactory(forum=forum, status="scheduled")
    AttendanceFactory(session=session)
    AgendaItemFactory(session=session, metric=strategic, initiative=initiative)
    ActionItemFactory(program=program, session=session)
    CommitmentAssessmentFactory(program=program)
    return program


def program_rows(program_id: int) -> int:
    return Program.objects.filter(pk=program_id).count()


def rows_of_program(program_id: int) -> dict[str, int]:
    """Rows that belong to the program, model by model (found by their program path); the
    change log's entries outlive what they name, and are not counted."""
    out = {}
    for model in apps.get_models():
        path = program_path(model)
        if model._meta.app_label in DOMAIN_APPS and path and path != "pk" and model is not Change:
            out[model._meta.label] = model._default_manager.filter(**{path: program_id}).count()
    return out


# --- the service (the shell) ----------------------------------------------------------


def test_a_never_activated_draft_goes_with_its_whole_record(organization, office_user):
    program = draft_with_everything(organization)
    kept = ProgramFactory(organization=organization)
    assert program_delete_refusal(program) is None
    owned = rows_of_program(program.pk)
    assert all(owned[label] for label in ("metrics.Metric", "accountability.Attendance", "programs.ProgressUpdate"))
    program_delete(program=program, actor=office_user)
    assert program_rows(program.pk) == 0
    assert {label: n for label, n in rows_of_program(program.pk).items() if n} == {}
    assert program_rows(kept.pk) == 1
    deletion = Program.history.filter(id=program.pk, history_type="-").get()
    assert deletion.history_user == office_user


@pytest.mark.parametrize("status", [ProgramStatus.ACTIVE, ProgramStatus.PAUSED, ProgramStatus.COMPLETED])
def test_a_program_past_draft_is_refused_with_the_rule_and_keeps_every_row(organization, status):
    program = draft_with_everything(organization, status=status)
    before = row_counts()
    assert program_delete_refusal(program) == PROGRAM_DELETE_RULE
    with pytest.raises(ValidationError) as refused:
        program_delete(program=program)
    assert refused.value.messages == [PROGRAM_DELETE_RULE]
    assert row_counts() == before


def test_a_cancelled_draft_and_a_draft_that_was_once_active_are_refused(organization):
    cancelled = draft_with_everything(organization)
    program_transition(program=cancelled, to=ProgramStatus.CANCELLED, reason="never funded")
    # A program back in draft after being live (an imported history): still never deleted.
    relaunched = ProgramFactory(organization=organization, status=ProgramStatus.DRAFT)
    ProgramStatusChange.objects.create(
        program=relaunched, from_status="active", to_status="paused", reason="x", committed_horizon_months=60
    )
    before = row_counts()
    for program in (cancelled, relaunched):
        with pytest.raises(ValidationError, match="cancel it instead"):
            program_delete(program=program)
    assert row_counts() == before


def test_a_draft_holding_measurements_or_revisions_is_refused_naming_them(organization):
    measured = draft_with_everything(organization)
    MeasurementFactory(metric=measured.metrics.first())
    revised = draft_with_everything(organization)
    MetricRevisionFactory(metric=revised.metrics.first())
    before = row_counts()
    assert program_delete_refusal(measured) == (
        "This draft holds measurements, which are never deleted; cancel it instead."
    )
    with pytest.raises(ValidationError, match="holds metric revisions, which are never deleted"):
        program_delete(program=revised)
    with pytest.raises(ValidationError, match="holds measurements"):
        program_delete(program=measured)
    assert row_counts() == before


def test_a_draft_whose_forum_already_held_a_session_is_refused_naming_the_sessions(organization):
    program = draft_with_everything(organization)
    held = ForumSessionFactory(forum=program.forums.get(), status="held")
    AttendanceFactory(session=held)
    before = row_counts()
    assert program_delete_refusal(program) == (
        "This draft holds forum sessions, which are never deleted; cancel it instead."
    )
    with pytest.raises(ValidationError, match="holds forum sessions"):
        program_delete(program=program)
    assert row_counts() == before


def test_the_service_reads_the_status_under_its_lock_not_from_a_stale_object(organization):
    program = ProgramFactory(organization=organization, status=ProgramStatus.DRAFT)
    stale = Program.objects.get(pk=program.pk)
    program_transition(program=program, to=ProgramStatus.ACTIVE, force=True, reason="go")
    assert stale.status == ProgramStatus.DRAFT
    with pytest.raises(ValidationError, match="never activated"):
        program_delete(program=stale)
    assert program_rows(program.pk) == 1


# --- the admin ------------------------------------------------------------------------


def admin_url(view: str, *args) -> str:
    return reverse(f"admin:programs_program_{view}", args=args)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def office_client(client, office_user):
    client.force_login(office_user)
    return client


def test_admin_delete_page_of_an_active_program_names_the_rule_and_deletes_nothing(office_client, organization):
    program = draft_with_everything(organization, status=ProgramStatus.ACTIVE)
    before = row_counts()
    for response in (
        office_client.get(admin_url("delete", program.pk), follow=True),
        office_client.post(admin_url("delete", program.pk), {"post": "yes"}, follow=True),
    ):
        assert response.redirect_chain[-1][0] == admin_url("change", program.pk)
        assert messages_of(response) == [f"“{program}” was not deleted: {PROGRAM_DELETE_RULE}"]
    assert row_counts() == before


def test_admin_deletes_a_never_activated_draft_through_the_service(office_client, organization, office_user):
    program = draft_with_everything(organization)
    confirm = office_client.get(admin_url("delete", program.pk))
    assert confirm.status_code == 200
    assert not confirm.context["perms_lacking"] and not confirm.context["protected"]
    response = office_client.post(admin_url("delete", program.pk), {"post": "yes"})
    assert response.status_code == 302
    assert program_rows(program.pk) == 0
    assert Program.history.get(id=program.pk, history_type="-").history_user == office_user


def test_admin_delete_needs_the_office_role(client, executive_user, organization):
    program = draft_with_everything(organization)
    client.force_login(executive_user)
    assert client.get(admin_url("delete", program.pk)).status_code == 403
    assert client.post(admin_url("delete", program.pk), {"post": "yes"}).status_code == 403
    assert program_rows(program.pk) == 1


def test_bulk_delete_is_refused_in_an_organization_where_the_user_is_not_office(
    client, office_user, organization, other_organization
):
    MembershipFactory(user=office_user, organization=other_organization, role="executive")
    theirs = draft_with_everything(other_organization)
    ours = draft_with_everything(organization)
    client.force_login(office_user)
    data = {"action": "delete_selected", "_selected_action": [str(theirs.pk), str(ours.pk)], "post": "yes"}
    assert client.post(admin_url("changelist"), data).status_code == 403
    assert Program.objects.filter(pk__in=[theirs.pk, ours.pk]).count() == 2


def bulk_delete(client, programs, confirm: bool):
    data = {"action": "delete_selected", "_selected_action": [str(p.pk) for p in programs]}
    if confirm:
        data["post"] = "yes"
    return client.post(admin_url("changelist"), data, follow=True)


def test_bulk_delete_with_one_refused_program_deletes_none_and_names_it(office_client, organization):
    draft = draft_with_everything(organization)
    live = draft_with_everything(organization, status=ProgramStatus.ACTIVE)
    before = row_counts()
    for confirm in (False, True):
        response = bulk_delete(office_client, [draft, live], confirm)
        assert messages_of(response)[-1] == f"Nothing was deleted. “{live}”: {PROGRAM_DELETE_RULE}"
    assert row_counts() == before


def test_bulk_delete_of_drafts_confirms_then_deletes_each_through_the_service(office_client, organization):
    drafts = [draft_with_everything(organization) for _ in range(2)]
    confirm = bulk_delete(office_client, drafts, confirm=False)
    assert confirm.status_code == 200
    assert not confirm.context["perms_lacking"] and not confirm.context["protected"]
    assert program_rows(drafts[0].pk) == 1
    done = bulk_delete(office_client, drafts, confirm=True)
    assert "Successfully deleted 2 programs." in messages_of(done)[-1]
    assert Program.objects.filter(pk__in=[d.pk for d in drafts]).count() == 0


# --- the API --------------------------------------------------------------------------


@pytest.fixture
def api(office_user):
    client = APIClient()
    client.force_authenticate(office_user)
    return client


def test_api_delete_of_a_program_past_draft_is_a_400_with_the_rule(api, organization):
    program = draft_with_everything(organization, status=ProgramStatus.PAUSED)
    before = row_counts()
    response = api.delete(f"/api/v1/programs/{program.pk}/")
    assert response.status_code == 400
    assert response.json() == {"detail": PROGRAM_DELETE_RULE}
    assert row_counts() == before


def test_api_delete_of_a_measured_draft_is_a_400_naming_the_measurements(api, organization):
    program = draft_with_everything(organization)
    MeasurementFactory(metric=program.metrics.first(), period_end=dt.date(2024, 1, 31))
    before = row_counts()
    response = api.delete(f"/api/v1/programs/{program.pk}/")
    assert response.status_code == 400
    assert "measurements, which are never deleted" in response.json()["detail"]
    assert row_counts() == before


def test_api_deletes_a_never_activated_draft(api, organization, office_user):
    program = draft_with_everything(organization)
    assert api.delete(f"/api/v1/programs/{program.pk}/").status_code == 204
    assert program_rows(program.pk) == 0
    assert Program.history.get(id=program.pk, history_type="-").history_user == office_user
