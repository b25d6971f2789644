"""The flag lifecycle: raise, refresh, auto-resolve, recurrence, dismissal, acknowledgement,
invalid moves, and the one-live-flag rule under concurrent syncs (PostgreSQL)."""

import dataclasses
import datetime as dt
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from accountability.choices import FlagKind, FlagStatus, Severity, SubjectType
from accountability.findings import Finding
from accountability.flag_actions import flag_acknowledge, flag_dismiss, flag_resolve
from accountability.flags import CONDITION_CLEARED, flags_sync
from accountability.models import Flag
from programs.authentication import ApiKeyPrincipal
from tests.conftest import missing_service
from tests.factories import ApiKeyFactory, FlagFactory, InitiativeFactory, ProgramFactory

AS_OF = dt.date(2025, 6, 1)
STALLED = FlagKind.INITIATIVE_STALLED
OVERDUE = FlagKind.INITIATIVE_OVERDUE
KINDS = [STALLED, OVERDUE]

pytestmark = pytest.mark.django_db


def stalled(initiative, *, severity=Severity.MEDIUM, last_activity="2025-04-01", days=61, owner=None) -> Finding:
    return Finding(
        kind=STALLED,
        program_id=initiative.program_id,
        subject_type=SubjectType.INITIATIVE,
        subject_id=initiative.pk,
        severity=severity,
        owner_id=owner.pk if owner else initiative.owner_id,
        title=f"Initiative '{initiative.name}' stalled for {days} days",
        detail="No progress update.",
        evidence={"last_activity_on": last_activity, "days_since_activity": days},
        identity={"last_activity_on": last_activity},
    )


def sync(organization, findings, *, kinds=KINDS, as_of=AS_OF, program_ids=None):
    return flags_sync(organization=organization, findings=findings, kinds=kinds, as_of=as_of, program_ids=program_ids)


@pytest.fixture
def initiative(organization):
    return InitiativeFactory(program=ProgramFactory(organization=organization))


def live(initiative, kind=STALLED):
    return Flag.objects.live().filter(kind=kind, subject_type=SubjectType.INITIATIVE, subject_id=initiative.pk)


# --- Raise, refresh, resolve -------------------------------------------------------------


def test_a_new_finding_raises_an_open_flag_with_its_facts(organization, initiative):
    result = sync(organization, [stalled(initiative)])

    flag = Flag.objects.get()
    assert result.raised == 1 and result.raised_ids == [flag.pk]
    assert (result.refreshed, result.resolved) == (0, 0)
    assert flag.status == FlagStatus.OPEN
    assert (flag.kind, flag.subject_type, flag.subject_id) == (STALLED, "initiative", initiative.pk)
    assert flag.organization == organization and flag.program == initiative.program
    assert flag.owner_id == initiative.owner_id
    assert flag.severity == Severity.MEDIUM
    assert flag.evidence == {"last_activity_on": "2025-04-01", "days_since_activity": 61}
    assert flag.evidence_fingerprint == stalled(initiative).fingerprint
    assert flag.first_detected_on == flag.last_detected_on == AS_OF


def test_the_same_findings_again_refresh_and_change_nothing_else(organization, initiative):
    sync(organization, [stalled(initiative)])
    before = Flag.objects.get()

    result = sync(organization, [stalled(initiative)], as_of=AS_OF + dt.timedelta(days=1))

    after = Flag.objects.get()
    assert (result.raised, result.refreshed, result.resolved) == (0, 1, 0)
    assert after.pk == before.pk
    assert after.first_detected_on == AS_OF and after.first_detected_at == before.first_detected_at
    assert after.last_detected_on == AS_OF + dt.timedelta(days=1)
    assert after.last_detected_at > before.last_detected_at
    assert (after.severity, after.title, after.evidence, after.status) == (
        before.severity,
        before.title,
        before.evidence,
        before.status,
    )


def test_a_refresh_rewrites_severity_evidence_title_and_owner(organization, initiative):
    sync(organization, [stalled(initiative)])
    new_owner = InitiativeFactory(program=initiative.program).owner

    result = sync(
        organization,
        [stalled(initiative, severity=Severity.HIGH, days=75, owner=new_owner, last_activity="2025-03-18")],
    )

    flag = Flag.objects.get()
    assert result.escalated_ids == [flag.pk]
    assert flag.severity == Severity.HIGH
    assert flag.owner == new_owner
    assert flag.evidence["days_since_activity"] == 75
    assert "75 days" in flag.title


