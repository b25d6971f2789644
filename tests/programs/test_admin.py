"""The program office's admin: every page renders with a bounded query count, tenants stay apart,
roles decide rights, and guarded writes (metric changes, status changes, API keys) go through services."""

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from itertools import count

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model
from django.urls import reverse

from metrics.models import Metric, MetricRevision
from metrics.services import METRIC_DELETE_RULE
from programs.choices import ProgramStatus
from programs.models import ApiKey, ProgramStatusChange
from tests.factories import (
    ActionItemFactory,
    AgendaItemFactory,
    ApiKeyFactory,
    AttendanceFactory,
    BusinessUnitFactory,
    CommitmentAssessmentFactory,
    EscalationFactory,
    ExemptionFactory,
    ForumFactory,
    ForumSessionFactory,
    InitiativeFactory,
    MeasurementFactory,
    MembershipFactory,
    MetricFactory,
    MetricRevisionFactory,
    PersonFactory,
    ProgramFactory,
    ProgressUpdateFactory,
    RoadmapStageFactory,
    UserFactory,
)

# Upper bounds, whatever the number of rows or inline rows (measured: see docs/admin.md).
CHANGELIST_MAX_QUERIES = 16
FORM_MAX_QUERIES = 30

_period = count(1)


@dataclass
class World:
    """One organization's rows: a parent of every inline, grown by `grow`."""

    organization: Model
    program: Model
    metric: Model
    initiative: Model
    forum: Model
    session: Model
    stage: Model | None = None
    escalation: Model | None = None
    assessment: Model | None = None

    def grow(self, rows: int) -> None:
        """Add `rows` children to every parent and `rows` top-level rows of every model."""
        org, program = self.organization, self.program
        for _ in range(rows):
            PersonFactory(organization=org)
            BusinessUnitFactory(organization=org)
            ApiKeyFactory(organization=org)
            MembershipFactory(organization=org, role="executive")
            ProgramFactory(organization=org)
            self.stage = RoadmapStageFactory(program=program)
            InitiativeFactory(program=program, stage=self.stage)
            ProgressUpdateFactory(initiative=self.initiative)
            ProgramStatusChange.objects.create(
                program=program, from_status="active", to_status="paused", reason="ops", committed_horizon_months=60
            )
            MetricFactory(program=program, parent=self.metric, level="tactical", kind="perception")
            MeasurementFactory(metric=self.metric, period_end=dt.date(2020, 1, 1) + dt.timedelta(days=next(_period)))
            MetricRevisionFactory(metric=self.metric, approved_in=self.session)
            ExemptionFactory(metric=self.metric)
            ForumFactory(program=program)
            ForumSessionFactory(forum=self.forum)
            AttendanceFactory(session=self.session)
            AgendaItemFactory(session=self.session, metric=self.metric, initiative=self.initiative)
            ActionItemFactory(program=program, session=self.session)
            self.escalation = EscalationFactory(program=program, initiative=self.initiative)
            self.assessment = CommitmentAssessmentFactory(program=program)


def make_world(organization) -> World:
    program = ProgramFactory(organization=organization)
    forum = ForumFactory(program=program)
    return World(
        organization=organization,
        program=program,
        metric=MetricFactory(program=program),
        initiative=InitiativeFactory(program=program),
        forum=forum,
        session=ForumSessionFactory(forum=forum),
    )


def objects_of(world: World) -> dict[str, Model]:
    """The object whose change page each admin is tested on (the parents of the inlines)."""
    return {
        "programs.organization": world.organization,
        "programs.membership": world.organization.memberships.first(),
        "programs.apikey": ApiKey.objects.filter(organization=world.organization).first(),
        "programs.person": world.program.executive_sponsor,
        "programs.businessunit": world.organization.business_units.first(),
        "programs.program": world.program,
        "programs.programstatuschange": world.program.status_changes.first(),
        "programs.roadmapstage": world.stage,
        "programs.initiative": world.initiative,
        "programs.progressupdate": world.initiative.updates.first(),
        "programs.commitmentassessment": world.assessment,
        "metrics.metric": world.metric,
        "metrics.measurement": world.metric.measurements.first(),
        "metrics.metricrevision": world.metric.revisions.first(),
        "metrics.exemption": world.metric.exemptions.first(),
        "accountability.forum": world.forum,
        "accountability.forumsession": world.session,
        "accountability.attendance": world.session.attendance.first(),
        "accountability.agendaitem": world.session.agenda_items.first(),
        "accountability.actionitem": world.session.action_items.first(),
        "accountability.escalation": world.escalation,
    }


