"""Who changed what: every write's snapshot names its actor, and becomes one change-log entry."""

import datetime as dt
from decimal import Decimal

import pytest
from django.apps import apps
from django.utils import timezone
from rest_framework.test import APIClient

from accountability.flag_actions import flag_acknowledge
from accountability.models import Attendance, Flag
from metrics.measurements import measurements_upsert
from metrics.models import Measurement, MetricRevision
from metrics.services import metric_update
from programs.actors import SYSTEM, Actor, stamp
from programs.changelog import STAGED_FROM, bulk_history, record_history
from programs.changes import Change, tracked_models
from programs.choices import ChangeAction
from programs.history import ActorHistoricalModel
from programs.models import ApiKey, Person, ProgramStatusChange
from programs.services import api_key_create, program_transition
from tests.factories import (
    AttendanceFactory,
    FlagFactory,
    ForumSessionFactory,
    MetricFactory,
    PersonFactory,
    ProgramFactory,
    UserFactory,
    WebhookFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana(organization, office_user):
    office_user.first_name, office_user.last_name = "Ana", "Costa"
    office_user.save()
    return office_user


@pytest.fixture
def erp_key(organization, ana):
    key, raw = api_key_create(organization=organization, name="ERP feed", role="office", actor=ana)
    key.raw_key = raw
    return key


def key_client(key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key.raw_key}")
    return client


# --- which models keep history ------------------------------------------------------------

DOMAIN_MODELS = {
    "programs.organization",
    "programs.membership",
    "programs.apikey",
    "programs.person",
    "programs.businessunit",
    "programs.program",
    "programs.roadmapstage",
    "programs.initiative",
    "programs.progressupdate",
    "programs.commitmentassessment",
    "metrics.metric",
    "metrics.measurement",
    "metrics.exemption",
    "accountability.forum",
    "accountability.forumsession",
    "accountability.attendance",
    "accountability.agendaitem",
    "accountability.actionitem",
    "accountability.escalation",
    "accountability.flag",
    "notifications.webhook",
}


def test_every_domain_model_keeps_history_with_its_actor():
    assert {m._meta.label_lower for m in tracked_models()} >= DOMAIN_MODELS
    # Every history table in the project has the API-key column (none was declared with the
    # plain HistoricalRecords, which would lose the key).
    for model in apps.get_models():
        if model.__name__.startswith("Historical") and hasattr(model, "instance_type"):
            assert issubclass(model, ActorHistoricalModel), model


def test_a_webhook_secret_stays_out_of_its_history(organization):
    webhook = WebhookFactory(organization=organization, secret="s3cret-value")
    snapshot = webhook.history.get()
    assert not hasattr(snapshot, "secret")
    assert "s3cret" not in str(Change.objects.get(model="notifications.webhook").changes)


# --- the actor --------------------------------------------------------------------------


def test_actor_of_a_user_a_key_principal_and_nobody(ana, erp_key):
    from programs.authentication import ApiKeyPrincipal

    assert Actor.of(ana) == Actor(user=ana)
    assert Actor.of(ApiKeyPrincipal(erp_key)) == Actor(api_key=erp_key)
    assert Actor.of(erp_key).fields("acknowledged_by") == {"acknowledged_by": None, "acknowledged_by_key": erp_key}
    assert Actor.of(None) is SYSTEM and not SYSTEM
    assert str(Actor(user=ana)) == "Ana Costa"
    assert str(Actor(api_key=erp_key)) == "API key “ERP feed” (created by Ana Costa)"


def test_a_flag_acknowledged_with_an_api_key_names_the_key(organization, erp_key):
    flag = FlagFactory(program=ProgramFactory(organization=organization))
    response = key_client(erp_key).post(f"/api/v1/flags/{flag.pk}/acknowledge/")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["acknowledged_by"], body["acknowledged_by_key"]) == (None, erp_key.pk)
    listed = key_client(erp_key).get("/api/v1/flags/").json()["results"]
    assert listed[0]["acknowledged_by_key"] == erp_key.pk
    snapshot = Flag.history.filter(id=flag.pk).latest("history_id")
    assert (snapshot.status, snapshot.history_user_id, snapshot.history_api_key_id) == (
        "acknowledged",
        None,
        erp_key.pk,
    )
    entry = Change.objects.get(model="accountability.flag", action=ChangeAction.CHANGED)
    assert entry.actor_api_key_id == erp_key.pk
    assert entry.sentence.startswith(f"API key “ERP feed” (created by Ana Costa) changed the flag {flag}: ")
    assert "status from Open to Acknowledged" in entry.sentence


