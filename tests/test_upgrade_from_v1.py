"""A database made by version 1 upgrades with `migrate` and loses nothing.

The test migrates the database back to version 1's last migrations, writes a row of every
model through the historical (version 1) models, migrates to the latest migrations, and
then finds every row, authenticates with the version 1 API key and runs a scan.
"""

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from rest_framework.test import APIClient

from accountability.scans import scan_organization

VERSION_1 = [
    ("programs", "0001_initial"),
    ("metrics", "0001_initial"),
    ("accountability", "0003_engine_scanrun_program_ids"),
]
RAW_KEY = "cxg_version-one-key-that-must-still-work-after-upgrade"


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


def _latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def _write_version_1_rows(apps) -> dict[str, int]:
    """One row (at least) of every version 1 model; returns the expected count per model."""

    def model(label):
        return apps.get_model(*label.split("."))

    now = timezone.now()
    today = dt.date(2026, 6, 1)
    User = model("auth.User")
    user = User.objects.create(username="v1-office", email="office@v1.example")
    org = model("programs.Organization").objects.create(name="Version One", slug="version-one")
    model("programs.Membership").objects.create(user=user, organization=org, role="office")
    model("programs.ApiKey").objects.create(
        organization=org,
        name="v1 integration",
        role="office",
        key_prefix=RAW_KEY[:10],
        key_hash=hashlib.sha256(RAW_KEY.encode()).hexdigest(),
        created_by=user,
    )
    Person = model("programs.Person")
    ceo = Person.objects.create(organization=org, name="Ada CEO", email="ada@v1.example", is_officer=True)
    champion = Person.objects.create(organization=org, name="Bo Champion", is_officer=True, reports_to=ceo)
    org.ceo = ceo
    org.save()
    unit = model("programs.BusinessUnit").objects.create(organization=org, name="Service")
    program = model("programs.Program").objects.create(
        organization=org,
        name="Customer First",
        customer_vision="Claims paid in a day",
        business_case="Retention",
        executive_sponsor=ceo,
        customer_champion=champion,
        champion_time_pct=60,
        status="active",
        started_on=dt.date(2025, 1, 1),
        budget=Decimal("1000000.00"),
    )
    model("programs.ProgramStatusChange").objects.create(
        program=program, from_status="draft", to_status="active", committed_horizon_months=60, changed_by=user
    )
    stage = model("programs.RoadmapStage").objects.create(
        program=program, sequence=1, name="Foundations", budget=Decimal("250000.00"), status="in_progress"
    )
    initiative = model("programs.Initiative").objects.create(
        program=program, stage=stage, name="Claims triage", owner=champion, status="in_progress"
    )
    initiative.business_units.add(unit)
    model("programs.ProgressUpdate").objects.create(
        initiative=initiative, author=champion, reported_on=today, rag="amber", percent_complete=40
    )
    answers = dict.fromkeys(
        [
            "clear_destination",
            "understands_scope",
            "builds_new_skills",
            "commits_resources",
            "true_partner",
            "insists_on_patience",
            "pushes_customer_metrics",
            "drives_reliability",
            "defines_differentiation",
        ],
        4,
    )
    model("programs.CommitmentAssessment").objects.create(
        program=program, assessed_on=today, assessor=champion, **answers
    )
    Metric = model("metrics.Metric")
    outcome = Metric.objects.create(
        program=program, name="Retention", level="strategic", kind="outcome", unit="%", owner=ceo, target=Decimal(90)
    )
    operational = Metric.objects.create(
        program=program, parent=outcome, name="First-contact resolution", level="operational", kind="operational"
    )
    model("metrics.Measurement").objects.create(metric=outcome, period_end=today, value=Decimal("87.5"))
    forum = model("accountability.Forum").objects.create(
        program=program, name="Customer council", cadence="monthly", started_on=dt.date(2025, 1, 1), chair=ceo
    )
    forum.members.add(ceo, champion)
    forum.metrics_reviewed.add(outcome)
    session = model("accountability.ForumSession").objects.create(forum=forum, scheduled_for=now, status="held")
    model("metrics.MetricRevision").objects.create(
        metric=outcome,
        field="target",
        old_value="95",
        new_value="90",
        reason="Agreed in council",
        changed_by=user,
        approved_in=session,
    )
    model("metrics.Exemption").objects.create(
        metric=operational, person=champion, reason="New in role", granted_by=ceo, starts_on=today
    )
    model("accountability.Attendance").objects.create(session=session, person=ceo, present=True)
    model("accountability.AgendaItem").objects.create(session=session, title="Retention review", metric=outcome)
    model("accountability.ActionItem").objects.create(
        program=program, session=session, owner=champion, description="Fix triage", due_on=today
    )
    model("accountability.Escalation").objects.create(
        program=program, initiative=initiative, raised_by=champion, raised_to=ceo, raised_on=today
    )
    scan_run = model("accountability.ScanRun").objects.create(organization=org, as_of=today, status="succeeded")
    model("accountability.RiskAssessment").objects.create(
        program=program, as_of=today, score=30, level="elevated", factors=[], scan_run=scan_run
    )
    model("accountability.Flag").objects.create(
        organization=org,
        program=program,
        kind="initiative_stalled",
        severity="medium",
        subject_type="initiative",
        subject_id=initiative.pk,
        owner=champion,
        title="Claims triage has stalled",
        first_detected_on=today,
        last_detected_on=today,
    )
    webhook = model("accountability.Webhook").objects.create(
        organization=org, url="https://hooks.example.com/v1", secret="s" * 20, events=["flag.raised"]
    )
    delivery = model("accountability.WebhookDelivery").objects.create(
        webhook=webhook, event="flag.raised", payload={"event": "flag.raised"}, status="delivered"
    )
    model("accountability.WebhookAttempt").objects.create(delivery=delivery, status_code=200)
    model("accountability.Notification").objects.create(
        organization=org, key="flag:1:severity:high", recipient="bo@v1.example", subject="A flag"
    )
    return {
        "programs.Organization": 1,
        "programs.Membership": 1,
        "programs.ApiKey": 1,
        "programs.Person": 2,
        "programs.BusinessUnit": 1,
        "programs.Program": 1,
        "programs.ProgramStatusChange": 1,
        "programs.RoadmapStage": 1,
        "programs.Initiative": 1,
        "programs.ProgressUpdate": 1,
        "programs.CommitmentAssessment": 1,
        "metrics.Metric": 2,
        "metrics.Measurement": 1,
        "metrics.MetricRevision": 1,
        "metrics.Exemption": 1,
        "accountability.Forum": 1,
        "accountability.ForumSession": 1,
        "accountability.Attendance": 1,
        "accountability.AgendaItem": 1,
        "accountability.ActionItem": 1,
        "accountability.Escalation": 1,
        "accountability.ScanRun": 1,
        "accountability.RiskAssessment": 1,
        "accountability.Flag": 1,
        "notifications.Webhook": 1,
        "notifications.WebhookDelivery": 1,
        "notifications.WebhookAttempt": 1,
        "notifications.Notification": 1,
    }