MODELS = [
    "programs.organization",
    "programs.membership",
    "programs.apikey",
    "programs.person",
    "programs.businessunit",
    "programs.program",
    "programs.programstatuschange",
    "programs.roadmapstage",
    "programs.initiative",
    "programs.progressupdate",
    "programs.commitmentassessment",
    "metrics.metric",
    "metrics.measurement",
    "metrics.metricrevision",
    "metrics.exemption",
    "accountability.forum",
    "accountability.forumsession",
    "accountability.attendance",
    "accountability.agendaitem",
    "accountability.actionitem",
    "accountability.escalation",
]
# Created by services or by superusers only: no add page for the program office.
NO_ADD = {"programs.organization", "programs.membership", "programs.programstatuschange", "metrics.metricrevision"}


def admin_url(label: str, view: str, *args) -> str:
    app, model = label.split(".")
    return reverse(f"admin:{app}_{model}_{view}", args=args)


def page_urls(world: World) -> list[str]:
    urls = []
    objects = objects_of(world)
    for label in MODELS:
        urls.append(admin_url(label, "changelist"))
        urls.append(admin_url(label, "change", objects[label].pk))
        if label not in NO_ADD:
            urls.append(admin_url(label, "add"))
    return urls


def measured_get(client, url: str, assert_max_queries, bound: int) -> int:
    """GET `url` under the query bound; returns how many queries it made."""
    ContentType.objects.clear_cache()  # every measurement starts from the same cold cache
    with assert_max_queries(bound) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx.captured_queries)


def bound_for(url: str) -> int:
    return FORM_MAX_QUERIES if url.endswith(("/add/", "/change/")) else CHANGELIST_MAX_QUERIES


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Every membership row makes a user; the default hasher would dominate the test's time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def office_client(client, office_user):
    client.force_login(office_user)
    return client


@pytest.fixture
def world(organization):
    return make_world(organization)


def test_every_page_renders_with_the_same_query_count_for_3_and_30_rows(
    office_client, world, django_assert_max_num_queries
):
    world.grow(3)
    urls = page_urls(world)
    small = {url: measured_get(office_client, url, django_assert_max_num_queries, bound_for(url)) for url in urls}
    world.grow(27)
    large = {url: measured_get(office_client, url, django_assert_max_num_queries, bound_for(url)) for url in urls}
    grew = {url: (small[url], large[url]) for url in urls if large[url] != small[url]}
    assert grew == {}, f"query count depends on the number of rows: {grew}"


def test_changelists_show_30_rows(office_client, world):
    world.grow(30)
    response = office_client.get(admin_url("programs.program", "changelist"))
    assert response.context["cl"].result_count == 31
    response = office_client.get(admin_url("accountability.forumsession", "changelist"))
    assert response.context["cl"].result_count == 31


# --- posting admin forms ------------------------------------------------------------


def _field_value(bound_field):
    value = bound_field.value()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else None
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def _put(data: dict, form, name: str) -> None:
    value = _field_value(form[name])
    if hasattr(form.fields[name].widget, "widgets"):  # split date-time: two inputs
        raw = form[name].value()
        if isinstance(raw, dt.datetime):
            data[f"{form.add_prefix(name)}_0"] = raw.strftime("%Y-%m-%d")
            data[f"{form.add_prefix(name)}_1"] = raw.strftime("%H:%M:%S")
            return
    if value is not None:
        data[form.add_prefix(name)] = value


def form_data(response, **changes) -> dict:
    """The POST body an unchanged submit of this admin change page would send, with `changes` applied."""
    data: dict = {}
    form = response.context["adminform"].form
    for name in form.fields:
        _put(data, form, name)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        for sub in formset.forms:
            for name in sub.fields:
                _put(data, sub, name)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


# --- tenancy ----------------------------------------------------------------------------


