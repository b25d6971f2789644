"""Scan budget (SPEC section 7): time, queries and memory of the full governance scan.

For each scale it seeds `seed_demo --scale N` into a fresh PostgreSQL database, then, in a
fresh process (so peak memory is the scan's, not the seeding's), measures:

- the first scan of every organization (raises every flag) and a rescan (the daily
  steady state: refreshes only), wall time each;
- one plain aggregate pass over the same tables (Count/Max per initiative, progress
  update, metric, measurement, revision, session, attendance), as the baseline;
- the ratio scan / baseline, queries per organization (inside the scan, and in total
  with the after-commit events), and the process's peak RSS.

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
    """One plain aggregate over each table the detectors read; the baseline."""
    from django.db.models import Count, Max, Q

    from accountability.models import Attendance, ForumSession
    from metrics.models import Measurement, Metric, MetricRevision
    from programs.models import Initiative, ProgressUpdate

    passes = {
        "initiatives": Initiative.objects.values("program_id").annotate(n=Count("id"), due=Max("due_on")),
        "progress_updates": ProgressUpdate.objects.values("initiative_id").annotate(last=Max("reported_on")),
        "metrics": Metric.objects.values("program_id").annotate(n=Count("id"), target=Max("target")),
        "measurements": Measurement.objects.values("metric_id").annotate(n=Count("id"), last=Max("period_end")),
        "revisions": MetricRevision.objects.values("metric_id").annotate(n=Count("id"), last=Max("changed_at")),
        "sessions": ForumSession.objects.values("forum_id", "status").annotate(
            n=Count("id"), last=Max("scheduled_for")
        ),
        "attendance": Attendance.objects.values("session_id").annotate(
            n=Count("id"), present=Count("id", filter=Q(present=True))
        ),
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
        out = subprocess.run(
            [sys.executable, __file__, "--measure", "--as-of", as_of],
            env=env,
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            sys.exit(f"measuring scale {scale} failed:\n{out.stderr[-4000:]}")
        results[scale] = json.loads(out.stdout.strip().splitlines()[-1])
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
    print(f"\n== scale {scale}: {sizes}")
    print(f"  plain aggregate pass: {r['baseline_s']:.2f} s")
    for phase in ("first", "rescan"):
        p = r[phase]
        queries = p["queries"]
        print(
            f"  {phase:>6} scan: {p['seconds']:.2f} s = {p['seconds'] / r['baseline_s']:.1f}× the aggregate pass "
            f"(budget < 30 s and ≤ 5×); {p['raised']:,} raised, {p['refreshed']:,} refreshed, "
            f"{p['resolved']:,} resolved; queries per organization {min(queries)}–{max(queries)}; "
            f"statuses {sorted(set(p['status']))}"
        )
        print("         phases: " + ", ".join(f"{k} {v:.2f} s" for k, v in p["phases"].items()))
    print(f"  peak memory of the scanning process: {r['peak_mb']:.0f} MB (budget < 500 MB)")


if __name__ == "__main__":
    main()