def test_a_flag_acknowledged_by_a_person_names_the_person(organization, ana):
    flag = flag_acknowledge(flag=FlagFactory(program=ProgramFactory(organization=organization)), actor=ana)
    assert (flag.acknowledged_by, flag.acknowledged_by_key) == (ana, None)
    entry = Change.objects.get(model="accountability.flag", action=ChangeAction.CHANGED)
    assert entry.actor_user_id == ana.pk and entry.actor_label == "Ana Costa"
    moved = {c["field"]: (c["old"], c["new"]) for c in entry.changes}
    assert moved["status"] == ("Open", "Acknowledged")
    assert moved["acknowledged_by"] == (None, "user" + ana.username.removeprefix("user"))


def test_revisions_and_status_changes_name_the_key(organization, erp_key):
    program = ProgramFactory(organization=organization)
    metric = MetricFactory(program=program)
    metric_update(metric=metric, changes={"target": Decimal("85")}, reason="renegotiated", actor=erp_key)
    revision = MetricRevision.objects.get(metric=metric)
    assert (revision.changed_by, revision.changed_by_key) == (None, erp_key)
    program_transition(program=program, to="cancelled", reason="merged into another", actor=erp_key)
    change = ProgramStatusChange.objects.get(program=program)
    assert (change.changed_by, change.changed_by_key) == (None, erp_key)
    assert program.history.latest("history_id").history_api_key_id == erp_key.pk


def test_a_write_through_the_api_with_a_key_records_the_key(organization, erp_key):
    person = PersonFactory(organization=organization, name="Rui", title="")
    response = key_client(erp_key).patch(f"/api/v1/people/{person.pk}/", {"title": "COO"}, format="json")
    assert response.status_code == 200
    snapshot = person.history.latest("history_id")
    assert (snapshot.history_user_id, snapshot.history_api_key_id) == (None, erp_key.pk)
    entry = Change.objects.filter(model="programs.person").latest("id")
    assert entry.sentence.startswith("API key “ERP feed” (created by Ana Costa) set the title of Rui, COO to COO on ")


def test_a_write_in_a_session_records_the_user(organization, ana):
    person = PersonFactory(organization=organization, name="Rui", title="CFO")
    client = APIClient()
    client.force_login(ana)
    assert client.patch(f"/api/v1/people/{person.pk}/", {"title": "COO"}, format="json").status_code == 200
    snapshot = person.history.latest("history_id")
    assert (snapshot.history_user_id, snapshot.history_api_key_id) == (ana.pk, None)
    entry = Change.objects.filter(model="programs.person").latest("id")
    assert entry.sentence.startswith("Ana Costa changed the title of Rui, COO from CFO to COO on ")


# --- the entries --------------------------------------------------------------------------


