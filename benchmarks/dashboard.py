"""Server time and query count of the dashboard pages on a seeded database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cxgov_bench \\
        .venv/bin/python benchmarks/dashboard.py --seed --scale 10

`--seed` runs `seed_demo --scale N` and `run_governance_scan` first (on an empty
database); without it the script measures whatever the database holds. The requests go
through Django's test client in this process (middleware, view, selectors, templates:
the whole server side, no network), as a superuser so every organization's programs are
on the portfolio. Figures printed: median and p95 wall time over --repeat requests,
after one warm-up, and the number of SQL queries of one request. The program page is
measured on the program with the most metrics and on the one with the fewest, to show
that its query count does not depend on the program's size.

For scale: a plain `.values()` of the same programs is timed as a baseline, so the
figures can be compared across machines as a ratio.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
P95_BUDGET_MS = 100
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxgov.settings")


def _timed(client, url: str, repeat: int) -> tuple[float, float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url)  # warm-up (connection, template cache)
    assert response.status_code == 200, (url, response.status_code)
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    queries = len(ctx.captured_queries)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - start)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return statistics.median(times) * 1000, p95 * 1000, queries, len(response.content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", action="store_true", help="seed_demo --scale N and scan first")
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.test import Client

    from accountability.models import Flag, ForumSession, RiskAssessment
    from metrics.models import Measurement, Metric
    from programs.models import Initiative, Membership, Organization, Program

    if args.seed:
        t0 = time.perf_counter()
        call_command("migrate", verbosity=0)
        call_command("seed_demo", scale=args.scale)
        call_command("run_governance_scan")
        if connection.vendor == "postgresql":
            # Fresh bulk loads have no planner statistics until autovacuum gets to them.
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        print(f"seeded scale {args.scale} and scanned in {time.perf_counter() - t0:.0f} s")

    counts = {
        "programs": Program.objects.count(),
        "metrics": Metric.objects.count(),
        "measurements": Measurement.objects.count(),
        "initiatives": Initiative.objects.count(),
        "forum sessions": ForumSession.objects.count(),
        "live flags": Flag.objects.live().count(),
        "risk assessments": RiskAssessment.objects.count(),
    }
    print(f"database: {connection.vendor}; " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))

    superuser, _ = get_user_model().objects.get_or_create(
        username="dashboard-benchmark", defaults={"is_superuser": True, "is_staff": True}
    )
    everything = Client()
    everything.force_login(superuser)
    # An executive of the largest organization: what a real CEO opens.
    biggest_org = Organization.objects.annotate(n=Count("programs")).order_by("-n", "id").values_list("id", "n").first()
    executive, _ = get_user_model().objects.get_or_create(username="dashboard-benchmark-exec")
    Membership.objects.get_or_create(user=executive, organization_id=biggest_org[0], defaults={"role": "executive"})
    ceo = Client()
    ceo.force_login(executive)
    by_size = (
        Program.objects.filter(organization_id=biggest_org[0])
        .annotate(n=Count("metrics"))
        .order_by("-n", "id")
        .values_list("id", "n")
    )
    biggest, smallest = by_size.first(), by_size.last()

    start = time.perf_counter()
    for _ in range(args.repeat):
        list(Program.objects.values("id", "name", "status", "started_on"))
    baseline = (time.perf_counter() - start) / args.repeat * 1000

    rows = [
        (f"portfolio, all {counts['programs']} programs", everything, "/dashboard/"),
        (f"API, all {counts['programs']} programs", everything, "/api/v1/dashboard/"),
        (f"portfolio, one org ({biggest_org[1]} programs)", ceo, "/dashboard/"),
        (f"API, one org ({biggest_org[1]} programs)", ceo, "/api/v1/dashboard/"),
        (f"program page, {biggest[1]} metrics", ceo, f"/dashboard/programs/{biggest[0]}/"),
        (f"program page, {smallest[1]} metrics", ceo, f"/dashboard/programs/{smallest[0]}/"),
    ]
    budgeted = {"/dashboard/": ceo, f"/dashboard/programs/{biggest[0]}/": ceo}
    print(f"load average (1 min) before: {os.getloadavg()[0]:.2f}")
    print(f"baseline: plain .values() of {counts['programs']} programs: {baseline:.1f} ms")
    print(f"budget: an organization's portfolio and a program page of 100 metrics, p95 < {P95_BUDGET_MS} ms")
    print(f"{'page':<40}{'median ms':>11}{'p95 ms':>10}{'queries':>9}{'KiB':>8}{'× baseline':>12}")
    for label, client, url in rows:
        median, p95, queries, size = _timed(client, url, args.repeat)
        verdict = ""
        if budgeted.get(url) is client:
            verdict = "  ok" if p95 < P95_BUDGET_MS else "  OVER BUDGET"
        print(
            f"{label:<40}{median:>11.1f}{p95:>10.1f}{queries:>9}{size / 1024:>8.0f}{median / baseline:>12.0f}{verdict}"
        )
    print(f"load average (1 min) after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