@pytest.fixture
def secret(other_organization):
    """Another tenant's rows, which must never show."""
    program = ProgramFactory(organization=other_organization, name="Secret Program")
    program.executive_sponsor.name = "Secret Sponsor"
    program.executive_sponsor.save()
    MetricFactory(program=program, name="Secret Metric")
    return program


def test_changelists_exclude_other_organizations(office_client, world, secret):
    response = office_client.get(admin_url("programs.program", "changelist"))
    assert response.context["cl"].result_count == 1
    assert b"Secret Program" not in response.content
    for label in ("metrics.metric", "programs.person", "programs.organization"):
        response = office_client.get(admin_url(label, "changelist"))
        assert b"Secret" not in response.content
        assert secret.organization.name.encode() not in response.content, label


def test_change_pages_of_other_organizations_redirect_as_missing(office_client, world, secret):
    for url in (
        admin_url("programs.program", "change", secret.pk),
        admin_url("programs.program", "change_status", secret.pk),
        admin_url("metrics.metric", "change", secret.metrics.get().pk),
        admin_url("programs.person", "change", secret.executive_sponsor_id),
    ):
        response = office_client.get(url)
        assert response.status_code == 302, url
        assert response.url == reverse("admin:index")
    assert office_client.get(admin_url("programs.program", "history", secret.pk)).status_code in (302, 403, 404)


def test_autocomplete_and_choices_exclude_other_organizations(office_client, world, secret):
    url = reverse("admin:autocomplete")
    params = {"app_label": "programs", "model_name": "program", "field_name": "executive_sponsor"}
    response = office_client.get(url, {**params, "term": "Secret"})
    assert response.status_code == 200
    assert response.json()["results"] == []
    names = {r["text"] for r in office_client.get(url, {**params, "term": ""}).json()["results"]}
    assert str(world.program.executive_sponsor) in names
    assert not any("Secret" in n for n in names)

    response = office_client.get(admin_url("programs.program", "add"))
    organization_choices = {
        str(label) for _, label in response.context["adminform"].form.fields["organization"].choices
    }
    assert organization_choices == {"---------", world.organization.name}


def test_office_user_cannot_post_another_organizations_person(office_client, world, secret):
    response = office_client.get(admin_url("programs.program", "change", world.program.pk))
    data = form_data(response, executive_sponsor=str(secret.executive_sponsor_id))
    response = office_client.post(admin_url("programs.program", "change", world.program.pk), data)
    assert response.status_code == 200
    assert "executive_sponsor" in response.context["adminform"].form.errors
    world.program.refresh_from_db()
    assert world.program.executive_sponsor_id != secret.executive_sponsor_id


def test_superuser_sees_all_but_cannot_mix_organizations(client, world, secret):
    root = UserFactory(is_superuser=True)
    client.force_login(root)
    response = client.get(admin_url("programs.program", "changelist"))
    assert response.context["cl"].result_count == 2
    response = client.get(admin_url("programs.program", "change", world.program.pk))
    data = form_data(response, executive_sponsor=str(secret.executive_sponsor_id))
    response = client.post(admin_url("programs.program", "change", world.program.pk), data)
    assert response.status_code == 200
    assert "same organization" in str(response.context["adminform"].form.non_field_errors())


def test_a_row_is_not_moved_to_another_organizations_program(client, world, secret):
    """A forum (its sessions carry its organization) moved to a program of another of the
    user's organizations is refused, as the API's create-only `program` refuses it; moved
    to another program of its own organization, it goes."""
    both = UserFactory(is_staff=True)
    MembershipFactory(user=both, organization=world.organization, role="office")
    MembershipFactory(user=both, organization=secret.organization, role="office")
    client.force_login(both)
    forum = ForumFactory(program=world.program, chair=None)
    url = admin_url("accountability.forum", "change", forum.pk)
    response = client.post(url, form_data(client.get(url), program=str(secret.pk)))
    assert response.status_code == 200
    assert "same organization" in str(response.context["adminform"].form.non_field_errors())
    forum.refresh_from_db()
    assert forum.program_id == world.program.pk

    sibling = ProgramFactory(organization=world.organization, name="Sibling Program")
    response = client.post(url, form_data(client.get(url), program=str(sibling.pk)))
    assert response.status_code == 302, response.context["adminform"].form.errors
    forum.refresh_from_db()
    assert forum.program_id == sibling.pk