def test_a_target_change_reads_as_a_sentence(organization, ana):
    program = ProgramFactory(organization=organization)
    metric = MetricFactory(program=program, name="Retention", target=Decimal("90"))
    before = Change.objects.count()
    metric_update(metric=metric, changes={"target": Decimal("85")}, reason="renegotiated", actor=ana)
    entry = Change.objects.get(model="metrics.metric", action=ChangeAction.CHANGED)
    assert Change.objects.count() == before + 1
    assert (entry.organization_id, entry.program_id, entry.object_id) == (organization.pk, program.pk, metric.pk)
    assert entry.changes == [{"field": "target", "label": "target", "old": "90", "new": "85"}]
    today = timezone.now()
    assert entry.sentence == (
        f"Ana Costa changed the target of Retention from 90 to 85 on {today.day} {today:%b %Y} (renegotiated)"
    )


def test_sentences_for_created_deleted_set_and_cleared():
    at = dt.datetime(2024, 11, 12, 9, 30, tzinfo=dt.UTC)
    entry = Change(model="metrics.metric", object_repr="Retention", actor_label="Ana Costa", at=at)
    entry.action = ChangeAction.CREATED
    assert entry.sentence == "Ana Costa created the metric Retention on 12 Nov 2024"
    entry.action = ChangeAction.DELETED
    assert entry.sentence == "Ana Costa deleted the metric Retention on 12 Nov 2024"
    entry.action, entry.actor_label = ChangeAction.CHANGED, ""
    entry.changes = [{"field": "target", "label": "target", "old": None, "new": "85"}]
    assert entry.sentence == "The system set the target of Retention to 85 on 12 Nov 2024"
    entry.changes = [{"field": "target", "label": "target", "old": "85", "new": None}]
    assert entry.sentence == "The system cleared the target of Retention (was 85) on 12 Nov 2024"
    entry.changes = [
        {"field": "target", "label": "target", "old": "90", "new": "85"},
        {"field": "secret", "label": "secret", "secret": True},
    ]
    assert (
        entry.sentence == "The system changed the metric Retention: target from 90 to 85; secret changed on 12 Nov 2024"
    )


def test_a_save_that_changes_nothing_writes_no_entry(organization):
    person = PersonFactory(organization=organization)
    before = Change.objects.count()
    person.save()
    assert person.history.count() == 2  # simple-history snapshots every save
    assert Change.objects.count() == before


def test_a_deleted_row_still_finds_its_organization_and_program(organization, ana):
    program = ProgramFactory(organization=organization)
    session = ForumSessionFactory(forum__program=program, status="scheduled")  # not yet evidence
    attendance = AttendanceFactory(session=session, person=PersonFactory(organization=organization, name="Rui"))
    stamp(attendance, ana)
    attendance.delete()
    entry = Change.objects.get(model="accountability.attendance", action=ChangeAction.DELETED)
    assert (entry.organization_id, entry.program_id, entry.actor_user_id) == (organization.pk, program.pk, ana.pk)
    assert entry.object_repr.startswith("Rui, Director @ ")
    assert not Attendance.objects.exists()


def test_an_api_key_hash_is_never_shown(organization, ana, erp_key):
    erp_key.key_hash = "0" * 64
    erp_key.save()
    entry = Change.objects.filter(model="programs.apikey", action=ChangeAction.CHANGED).get()
    assert entry.changes == [{"field": "key_hash", "label": "key hash", "secret": True}]


def test_the_scan_writes_its_flags_history_as_the_system(organization):
    from tests.accountability.test_flags import stalled, sync
    from tests.factories import InitiativeFactory

    initiatives = InitiativeFactory.create_batch(3, program=ProgramFactory(organization=organization))
    sync(organization, [stalled(i) for i in initiatives])
    assert Flag.history.filter(history_type="+").count() == 3
    raised = Change.objects.filter(model="accountability.flag", action=ChangeAction.CREATED)
    assert raised.count() == 3
    assert {(e.actor_user_id, e.actor_api_key_id, e.actor_label) for e in raised} == {(None, None, "")}
    assert all(e.reason.startswith("found by the scan as of ") for e in raised)
    sync(organization, [stalled(i) for i in initiatives[:2]])  # the third is resolved: condition cleared
    resolved = Change.objects.get(model="accountability.flag", action=ChangeAction.CHANGED)
    assert resolved.reason == "condition cleared"
    assert {"field": "status", "label": "status", "old": "Open", "new": "Resolved"} in resolved.changes