def test_a_refresh_keeps_an_acknowledged_flag_acknowledged(organization, initiative, executive_user):
    sync(organization, [stalled(initiative)])
    flag_acknowledge(flag=Flag.objects.get(), actor=executive_user)

    sync(organization, [stalled(initiative, severity=Severity.HIGH)])

    flag = Flag.objects.get()
    assert flag.status == FlagStatus.ACKNOWLEDGED
    assert flag.acknowledged_by == executive_user
    assert flag.severity == Severity.HIGH


def test_a_condition_no_longer_found_is_resolved_as_condition_cleared(organization, initiative):
    sync(organization, [stalled(initiative)])

    result = sync(organization, [])

    flag = Flag.objects.get()
    assert result.resolved_ids == [flag.pk]
    assert flag.status == FlagStatus.RESOLVED
    assert flag.resolution_note == CONDITION_CLEARED == "condition cleared"
    assert flag.resolved_by is None and flag.resolved_at is not None


def test_an_acknowledged_flag_is_resolved_too_when_its_condition_clears(organization, initiative, executive_user):
    sync(organization, [stalled(initiative)])
    flag_acknowledge(flag=Flag.objects.get(), actor=executive_user)

    sync(organization, [])

    assert Flag.objects.get().status == FlagStatus.RESOLVED


def test_resolution_only_touches_the_kinds_synced(organization, initiative):
    sync(organization, [stalled(initiative)])

    result = sync(organization, [], kinds=[OVERDUE])

    assert result.resolved == 0
    assert Flag.objects.get().status == FlagStatus.OPEN


def test_resolution_only_touches_the_programs_in_scope(organization, initiative):
    other = InitiativeFactory(program=ProgramFactory(organization=organization))
    sync(organization, [stalled(initiative), stalled(other)])

    result = sync(organization, [], program_ids=[other.program_id])

    assert result.resolved == 1
    assert live(initiative).count() == 1
    assert live(other).count() == 0


def test_resolution_never_reaches_another_organization(organization, other_organization, initiative):
    theirs = InitiativeFactory(program=ProgramFactory(organization=other_organization))
    sync(other_organization, [stalled(theirs)])

    sync(organization, [])

    assert live(theirs).count() == 1


def test_a_recurrence_opens_a_new_flag_and_keeps_the_old_one(organization, initiative):
    sync(organization, [stalled(initiative)])
    sync(organization, [])

    result = sync(organization, [stalled(initiative)], as_of=AS_OF + dt.timedelta(days=7))

    old, new = Flag.objects.order_by("id")
    assert result.raised_ids == [new.pk]
    assert old.status == FlagStatus.RESOLVED
    assert new.status == FlagStatus.OPEN and new.first_detected_on == AS_OF + dt.timedelta(days=7)


def test_a_flag_resolved_by_a_person_comes_back_if_the_condition_is_still_there(organization, initiative, office_user):
    sync(organization, [stalled(initiative)])
    flag_resolve(flag=Flag.objects.get(), actor=office_user, note="Pinged the owner")

    result = sync(organization, [stalled(initiative)])

    assert result.raised == 1
    assert list(Flag.objects.order_by("id").values_list("status", flat=True)) == ["resolved", "open"]


# --- Replays of an earlier day (`run_governance_scan --as-of` after a later scan) ---------


def test_a_replay_of_an_earlier_day_leaves_a_later_scans_live_flag_as_it_is(organization, initiative):
    later = AS_OF + dt.timedelta(days=7)
    sync(organization, [stalled(initiative)], as_of=later)
    before = Flag.objects.get()

    cleared = sync(organization, [], as_of=AS_OF)
    found = sync(organization, [stalled(initiative, severity=Severity.HIGH)], as_of=AS_OF)

    assert (cleared.resolved, found.raised, found.refreshed) == (0, 0, 0)
    flag = Flag.objects.get()
    assert flag.status == FlagStatus.OPEN and flag.severity == Severity.MEDIUM
    assert (flag.last_detected_on, flag.last_detected_at) == (later, before.last_detected_at)