# --- roles ------------------------------------------------------------------------------


def test_executive_views_but_cannot_change(client, executive_user, world):
    client.force_login(executive_user)
    change_url = admin_url("programs.program", "change", world.program.pk)
    assert client.get(admin_url("programs.program", "changelist")).status_code == 200
    response = client.get(change_url)
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert client.post(change_url, {"name": "Renamed"}).status_code == 403
    assert client.get(admin_url("programs.program", "add")).status_code == 403
    assert client.get(admin_url("programs.program", "delete", world.program.pk)).status_code == 403
    assert client.get(admin_url("programs.program", "change_status", world.program.pk)).status_code == 403
    # ...but executives record commitment assessments (their role allows it).
    assert client.get(admin_url("programs.commitmentassessment", "add")).status_code == 200


def test_integration_member_is_view_only(client, integration_user, world):
    client.force_login(integration_user)
    assert client.get(admin_url("metrics.metric", "changelist")).status_code == 200
    assert client.get(admin_url("metrics.measurement", "add")).status_code == 403
    assert client.get(admin_url("programs.commitmentassessment", "add")).status_code == 403


def test_staff_without_membership_sees_nothing(client, world):
    client.force_login(UserFactory())
    assert client.get(reverse("admin:index")).context["app_list"] == []
    assert client.get(admin_url("programs.program", "changelist")).status_code == 403


# --- guarded writes ---------------------------------------------------------------------


def test_metric_change_without_reason_is_refused(office_client, world):
    url = admin_url("metrics.metric", "change", world.metric.pk)
    data = form_data(office_client.get(url), target="55")
    response = office_client.post(url, data)
    assert response.status_code == 200
    assert "needs a reason" in str(response.context["adminform"].form.errors["change_reason"])
    world.metric.refresh_from_db()
    assert world.metric.target == Decimal("70")
    assert not MetricRevision.objects.filter(metric=world.metric).exists()