def test_measurements_in_bulk_get_one_entry_each_with_the_key(organization, erp_key):
    metric = MetricFactory(program=ProgramFactory(organization=organization), name="NPS")
    items = [{"metric": metric.pk, "period_end": dt.date(2024, m, 28), "value": m} for m in range(1, 13)]
    measurements_upsert(items=items, actor=erp_key)
    items[0]["value"] = 99
    measurements_upsert(items=items, actor=erp_key)  # one changed, eleven unchanged
    created = Change.objects.filter(model="metrics.measurement", action=ChangeAction.CREATED)
    assert created.count() == 12
    assert set(created.values_list("actor_api_key_id", flat=True)) == {erp_key.pk}
    changed = Change.objects.get(model="metrics.measurement", action=ChangeAction.CHANGED)
    assert changed.changes == [{"field": "value", "label": "value", "old": "1", "new": "99"}]
    assert changed.object_repr == "NPS · 2024-01-28 = 99.0000"
    assert Measurement.history.filter(history_api_key_id=erp_key.pk).count() == 13


@pytest.mark.parametrize("actor_kind", ["key", "person"])
def test_the_statement_logs_what_record_history_would(organization, erp_key, ana, actor_kind):
    # On PostgreSQL the upsert's own statement writes the entries; record_history, the one
    # writer of every other entry, must find nothing to say otherwise about the same snapshots.
    actor = erp_key if actor_kind == "key" else ana
    metric = MetricFactory(program=ProgramFactory(organization=organization), name="Wait time « s »")
    day = dt.date(2024, 1, 31)
    first = ["12.5", "100", "-0.25", "7", "3.1416", "0.0001", "1e3"]
    items = [
        {"metric": metric.pk, "period_end": day + dt.timedelta(days=i), "value": v, "source": f"feed {i}"}
        for i, v in enumerate(first)
    ]
    measurements_upsert(items=items, actor=actor, reason="  bulk ingest ")
    again = [dict(item) for item in items]
    again[0]["value"] = "12.75"  # the value
    again[1]["source"] = "ERP “v2”"  # the source
    again[2].update(value="-0.5", source="")  # both
    again[3]["value"] = "7.0000"  # the same number: nothing to log
    again[4]["value"] = "3"
    again[5]["value"] = 0
    measurements_upsert(items=again, actor=actor, reason="bulk ingest")

    fields = ["organization_id", "program_id", "object_id", "object_repr", "action", "changes", "reason"]
    fields += ["actor_user_id", "actor_api_key_id", "actor_label", "history_id", "at"]
    entries = Change.objects.filter(model="metrics.measurement").order_by("history_id")
    written = list(entries.values_list(*fields))
    assert list(entries.values_list("id", flat=True)) == sorted(entries.values_list("id", flat=True))
    snapshots = Measurement.history.filter(metric_id=metric.pk).order_by("history_id")
    assert [s.period_end for s in snapshots[:7]] == [day + dt.timedelta(days=i) for i in range(7)]  # items' order
    assert [(e[4], len(e[5])) for e in written] == [("+", 0)] * 7 + [("~", 1), ("~", 1), ("~", 2), ("~", 1), ("~", 1)]
    assert written[9][5] == [
        {"field": "value", "label": "value", "old": "-0.25", "new": "-0.5"},
        {"field": "source", "label": "source", "old": "feed 2", "new": ""},
    ]
    assert written[11][5] == [{"field": "value", "label": "value", "old": "0.0001", "new": "0"}]
    assert written[6][3] == "Wait time « s » · 2024-02-06 = 1000.0000"
    entries.delete()
    record_history(Measurement, Measurement.history.filter(metric_id=metric.pk).order_by("history_id"))
    assert list(entries.values_list(*fields)) == written