def test_a_scan_of_the_same_day_or_later_still_refreshes_and_resolves(organization, initiative):
    sync(organization, [stalled(initiative)], as_of=AS_OF)

    again = sync(organization, [stalled(initiative, severity=Severity.HIGH)], as_of=AS_OF)
    assert again.refreshed == 1 and Flag.objects.get().severity == Severity.HIGH
    cleared = sync(organization, [], as_of=AS_OF + dt.timedelta(days=1))
    assert cleared.resolved == 1 and Flag.objects.get().closed_on == AS_OF + dt.timedelta(days=1)


def test_a_replay_does_not_reopen_a_subject_a_later_scan_found_then_closed(organization, initiative):
    found_on = AS_OF + dt.timedelta(days=3)
    sync(organization, [stalled(initiative)], as_of=found_on)
    closed_on = AS_OF + dt.timedelta(days=7)
    sync(organization, [], as_of=closed_on)

    replay = sync(organization, [stalled(initiative)], as_of=found_on - dt.timedelta(days=1))
    assert replay.raised == 0 and live(initiative).count() == 0

    # The day it was closed, or after, the condition found again is a recurrence.
    recurrence = sync(organization, [stalled(initiative)], as_of=closed_on)
    assert recurrence.raised == 1 and live(initiative).get().first_detected_on == closed_on


def test_a_finding_of_a_kind_outside_the_sync_is_a_programming_error(organization, initiative):
    with pytest.raises(ValueError, match="initiative_stalled"):
        sync(organization, [stalled(initiative)], kinds=[OVERDUE])
    assert not Flag.objects.exists()


def test_duplicate_findings_make_one_flag_with_the_higher_severity(organization, initiative):
    result = sync(organization, [stalled(initiative), stalled(initiative, severity=Severity.HIGH)])

    assert result.raised == 1
    assert Flag.objects.get().severity == Severity.HIGH


def test_sync_uses_a_fixed_number_of_queries(organization, django_assert_max_num_queries):
    program = ProgramFactory(organization=organization)
    initiatives = InitiativeFactory.create_batch(30, program=program)
    # First pass raises 30 flags, second refreshes 20 and resolves 10, third raises 10 again. Each pass
    # also writes the snapshots and change-log entries of what changed: an insert each, and for changes
    # the previous snapshots (two queries).
    with django_assert_max_num_queries(14):
        sync(organization, [stalled(i) for i in initiatives])
    with django_assert_max_num_queries(14):
        result = sync(organization, [stalled(i) for i in initiatives[:20]])
    assert (result.refreshed, result.resolved) == (20, 10)
    with django_assert_max_num_queries(14):
        result = sync(organization, [stalled(i) for i in initiatives])
    assert (result.raised, result.refreshed) == (10, 20)


# --- Dismissal --------------------------------------------------------------------------


def test_dismissing_needs_a_reason(organization, initiative, office_user):
    sync(organization, [stalled(initiative)])
    flag = Flag.objects.get()

    for reason in ["", "   "]:
        with pytest.raises(ValidationError, match="Say why"):
            flag_dismiss(flag=flag, actor=office_user, reason=reason)
    assert Flag.objects.get().status == FlagStatus.OPEN


def test_dismissing_records_who_why_and_when(organization, initiative, office_user):
    sync(organization, [stalled(initiative)])

    flag = flag_dismiss(flag=Flag.objects.get(), actor=office_user, reason="Paused by the board until Q3")

    flag.refresh_from_db()
    assert flag.status == FlagStatus.DISMISSED
    assert flag.resolution_note == "Paused by the board until Q3"
    assert flag.resolved_by == office_user and flag.resolved_at is not None


def test_a_dismissed_flag_stays_dismissed_while_its_evidence_is_the_same(organization, initiative, office_user):
    sync(organization, [stalled(initiative)])
    flag_dismiss(flag=Flag.objects.get(), actor=office_user, reason="Known, on hold")

    # The day counter grows, but the identity (the last activity date) is the same.
    result = sync(organization, [stalled(initiative, days=90)], as_of=AS_OF + dt.timedelta(days=29))

    assert (result.raised, result.suppressed) == (0, 1)
    assert Flag.objects.get().status == FlagStatus.DISMISSED


