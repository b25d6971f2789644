"""Render time and query count of the portfolio board pack (SPEC §7: under 5 s, constant queries).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cxgov_bench \\
        .venv/bin/python benchmarks/board_pack.py --seed --scale 10

`--seed` runs `seed_demo --scale N` and `run_governance_scan` first (on an empty
database). Measured on the organization with the most programs (its live programs are in
the pack): building the pack from the selectors, rendering its HTML, and laying out the
PDF with WeasyPrint, each timed over --repeat runs after one warm-up; the number of SQL
queries of one pack; and, to show the count does not grow with the data, the queries of
the pack of the organization with the fewest programs. The dashboard's portfolio page of
the same organization is timed as the baseline. The load average is printed with the figures.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxgov.settings")


def _median_p95(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", action="store_true", help="seed_demo --scale N and scan first")
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from dashboard.selectors import portfolio_summary
    from programs.models import Organization
    from reports.board_pack import data, render

    if args.seed:
        t0 = time.perf_counter()
        call_command("migrate", verbosity=0)
        call_command("seed_demo", scale=args.scale)
        call_command("run_governance_scan")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        print(f"seeded scale {args.scale} and scanned in {time.perf_counter() - t0:.0f} s")

    today = timezone.localdate()
    by_size = Organization.objects.annotate(n=Count("programs")).filter(n__gt=0).order_by("-n", "id")
    biggest, smallest = by_size.first(), by_size.last()

    cpu: list[float] = []

    def one(organization) -> tuple[float, float, float, int, int, int]:
        c0 = time.process_time()
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            pack = data.portfolio_board_pack(organization=organization, as_of=today)
            t1 = time.perf_counter()
            html = render.render_html(pack)
            t2 = time.perf_counter()
        pdf = render.render_pdf(pack)
        t3 = time.perf_counter()
        cpu.append(time.process_time() - c0)
        return t1 - t0, t2 - t1, t3 - t2, len(ctx.captured_queries), len(pack.programs), len(pdf) + 0 * len(html)

    load = os.getloadavg()
    one(biggest)  # warm-up: connection, templates, fonts
    runs = [one(biggest) for _ in range(args.repeat)]
    small = one(smallest)
    totals = [r[0] + r[1] + r[2] for r in runs]
    median, p95 = _median_p95(totals)

    start = time.perf_counter()
    for _ in range(args.repeat):
        portfolio_summary(organization_ids=[biggest.id], as_of=today)
    baseline = (time.perf_counter() - start) / args.repeat

    print(f"database: {connection.vendor}; load average before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"organization {biggest.name!r}: {biggest.n} programs, {runs[0][4]} live in the pack")
    print(f"  build (selectors) median {statistics.median(r[0] for r in runs) * 1000:.0f} ms")
    print(f"  HTML              median {statistics.median(r[1] for r in runs) * 1000:.0f} ms")
    print(f"  PDF (WeasyPrint)  median {statistics.median(r[2] for r in runs) * 1000:.0f} ms")
    print(
        f"  total             median {median:.2f} s, p95 {p95:.2f} s "
        f"(budget 5 s: {'ok' if p95 < 5 else 'OVER BUDGET'}), {runs[0][5] / 1024:.0f} KiB"
    )
    # On a shared machine the wall time grows with the load; the process's own CPU time does not.
    print(f"  CPU time of this process: median {statistics.median(cpu[1 : args.repeat + 1]):.2f} s")
    print(f"  queries {runs[0][3]}; the pack of {smallest.name!r} ({small[4]} live programs): {small[3]} queries")
    print(f"baseline: the dashboard's portfolio selector for the same organization: {baseline * 1000:.0f} ms")
    print(f"ratio total / baseline: {median / baseline:.0f}×")
    after = os.getloadavg()
    print(f"load average after {after[0]:.2f} {after[1]:.2f} {after[2]:.2f}")


if __name__ == "__main__":
    main()
