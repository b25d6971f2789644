"""The large-scale scan budget, in a real Celery worker: the daily rescan of every
organization at `seed_demo --scale 50` (about 1,000 programs and 2.5 million
measurements) in under 15 s, with the worker's peak memory under 500 MB.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cxgov_bench50 REDIS_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python benchmarks/scan_worker.py --seed --scale 50

`--seed` migrates, flushes and seeds the database (a throwaway one). Then, for the first
scan (every flag raised) and for the rescan (the daily steady state), the script starts
a fresh `celery worker --pool solo` (one process: its peak resident memory, VmHWM, is the
scan's), queues the day's fan-out exactly as beat does (`scan_queue_all`), waits for
every ScanRun to finish and prints the wall time from queueing to the last run's end,
the sum of the runs' own durations, their statuses, and the worker's peak memory. The
flag e-mails and webhooks the first scan queues run in the same worker (EMAIL_URL is a
dummy backend here). The load average is printed before and after.
"""

import argparse
import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxgov.settings")
os.environ.setdefault("EMAIL_URL", "dummymail://")

RESCAN_BUDGET_S, MEMORY_BUDGET_MB = 15, 500


def seed(scale: int) -> None:
    manage = [sys.executable, str(ROOT / "manage.py")]
    for command in (["migrate", "--noinput", "-v0"], ["flush", "--noinput"], ["seed_demo", "--scale", str(scale)]):
        subprocess.run([*manage, *command], check=True, cwd=ROOT)


def start_worker() -> subprocess.Popen:
    from cxgov.celery import app

    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "cxgov", "worker", "--pool", "solo", "-l", "warning", "-n", "bench@%h"],
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if app.control.ping(timeout=1):
            return worker
        if worker.poll() is not None:
            raise RuntimeError("the worker exited")
    worker.terminate()
    raise RuntimeError("the worker did not answer within 60 s")


def peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def one_round(label: str, as_of: dt.date) -> dict:
    from django.db import transaction
    from django.db.models import F, Max, Min, Sum

    from accountability.choices import ScanStatus
    from accountability.models import ScanRun
    from accountability.scans import scan_queue_all

    worker = start_worker()
    try:
        started = time.perf_counter()
        with transaction.atomic():  # the tasks go out when this commits, as from beat
            runs = scan_queue_all(as_of=as_of)
        ids = [run.pk for run in runs]
        deadline = time.monotonic() + 1800
        while ScanRun.objects.filter(pk__in=ids, status__in=[ScanStatus.QUEUED, ScanStatus.RUNNING]).exists():
            if time.monotonic() > deadline or worker.poll() is not None:
                raise RuntimeError(f"{label}: the scans did not finish")
            time.sleep(0.2)
        wall = time.perf_counter() - started
        memory = peak_mb(worker.pid)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    done = ScanRun.objects.filter(pk__in=ids)
    totals = done.aggregate(
        first=Min("started_at"), last=Max("finished_at"), own=Sum(F("finished_at") - F("started_at"))
    )
    return {
        "label": label,
        "organizations": len(ids),
        "wall_s": wall,
        "scans_s": (totals["last"] - totals["first"]).total_seconds(),
        "own_s": totals["own"].total_seconds(),
        "statuses": sorted(set(done.values_list("status", flat=True))),
        "raised": sum(done.values_list("raised", flat=True)),
        "refreshed": sum(done.values_list("refreshed", flat=True)),
        "peak_mb": memory,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", action="store_true", help="migrate, flush and seed_demo --scale N first")
    parser.add_argument("--scale", type=int, default=50)
    parser.add_argument("--as-of", default=None, help="scan date (default: today)")
    args = parser.parse_args()
    if "postgres" not in os.environ.get("DATABASE_URL", "") or not os.environ.get("REDIS_URL"):
        sys.exit("Set DATABASE_URL (a PostgreSQL database you can wipe) and REDIS_URL: the budget is a real worker's.")
    if args.seed:
        started = time.perf_counter()
        seed(args.scale)
        print(f"seeded scale {args.scale} in {time.perf_counter() - started:.0f} s", flush=True)

    import django

    django.setup()
    from django.db import connection

    from accountability.models import Flag, RiskAssessment, ScanRun
    from metrics.models import Measurement
    from notifications.models import Notification, WebhookDelivery
    from programs.models import Organization, Program

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    as_of = dt.date.fromisoformat(args.as_of) if args.as_of else dt.date.today()
    # Start from no scan output, so the first round raises every flag (a throwaway database).
    for model in (WebhookDelivery, Notification, Flag, RiskAssessment, ScanRun):
        model.objects.all().delete()
    print(
        f"{Organization.objects.count()} organizations, {Program.objects.count():,} programs, "
        f"{Measurement.objects.count():,} measurements; scan date {as_of}"
    )
    print(f"load average (1 min) before: {os.getloadavg()[0]:.2f}")
    for label in ("first scan", "rescan"):
        r = one_round(label, as_of)
        print(
            f"  {r['label']:>10}: {r['organizations']} organizations in {r['wall_s']:.1f} s from queueing to the last "
            f"run's end (runs {r['scans_s']:.1f} s, their own time {r['own_s']:.1f} s); {r['raised']:,} raised, "
            f"{r['refreshed']:,} refreshed; statuses {r['statuses']}; worker peak memory {r['peak_mb']:.0f} MB",
            flush=True,
        )
        if label == "rescan":
            time_ok = "ok" if r["wall_s"] < RESCAN_BUDGET_S else "OVER BUDGET"
            memory_ok = "ok" if r["peak_mb"] < MEMORY_BUDGET_MB else "OVER BUDGET"
            print(f"  budget rescan < {RESCAN_BUDGET_S} s: {time_ok}; peak memory < {MEMORY_BUDGET_MB} MB: {memory_ok}")
    print(f"load average (1 min) after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