def test_measurement_entries_name_their_program_and_the_migration_fills_those_without(organization, erp_key):
    import importlib

    program = ProgramFactory(organization=organization)
    metric = MetricFactory(program=program, name="NPS")
    measurements_upsert(items=[{"metric": metric.pk, "period_end": dt.date(2024, 1, 31), "value": 1}], actor=erp_key)
    entries = Change.objects.filter(model="metrics.measurement")
    snapshot = Measurement.history.get(metric_id=metric.pk)
    entries.delete()
    record_history(Measurement, [snapshot])  # the Python writer (a delete, SQLite)
    measurements_upsert(items=[{"metric": metric.pk, "period_end": dt.date(2024, 1, 31), "value": 2}], actor=erp_key)
    assert list(entries.order_by("history_id").values_list("action", "program_id")) == [
        ("+", program.pk),
        ("~", program.pk),
    ]

    # Entries written while the path skipped the program (metrics 0006 to 0008) get it back.
    entries.update(program=None)
    other = Change.objects.create(
        model="metrics.metric", object_id=metric.pk, object_repr="NPS", action="~", history_id=10**9, at=timezone.now()
    )
    fill = importlib.import_module("metrics.migrations.0008_change_log_measurement_program")
    fill.name_the_program(apps, None)
    assert set(entries.values_list("program_id", flat=True)) == {program.pk}
    other.refresh_from_db()
    assert other.program_id is None  # another model's entry is left as it was


@pytest.mark.parametrize("count", [STAGED_FROM - 1, STAGED_FROM])
def test_a_large_batch_gets_the_same_entries_whichever_way_it_is_written(organization, erp_key, count):
    # Below STAGED_FROM one bulk insert; from it, on PostgreSQL, a COPY through a staging table.
    metric = MetricFactory(program=ProgramFactory(organization=organization), name="NPS")
    first = dt.date(2000, 1, 1)
    items = [{"metric": metric.pk, "period_end": first + dt.timedelta(days=i), "value": i} for i in range(count)]
    measurements_upsert(items=items, actor=erp_key)
    items[-1]["value"] = -1
    measurements_upsert(items=[*items[:2], items[-1]], actor=erp_key)  # one changed
    entries = Change.objects.filter(model="metrics.measurement")
    assert entries.filter(action=ChangeAction.CREATED).count() == count
    assert set(entries.values_list("actor_api_key_id", flat=True)) == {erp_key.pk}
    last = entries.get(
        object_id=Measurement.objects.get(metric=metric, period_end=items[-1]["period_end"]).pk,
        action=ChangeAction.CREATED,
    )
    assert last.object_repr == f"NPS · {items[-1]['period_end']} = {count - 1}.0000"
    changed = entries.get(action=ChangeAction.CHANGED)
    assert changed.changes == [{"field": "value", "label": "value", "old": str(count - 1), "new": "-1"}]
    # Writing the same snapshots' entries again adds none (one entry per snapshot).
    snapshots = list(Measurement.history.filter(metric_id=metric.pk))
    record_history(Measurement, snapshots)
    assert entries.count() == count + 1


def test_a_deleted_key_or_person_leaves_the_log_as_it_was(organization, ana, erp_key):
    person = PersonFactory(organization=organization, name="Rui")
    metric_update(
        metric=MetricFactory(program=ProgramFactory(organization=organization)),
        changes={"target": 1},
        reason="r",
        actor=erp_key,
    )
    entry = Change.objects.get(model="metrics.metric", action=ChangeAction.CHANGED)
    ApiKey.objects.filter(pk=erp_key.pk).delete()
    person.delete()
    entry.refresh_from_db()
    assert entry.actor_label == "API key “ERP feed” (created by Ana Costa)"
    assert Change.objects.filter(model="programs.person", action=ChangeAction.DELETED).exists()
    assert not Person.objects.filter(pk=person.pk).exists()