def test_metric_change_with_reason_writes_a_revision(office_client, office_user, world):
    world.grow(1)
    url = admin_url("metrics.metric", "change", world.metric.pk)
    data = form_data(
        office_client.get(url),
        target="55",
        incentive_weight="0",
        change_reason="Market fell; board agreed",
        approved_in=str(world.session.pk),
    )
    response = office_client.post(url, data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    world.metric.refresh_from_db()
    assert world.metric.target == Decimal("55")
    revisions = MetricRevision.objects.filter(metric=world.metric, reason="Market fell; board agreed")
    assert {(r.field, r.old_value, r.new_value) for r in revisions} == {("target", "70", "55")}
    revision = revisions.get()
    assert revision.changed_by == office_user
    assert revision.approved_in == world.session


def test_metric_change_of_unguarded_fields_needs_no_reason(office_client, world):
    url = admin_url("metrics.metric", "change", world.metric.pk)
    response = office_client.post(url, form_data(office_client.get(url), description="Counted at month end"))
    assert response.status_code == 302
    assert not MetricRevision.objects.filter(metric=world.metric).exists()


def test_approving_session_must_belong_to_the_metrics_program(office_client, world):
    elsewhere = ForumSessionFactory(forum=ForumFactory(program=ProgramFactory(organization=world.organization)))
    url = admin_url("metrics.metric", "change", world.metric.pk)
    data = form_data(office_client.get(url), target="60", change_reason="x", approved_in=str(elsewhere.pk))
    response = office_client.post(url, data)
    assert response.status_code == 200
    assert "approved_in" in response.context["adminform"].form.errors


def test_measured_metric_is_not_deleted_and_the_page_names_the_rule(office_client, world):
    unmeasured = MetricFactory(program=world.program)
    MeasurementFactory(metric=world.metric)
    refused = f"“{world.metric}” was not deleted: {METRIC_DELETE_RULE}"
    for response in (
        office_client.get(admin_url("metrics.metric", "delete", world.metric.pk), follow=True),
        office_client.post(admin_url("metrics.metric", "delete", world.metric.pk), {"post": "yes"}, follow=True),
    ):
        assert response.redirect_chain[-1][0] == admin_url("metrics.metric", "change", world.metric.pk)
        assert [str(m) for m in response.context["messages"]] == [refused]
    assert Metric.objects.filter(pk=world.metric.pk).exists()
    bulk = {"action": "delete_selected", "_selected_action": [world.metric.pk, unmeasured.pk], "post": "yes"}
    response = office_client.post(admin_url("metrics.metric", "changelist"), bulk, follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        f"Nothing was deleted. “{world.metric}”: {METRIC_DELETE_RULE}"
    ]
    assert Metric.objects.filter(pk__in=[world.metric.pk, unmeasured.pk]).count() == 2
    assert office_client.get(admin_url("metrics.metric", "delete", unmeasured.pk)).status_code == 200
    assert office_client.post(admin_url("metrics.metric", "delete", unmeasured.pk), {"post": "yes"}).status_code == 302
    assert not Metric.objects.filter(pk=unmeasured.pk).exists()


def test_revisions_are_read_only(office_client, world):
    revision = MetricRevisionFactory(metric=world.metric)
    assert office_client.get(admin_url("metrics.metricrevision", "add")).status_code == 403
    assert office_client.get(admin_url("metrics.metricrevision", "delete", revision.pk)).status_code == 403
    response = office_client.get(admin_url("metrics.metricrevision", "change", revision.pk))
    assert response.context["has_change_permission"] is False


def test_history_can_be_viewed_but_not_reverted(office_client, world):
    world.program.name = "Renamed"
    world.program.save()
    record = world.program.history.order_by("history_id").first()
    url = reverse("admin:programs_program_simple_history", args=[world.program.pk, record.history_id])
    assert office_client.get(url).status_code == 200
    assert office_client.post(url, {"name": "Old"}).status_code == 403


def test_status_change_through_the_admin_writes_a_status_change(office_client, office_user, world):
    url = admin_url("programs.program", "change_status", world.program.pk)
    response = office_client.get(url)
    assert response.status_code == 200
    assert [v for v, _ in response.context["form"].fields["to"].choices] == ["", "cancelled", "completed", "paused"]
    response = office_client.post(url, {"to": "paused", "reason": "Operations ultimatum"})
    assert response.status_code == 302
    world.program.refresh_from_db()
    assert world.program.status == ProgramStatus.PAUSED
    change = ProgramStatusChange.objects.get(program=world.program)
    assert (change.from_status, change.to_status, change.reason, change.changed_by) == (
        "active",
        "paused",
        "Operations ultimatum",
        office_user,
    )


def test_refused_status_change_shows_the_reason(office_client, world):
    url = admin_url("programs.program", "change_status", world.program.pk)
    response = office_client.post(url, {"to": "paused", "reason": ""}, follow=True)
    assert response.status_code == 200
    assert "Say why the program goes from active to paused." in response.content.decode()
    world.program.refresh_from_db()
    assert world.program.status == ProgramStatus.ACTIVE
    assert not ProgramStatusChange.objects.filter(program=world.program).exists()


def test_activation_with_unmet_readiness_is_refused_unless_forced(office_client, organization):
    draft = ProgramFactory(organization=organization, status=ProgramStatus.DRAFT, customer_vision="")
    url = admin_url("programs.program", "change_status", draft.pk)
    response = office_client.post(url, {"to": "active"})
    assert "not ready to go live" in response.content.decode()
    assert "A customer vision is written." in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == ProgramStatus.DRAFT
    response = office_client.post(url, {"to": "active", "force": "on", "reason": "Board deadline"})
    assert response.status_code == 302
    change = ProgramStatusChange.objects.get(program=draft)
    assert change.forced and "A customer vision is written." in change.unmet_readiness


def test_program_page_shows_readiness_and_keeps_status_out_of_the_form(office_client, organization):
    draft = ProgramFactory(organization=organization, status=ProgramStatus.DRAFT, customer_vision="")
    response = office_client.get(admin_url("programs.program", "change", draft.pk))
    content = response.content.decode()
    assert "A customer vision is written." in content
    assert "Change status" in content
    assert "status" not in response.context["adminform"].form.fields


def test_api_key_is_created_through_the_service_and_shown_once(office_client, office_user, organization):
    response = office_client.post(
        admin_url("programs.apikey", "add"),
        {"organization": organization.pk, "name": "CRM sync", "role": "integration"},
        follow=True,
    )
    assert response.status_code == 200
    key = ApiKey.objects.get(name="CRM sync")
    shown = [str(m) for m in response.context["messages"]]
    raw = re.search(r"<code>(cxg_[^<]+)</code>", " ".join(shown)).group(1)
    assert ApiKey.hash(raw) == key.key_hash
    assert key.key_prefix == raw[:10]
    assert key.created_by == office_user
    page = office_client.get(admin_url("programs.apikey", "change", key.pk)).content.decode()
    assert raw not in page
    assert key.key_prefix in page


def test_revoke_action_revokes_keys(office_client, organization):
    key = ApiKeyFactory(organization=organization)
    response = office_client.post(
        admin_url("programs.apikey", "changelist"), {"action": "revoke_keys", "_selected_action": [key.pk]}
    )
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    first = key.revoked_at
    # The report counts what was done: a key revoked before stays as it was and is named so.
    fresh = ApiKeyFactory(organization=organization)
    page = office_client.post(
        admin_url("programs.apikey", "changelist"),
        {"action": "revoke_keys", "_selected_action": [key.pk, fresh.pk]},
        follow=True,
    ).content.decode()
    assert "Revoked 1 key. Already revoked, unchanged: 1." in page
    key.refresh_from_db()
    fresh.refresh_from_db()
    assert key.revoked_at == first and fresh.revoked_at is not None


def test_action_items_added_in_a_session_take_the_forums_program(office_client, world):
    url = admin_url("accountability.forumsession", "change", world.session.pk)
    data = form_data(office_client.get(url))
    prefix = "action_items"
    data.update(
        {
            f"{prefix}-TOTAL_FORMS": "1",
            f"{prefix}-0-description": "Send the churn analysis to the sponsor",
            f"{prefix}-0-owner": str(world.program.customer_champion_id),
            f"{prefix}-0-due_on": "2025-03-01",
            f"{prefix}-0-status": "open",
        }
    )
    response = office_client.post(url, data)
    assert response.status_code == 302, response.context and [f.errors for f in response.context["errors"]]
    action = world.session.action_items.get()
    assert action.program == world.program


def test_a_forum_or_person_on_record_is_not_deleted_and_the_page_names_the_rule(office_client, world):
    """Sessions keep their forum and attendance its person: the delete page says so, with
    what to do instead, rather than Django's list of protected objects."""
    from accountability.models import Forum
    from programs.models import Person

    attendee = PersonFactory(organization=world.program.organization)
    AttendanceFactory(session=world.session, person=attendee)
    cases = (
        ("accountability.forum", world.forum, "forum sessions", "make the forum inactive instead (untick Active)."),
        ("programs.person", attendee, "attendance", "deactivate the person instead (untick Active)."),
    )
    for label, obj, kept, instead in cases:
        refused = f"“{obj}” was not deleted: It is on record in {kept}, which are kept as evidence; {instead}"
        for response in (
            office_client.get(admin_url(label, "delete", obj.pk), follow=True),
            office_client.post(admin_url(label, "delete", obj.pk), {"post": "yes"}, follow=True),
        ):
            assert response.redirect_chain[-1][0] == admin_url(label, "change", obj.pk)
            assert [str(m) for m in response.context["messages"]] == [refused]
        assert type(obj).objects.filter(pk=obj.pk).exists()
    # Nothing on record: deleted as before.
    unused_forum, unused_person = ForumFactory(program=world.program), PersonFactory(organization=world.organization)
    for label, obj, model in (
        ("accountability.forum", unused_forum, Forum),
        ("programs.person", unused_person, Person),
    ):
        assert office_client.get(admin_url(label, "delete", obj.pk)).status_code == 200
        assert office_client.post(admin_url(label, "delete", obj.pk), {"post": "yes"}).status_code == 302
        assert not model.objects.filter(pk=obj.pk).exists()