def test_a_dismissed_flag_returns_as_a_new_flag_when_its_evidence_changes(organization, initiative, office_user):
    sync(organization, [stalled(initiative)])
    flag_dismiss(flag=Flag.objects.get(), actor=office_user, reason="Known, on hold")

    result = sync(organization, [stalled(initiative, last_activity="2025-05-02")])

    dismissed, new = Flag.objects.order_by("id")
    assert result.raised_ids == [new.pk]
    assert dismissed.status == FlagStatus.DISMISSED
    assert new.status == FlagStatus.OPEN


def test_a_dismissal_only_blocks_its_own_kind_and_subject(organization, initiative, office_user):
    other = InitiativeFactory(program=initiative.program)
    sync(organization, [stalled(initiative)])
    flag_dismiss(flag=Flag.objects.get(), actor=office_user, reason="Known")

    result = sync(organization, [stalled(initiative), stalled(other)])

    assert result.raised == 1
    assert live(other).count() == 1


# --- Moves made by people ---------------------------------------------------------------


def test_acknowledge_records_who_and_when(organization, initiative, executive_user):
    sync(organization, [stalled(initiative)])

    flag = flag_acknowledge(flag=Flag.objects.get(), actor=executive_user)

    flag.refresh_from_db()
    assert flag.status == FlagStatus.ACKNOWLEDGED
    assert flag.acknowledged_by == executive_user and flag.acknowledged_at is not None


def test_resolve_by_a_person_keeps_the_note_and_the_resolver(organization, initiative, office_user):
    sync(organization, [stalled(initiative)])

    flag = flag_resolve(flag=Flag.objects.get(), actor=office_user, note="Owner reported progress offline")

    flag.refresh_from_db()
    assert flag.status == FlagStatus.RESOLVED
    assert flag.resolution_note == "Owner reported progress offline"
    assert flag.resolved_by == office_user


def test_an_api_key_acting_is_recorded_as_nobody(organization, initiative):
    sync(organization, [stalled(initiative)])
    principal = ApiKeyPrincipal(ApiKeyFactory(organization=organization, role="executive"))

    flag = flag_acknowledge(flag=Flag.objects.get(), actor=principal)

    flag.refresh_from_db()
    assert flag.status == FlagStatus.ACKNOWLEDGED and flag.acknowledged_by is None


@pytest.mark.parametrize(
    ("status", "move", "message"),
    [
        (FlagStatus.ACKNOWLEDGED, "acknowledge", "acknowledged cannot be acknowledged"),
        (FlagStatus.RESOLVED, "acknowledge", "resolved cannot be acknowledged"),
        (FlagStatus.DISMISSED, "acknowledge", "dismissed cannot be acknowledged"),
        (FlagStatus.RESOLVED, "resolve", "resolved cannot be resolved"),
        (FlagStatus.DISMISSED, "resolve", "dismissed cannot be resolved"),
        (FlagStatus.RESOLVED, "dismiss", "resolved cannot be dismissed"),
        (FlagStatus.DISMISSED, "dismiss", "dismissed cannot be dismissed"),
    ],
)
def test_invalid_moves_are_refused_and_change_nothing(organization, office_user, status, move, message):
    flag = FlagFactory(program=ProgramFactory(organization=organization), status=status, resolution_note="before")
    call = {
        "acknowledge": lambda: flag_acknowledge(flag=flag, actor=office_user),
        "resolve": lambda: flag_resolve(flag=flag, actor=office_user, note="after"),
        "dismiss": lambda: flag_dismiss(flag=flag, actor=office_user, reason="after"),
    }[move]

    with pytest.raises(ValidationError, match=message):
        call()

    stored = Flag.objects.get(pk=flag.pk)
    assert (stored.status, stored.resolution_note, stored.resolved_by) == (status, "before", None)


def test_two_people_acting_on_the_same_flag_cannot_both_succeed(organization, office_user, executive_user):
    flag = FlagFactory(program=ProgramFactory(organization=organization))
    seen_by_one = Flag.objects.get(pk=flag.pk)
    seen_by_other = Flag.objects.get(pk=flag.pk)  # both loaded while open

    flag_dismiss(flag=seen_by_one, actor=office_user, reason="Not relevant")
    with pytest.raises(ValidationError, match="dismissed cannot be resolved"):
        flag_resolve(flag=seen_by_other, actor=executive_user)

    stored = Flag.objects.get(pk=flag.pk)
    assert stored.status == FlagStatus.DISMISSED and stored.resolved_by == office_user


