"""Scan budget (SPEC section 7): time, queries and memory of the full governance scan.

For each scale it seeds `seed_demo --scale N` into a fresh PostgreSQL database, then, in a
fresh process (so peak memory is the scan's, not the seeding's), measures:

- the first scan of every organization (raises every flag) and a rescan (the daily
  steady state: refreshes only), wall time each;
- one grouped aggregate (Count/Max per parent row) over every table the scan reads,
  history, exemptions, actions, escalations, agenda and flags included: the baseline
  (`aggregate_pass`; docs/performance.md says why);
- the ratios rescan / baseline (budget ≤ 3×) and first / rescan (budget ≤ 2×), queries
  per organization, the process's peak RSS, and the load average before and after.

With REDIS_URL set, the notification tasks the flag events queue are only queued (as in
production, where workers send them) and purged at the end; without it Celery is eager
and the first scan's time includes sending every email in-process.

Usage (PostgreSQL required; Redis optional):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cxgov_bench .venv/bin/python benchmarks/scan.py [--scales 10 20]
Prints figures; asserts nothing about time (shared machines are noisy).
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _django():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxgov.settings")
    import django

    django.setup()


class QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def aggregate_pass() -> dict:
    """The baseline: one grouped aggregate over every table the scan reads.

    Each is the cheapest honest question a hand-written report would ask of the table (a
    count and the latest date per parent row): the scan cannot read its inputs for less
    than one pass over each, so scan time / this time is the cost of the rules on top of
    reading the data. The tables are those the detectors, the risk assessment, the flag
    sync, the escalation ladder and the nudges read, history tables included.
    """
    from django.db.models import Count, Max, Q

    from accountability.models import (
        ActionItem,
        AgendaItem,
        Attendance,
        Escalation,
        Flag,
        Forum,
        ForumSession,
        RiskAssessment,
    )
    from metrics.models import Exemption, Measurement, Metric, MetricRevision
    from programs.models import (
        CommitmentAssessment,
        Initiative,
        Person,
        Program,
        ProgramStatusChange,
        ProgressUpdate,
        RoadmapStage,
    )

    def grouped(model, by: str | tuple, latest: str, **extra):
        by = (by,) if isinstance(by, str) else by
        return model.objects.values(*by).annotate(n=Count("pk"), last=Max(latest), **extra)

    passes = {
        "programs": grouped(Program, "organization_id", "started_on"),
        "program_history": grouped(Program.history.model, "id", "history_date"),
        "status_changes": grouped(ProgramStatusChange, "program_id", "at"),
        "roadmap_stages": grouped(RoadmapStage, "program_id", "ends_on", budget=Max("budget")),
        "roadmap_history": grouped(RoadmapStage.history.model, "program_id", "history_date"),
        "commitment": grouped(CommitmentAssessment, "program_id", "assessed_on", score=Max("score")),
        "people": grouped(Person, "organization_id", "email"),
        "initiatives": grouped(Initiative, "program_id", "due_on"),
        "progress_updates": grouped(ProgressUpdate, "initiative_id", "reported_on"),
        "metrics": grouped(Metric, "program_id", "target_on", target=Max("target")),
        "measurements": grouped(Measurement, "metric_id", "period_end"),
        "revisions": grouped(MetricRevision, "metric_id", "changed_at"),
        "exemptions": grouped(Exemption, "metric_id", "ends_on"),
        "forums": grouped(Forum, "program_id", "started_on"),
        "sessions": grouped(ForumSession, ("forum_id", "status"), "scheduled_for"),
        "attendance": grouped(Attendance, "session_id", "person_id", present=Count("id", filter=Q(present=True))),
        "agenda": grouped(AgendaItem, "session_id", "metric_id", customer=Count("id", filter=Q(customer_item=True))),
        "actions": grouped(ActionItem, "program_id", "due_on"),
        "escalations": grouped(Escalation, "program_id", "raised_on"),
        "flags": grouped(Flag, ("program_id", "kind"), "first_detected_at"),
        "risk": grouped(RiskAssessment, "program_id", "as_of"),
    }
    return {name: len(list(qs.order_by())) for name, qs in passes.items()}


def table_sizes() -> dict:
    from accountability.models import Attendance, Flag, ForumSession
    from metrics.models import Measurement, Metric
    from programs.models import Initiative, Organization, Program, ProgressUpdate

    models = {
        "organizations": Organization,
        "programs": Program,
        "initiatives": Initiative,
        "progress_updates": ProgressUpdate,
        "metrics": Metric,
        "measurements": Measurement,
        "sessions": ForumSession,
        "attendance": Attendance,
        "flags": Flag,
    }
    return {name: model.objects.count() for name, model in models.items()}


def scan_all(as_of) -> dict:
    from django.db import connection

    from accountability.scans import scan_organization
    from programs.models import Organization

    out = {"seconds": 0.0, "queries": [], "raised": 0, "refreshed": 0, "resolved": 0, "status": [], "phases": {}}
    for organization in Organization.objects.order_by("id"):
        counter = QueryCounter()
        started = time.perf_counter()
        with connection.execute_wrapper(counter):
            run = scan_organization(organization=organization, as_of=as_of)
        out["seconds"] += time.perf_counter() - started
        out["queries"].append(counter.count)
        for key in ("raised", "refreshed", "resolved"):
            out[key] += getattr(run, key)
        out["status"].append(run.status)
        for name, seconds in run.timings.items():
            out["phases"][name] = out["phases"].get(name, 0.0) + seconds
    return out


def measure(as_of: str) -> dict:
    """Run in a fresh process: baseline, first scan, rescan, peak memory."""
    import datetime as dt

    _django()
    from accountability.models import Flag, RiskAssessment, ScanRun
    from notifications.models import Notification, WebhookDelivery

    day = dt.date.fromisoformat(as_of)
    # Start from no scan output, so the first scan raises everything (a throwaway database).
    for model in (WebhookDelivery, Notification, Flag, RiskAssessment, ScanRun):
        model.objects.all().delete()
    sizes = table_sizes()
    aggregate_pass()  # warm the cache the same way the scan will find it
    # Warm the process as a worker is after its first task: the URLconf (the nudges' form
    # links) is imported and compiled once per process, ~0.3 s that is no scan's own cost
    # and would otherwise land on the first scan only.
    from django.urls import reverse

    reverse("admin:index")
    started = time.perf_counter()
    aggregate_rows = aggregate_pass()
    baseline = time.perf_counter() - started
    first = scan_all(day)
    second = scan_all(day)
    started = time.perf_counter()
    aggregate_pass()
    baseline_after = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    from django.conf import settings

    if settings.REDIS_URL:  # the notification tasks the scan queued: no worker here to run them
        from cxgov.celery import app

        app.control.purge()
    return {
        "sizes": sizes,
        "aggregate_rows": aggregate_rows,
        "baseline_s": min(baseline, baseline_after),
        "first": first,
        "rescan": second,
        "peak_mb": peak_mb,
    }


def seed(scale: int, env: dict) -> float:
    started = time.perf_counter()
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], check=True, env=env, cwd=ROOT)
    subprocess.run([*manage, "flush", "--noinput"], check=True, env=env, cwd=ROOT)
    subprocess.run([*manage, "seed_demo", "--scale", str(scale)], check=True, env=env, cwd=ROOT)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=int, nargs="+", default=[10, 20])
    parser.add_argument("--as-of", default=None, help="scan date (default: today)")
    parser.add_argument("--skip-seed", action="store_true", help="measure the data already there (its flags are reset)")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.measure:
        print(json.dumps(measure(args.as_of)))
        return

    if "postgres" not in os.environ.get("DATABASE_URL", ""):
        sys.exit("Set DATABASE_URL to a PostgreSQL database you can wipe (the budget is stated for PostgreSQL).")
    import datetime as dt

    as_of = args.as_of or dt.date.today().isoformat()
    env = {**os.environ, "EMAIL_URL": "dummymail://", "PYTHONUNBUFFERED": "1"}
    results = {}
    for scale in args.scales[:1] if args.skip_seed else args.scales:
        if not args.skip_seed:
            print(f"seeding scale {scale}…", flush=True)
            print(f"  seeded in {seed(scale, env):.1f} s", flush=True)
        load_before = os.getloadavg()
        out = subprocess.run(
            [sys.executable, __file__, "--measure", "--as-of", as_of],
            env=env,
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            sys.exit(f"measuring scale {scale} failed:\n{out.stderr[-4000:]}")
        results[scale] = json.loads(out.stdout.strip().splitlines()[-1])
        results[scale]["load"] = (load_before, os.getloadavg())
        report(scale, results[scale])
    if len(results) >= 2:
        (s1, r1), (s2, r2) = list(results.items())[:2]
        for phase in ("first", "rescan"):
            growth = r2[phase]["seconds"] / r1[phase]["seconds"]
            data = r2["sizes"]["measurements"] / max(1, r1["sizes"]["measurements"])
            print(
                f"{phase}: scale {s1} → {s2}: data ×{data:.2f}, scan time ×{growth:.2f} (budget: at most ×{data:.2f})"
            )


def report(scale: int, r: dict) -> None:
    sizes = ", ".join(f"{k} {v:,}" for k, v in r["sizes"].items())
    before, after = (f"{a[0]:.2f}" for a in r["load"])
    print(f"\n== scale {scale}: {sizes}")
    print(f"  load average (1 min) before {before}, after {after}")
    print(f"  aggregate pass over the {len(r['aggregate_rows'])} tables the scan reads: {r['baseline_s']:.2f} s")
    for phase in ("first", "rescan"):
        p = r[phase]
        queries = p["queries"]
        print(
            f"  {phase:>6} scan: {p['seconds']:.2f} s = {p['seconds'] / r['baseline_s']:.1f}× the aggregate pass; "
            f"{p['raised']:,} raised, {p['refreshed']:,} refreshed, {p['resolved']:,} resolved; "
            f"queries per organization {min(queries)}–{max(queries)}; statuses {sorted(set(p['status']))}"
        )
        print("         phases: " + ", ".join(f"{k} {v:.2f} s" for k, v in p["phases"].items()))
    rescan, first = r["rescan"]["seconds"], r["first"]["seconds"]
    print(f"  budget rescan ≤ 3× the aggregate pass: {rescan / r['baseline_s']:.2f}×")
    print(f"  budget first scan ≤ 2× the rescan: {first / rescan:.2f}×")
    print(f"  peak memory of the scanning process: {r['peak_mb']:.0f} MB (budget < 500 MB)")


if __name__ == "__main__":
    main()