@pytest.mark.django_db(transaction=True)
def test_a_version_1_database_upgrades_and_loses_nothing():
    latest = _latest()
    executor = _migrate(VERSION_1)
    try:
        expected = _write_version_1_rows(executor.loader.project_state(VERSION_1).apps)
    finally:
        _migrate(latest)

    from django.apps import apps

    found = {label: apps.get_model(*label.split(".")).objects.count() for label in expected}
    assert found == expected

    organization = apps.get_model("programs", "Organization").objects.get(slug="version-one")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RAW_KEY}")
    response = client.get("/api/v1/webhooks/")
    assert response.status_code == 200
    assert [w["url"] for w in response.json()["results"]] == ["https://hooks.example.com/v1"]
    assert client.get("/api/v1/programs/").json()["count"] == 1
    # Measurements carry their metric's organization (metrics 0006 fills it), so the
    # organization's list finds version 1's value.
    measurement = apps.get_model("metrics", "Measurement").objects.get()
    assert measurement.organization_id == organization.pk
    assert [m["value"] for m in client.get("/api/v1/measurements/").json()["results"]] == ["87.5000"]
    # So do attendance and agenda items, their session's (accountability 0014 fills it),
    # sessions, their forum's (accountability 0016), and progress updates (programs 0011).
    for label, path in (
        ("accountability.Attendance", "attendance"),
        ("accountability.AgendaItem", "agenda-items"),
        ("accountability.ForumSession", "sessions"),
        ("programs.ProgressUpdate", "progress-updates"),
    ):
        row = apps.get_model(*label.split(".")).objects.get()
        assert row.organization_id == organization.pk, label
        assert [r["id"] for r in client.get(f"/api/v1/{path}/").json()["results"]] == [row.pk], label

    run = scan_organization(organization=organization, as_of=dt.date(2026, 6, 2))
    assert run.status == "succeeded", run.errors
    assert apps.get_model("accountability", "RiskAssessment").objects.filter(as_of=dt.date(2026, 6, 2)).count() == 1