# --- The database constraint ------------------------------------------------------------


def test_the_database_refuses_a_second_live_flag_for_the_same_kind_and_subject(organization):
    from django.db import IntegrityError

    flag = FlagFactory(program=ProgramFactory(organization=organization))
    with pytest.raises(IntegrityError), transaction.atomic():
        FlagFactory(program=flag.program, status=FlagStatus.ACKNOWLEDGED)
    # A closed one alongside is fine: history is kept.
    FlagFactory(program=flag.program, status=FlagStatus.RESOLVED)
    assert Flag.objects.filter(program=flag.program).count() == 2


def _postgres_only():
    if connection.vendor != "postgresql":
        missing_service("concurrent syncs need PostgreSQL (set DATABASE_URL)")


@pytest.mark.django_db(transaction=True)
def test_two_syncs_racing_to_raise_leave_exactly_one_live_flag_each():
    """Scan A inserts and holds its transaction open; scan B, started meanwhile, finds no
    live flag, collides on the partial unique index, and must refresh A's rows instead."""
    _postgres_only()
    from tests.factories import OrganizationFactory

    organization = OrganizationFactory()
    program = ProgramFactory(organization=organization)
    initiatives = InitiativeFactory.create_batch(10, program=program)
    findings = [stalled(i) for i in initiatives]
    a_synced, release_a = threading.Event(), threading.Event()
    results, errors = {}, []

    def scan_a():
        try:
            with transaction.atomic():
                results["a"] = sync(organization, findings)
                a_synced.set()
                release_a.wait(10)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    def scan_b():
        try:
            results["b"] = sync(organization, findings)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    thread_a = threading.Thread(target=scan_a)
    thread_a.start()
    assert a_synced.wait(10)
    thread_b = threading.Thread(target=scan_b)
    thread_b.start()
    time.sleep(0.5)  # B is now blocked on A's uncommitted rows
    release_a.set()
    thread_a.join(20)
    thread_b.join(20)

    assert errors == []
    assert results["a"].raised == 10
    assert (results["b"].raised, results["b"].refreshed) == (0, 10)
    assert Flag.objects.count() == 10
    for i in initiatives:
        assert live(i).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_syncs_started_together_resolve_and_raise_once():
    """Both start at a barrier; one live flag must be resolved and ten raised, exactly once in total."""
    _postgres_only()
    from tests.factories import OrganizationFactory

    organization = OrganizationFactory()
    program = ProgramFactory(organization=organization)
    initiatives = InitiativeFactory.create_batch(11, program=program)
    sync(organization, [stalled(initiatives[0])])  # a live flag no longer found below
    findings = [stalled(i) for i in initiatives[1:]]
    barrier = threading.Barrier(2)
    results, errors = [], []

    def scan():
        try:
            barrier.wait(10)
            results.append(sync(organization, findings))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert errors == []
    assert sum(r.resolved for r in results) == 1
    assert sum(r.raised for r in results) == 10
    assert Flag.objects.live().count() == 10
    for i in initiatives[1:]:
        assert live(i).count() == 1


def _hot_updates_of_flags() -> tuple[int, int]:
    """(row updates, heap-only ones) of the flags table in this transaction so far."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = 'accountability_flag'"
        )
        return cursor.fetchone() or (0, 0)


def test_a_rescan_refreshes_its_flags_in_place(organization, initiative):
    """The daily rescan finds most flags again and moves only their detection times. The
    table's pages keep room (fillfactor 50, migration 0013), so each such update is a
    heap-only tuple, which touches none of the flags' thirteen indexes. On full pages
    (PostgreSQL's default) all but the rows of the last page would move and be indexed again."""
    _postgres_only()
    findings = [dataclasses.replace(stalled(initiative), subject_id=initiative.pk + n) for n in range(400)]
    assert sync(organization, findings).raised == 400
    updates, hot = _hot_updates_of_flags()
    result = sync(organization, findings, as_of=AS_OF + dt.timedelta(days=1))
    assert result.refreshed == 400
    assert Flag.objects.filter(organization=organization, last_detected_on=AS_OF + dt.timedelta(days=1)).count() == 400
    updates_after, hot_after = _hot_updates_of_flags()
    assert updates_after - updates == 400
    assert hot_after - hot == 400