def test_a_user_changing_two_organizations_is_logged_in_each(organization, other_organization):
    user = UserFactory()
    PersonFactory(organization=organization).save()
    a = PersonFactory(organization=organization, name="A")
    b = PersonFactory(organization=other_organization, name="B")
    for person in (a, b):
        stamp(person, user)
        person.title = "CEO"
        person.save()
    by_org = dict(
        Change.objects.filter(model="programs.person", action=ChangeAction.CHANGED).values_list(
            "object_id", "organization_id"
        )
    )
    assert by_org == {a.pk: organization.pk, b.pk: other_organization.pk}


def test_revoking_a_key_is_logged_once(organization, ana, erp_key):
    from programs.services import api_key_revoke

    api_key_revoke(key=erp_key, actor=ana)
    api_key_revoke(key=erp_key, actor=ana)  # already revoked: nothing more
    entry = Change.objects.get(model="programs.apikey", action=ChangeAction.CHANGED)
    assert entry.actor_user_id == ana.pk and entry.reason == "revoked"
    assert [c["field"] for c in entry.changes] == ["revoked_at"]
    assert erp_key.history.count() == 2


# --- Snapshots of rows written in bulk ----------------------------------------------------


def _snapshot_values(snapshot) -> dict:
    # Every column but the snapshot's own id and time, which differ between two writes.
    skip = {"history_id", "history_date"}
    return {
        f.attname: getattr(snapshot, f.attname) for f in type(snapshot)._meta.concrete_fields if f.attname not in skip
    }


@pytest.mark.parametrize("update", [False, True])
def test_bulk_history_writes_what_simple_history_would(organization, ana, update):
    # On PostgreSQL the database copies the rows into their history (INSERT … SELECT); the
    # snapshots must be those simple-history's bulk_history_create writes from the objects,
    # evidence document, actor, reason and type included, in the objects' order.
    program = ProgramFactory(organization=organization)
    flags = [
        FlagFactory(program=program, evidence={"sessions": [1, 2], "note": 'a "quoted" word'}, subject_id=n)
        for n in (3, 1, 2)
    ]
    ours = bulk_history(Flag, flags, update=update, actor=ana, reason="found by the scan")
    theirs = Flag.history.bulk_history_create(
        flags,
        update=update,
        default_user=ana,
        default_change_reason="found by the scan",
        custom_historical_attrs={"history_api_key_id": None},
    )
    assert [s.id for s in ours] == [f.id for f in flags]
    assert [_snapshot_values(s) for s in ours] == [_snapshot_values(s) for s in theirs]
    assert ours[0].history_type == ("~" if update else "+") and ours[0].history_user_id == ana.pk
    stored = Flag.history.filter(history_id__in=[s.history_id for s in ours]).order_by("history_id")
    assert sorted(_snapshot_values(s)["subject_id"] for s in stored) == [1, 2, 3]
    assert {s.evidence["note"] for s in stored} == {'a "quoted" word'}
    # Each snapshot is one change-log entry naming the actor and the reason.
    entries = Change.objects.filter(model="accountability.flag", history_id__in=[s.history_id for s in ours])
    assert entries.count() == (0 if update else 3)  # an update that changed nothing logs nothing
    assert all(e.actor_label == "Ana Costa" and e.reason == "found by the scan" for e in entries)


def test_bulk_history_names_an_api_key(organization, erp_key):
    key = erp_key
    flag = FlagFactory(program=ProgramFactory(organization=organization))
    (snapshot,) = bulk_history(Flag, [flag], update=False, actor=key, reason="via the API")
    assert (snapshot.history_user_id, snapshot.history_api_key_id) == (None, key.pk)
    assert Change.objects.get(history_id=snapshot.history_id, model="accountability.flag").actor_label == (
        "API key “ERP feed” (created by Ana Costa)"
    )
