"""API throughput and latency, and bulk ingest, against baselines measured in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cxgov_bench \\
        .venv/bin/python benchmarks/api.py --seed --scale 10

`--seed` migrates, runs `seed_demo --scale N` and `run_governance_scan` (on an empty
database) and VACUUM ANALYZEs; without it the script measures what the database holds.

What it prints (issue 16's budgets; docs/performance.md says why each baseline):
- Lists: gunicorn with 2 sync workers on 127.0.0.1 serves a page of 100 of every
  organization-scoped list of the largest organization through the real API (API key,
  scoping, filters, rendering, pagination count), and the same rows with every column
  the API renders from a plain `.values()` + `JsonResponse` view (benchmarks/api_urls.py).
  For each: requests/s and p50/p95 latency over --requests requests from --concurrency
  client threads, after a warm-up; the budget is API ≥ 0.7× the baseline's requests/s
  with p95 < 30 ms.
- Ingest: 10,000 new measurements posted to `measurements/bulk/` as JSON and as CSV over
  HTTP (end to end: request, parse, validation, upsert, history rows, commit, response)
  against a PostgreSQL COPY of the same rows and their history rows in this process;
  median of --rounds. The budget is HTTP ≥ 0.8× the COPY. Also shown: the same bulk as
  an update (every value changed) and as a no-op resend.
- The load average before and after.

Load stays on the loopback interface, every loop is bounded, and the server is stopped
at the end. The machine is shared and has 2 cores: the client threads compete with the
server for CPU, which makes the ratios conservative.
"""

import argparse
import datetime as dt
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxgov.settings")

BULK_ITEMS = 10_000
FAR_FUTURE = dt.date(2100, 1, 1)  # periods no seed or scan ever writes


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def request(port: int, method: str, path: str, headers: dict, body: bytes | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def load(port: int, path: str, headers: dict, total: int, concurrency: int) -> dict:
    """`total` GETs from `concurrency` threads; requests/s and latency percentiles (ms)."""
    for _ in range(10):  # warm-up: connections, caches
        status, _ = request(port, "GET", path, headers)
        assert status == 200, (path, status)
    latencies: list[float] = []
    lock = threading.Lock()
    per_thread = total // concurrency

    def worker() -> None:
        mine = []
        for _ in range(per_thread):
            start = time.perf_counter()
            status, _ = request(port, "GET", path, headers)
            mine.append(time.perf_counter() - start)
            assert status == 200, (path, status)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return {
        "rps": len(latencies) / elapsed,
        "p50": percentile(latencies, 0.50) * 1000,
        "p95": percentile(latencies, 0.95) * 1000,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    env = os.environ.copy()
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "benchmarks.api_server",
            "DEBUG": "0",
            "SECRET_KEY": "benchmark-only-" + "x" * 60,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            "CONN_MAX_AGE": "60",
            # Keep the key throttle in the path, at a rate the benchmark cannot reach.
            "CXGOV_API_KEY_THROTTLE": "100000000/minute",
            "LOG_LEVEL": "WARNING",
        }
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--chdir",
            str(ROOT),
            "--log-level",
            "warning",
            "cxgov.wsgi:application",
        ],
        env=env,
        cwd=ROOT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            # A baseline URL answers only from our own server, not from anything else on the port.
            if request(port, "GET", "/baseline/0/flags/", {})[0] == 200:
                return proc
        except OSError:
            pass
        if proc.poll() is not None:
            raise RuntimeError("gunicorn exited")
        time.sleep(0.3)
    proc.terminate()
    raise RuntimeError("gunicorn did not answer /healthz within 60 s")


LISTS = (
    "flags",
    "metrics",
    "measurements",
    "programs",
    "people",
    "business-units",
    "stages",
    "initiatives",
    "progress-updates",
    "commitment-assessments",
    "exemptions",
    "forums",
    "sessions",
    "attendance",
    "agenda-items",
    "action-items",
    "escalations",
)
RATIO_BUDGET, P95_BUDGET_MS = 0.7, 30


def bench_lists(
    port: int, organization_id: int, raw_key: str, total: int, concurrency: int, rounds: int, names: list[str]
) -> None:
    auth = {"Authorization": f"Bearer {raw_key}"}
    print(f"\nLists: a page of 100, {total} requests × {rounds} rounds, {concurrency} client threads, gunicorn -w 2")
    print(f"  budget: API ≥ {RATIO_BUDGET}× the all-columns baseline's requests/s, API p95 < {P95_BUDGET_MS} ms")
    print(f"{'endpoint':<24}{'API req/s':>10}{'base req/s':>11}{'ratio':>7}{'API p50':>9}{'API p95':>9}{'base p95':>9}")
    for name in names:
        api_runs, base_runs = [], []
        for _ in range(rounds):  # alternate, so a noisy moment hits both sides
            api_runs.append(load(port, f"/api/v1/{name}/?page_size=100", auth, total, concurrency))
            base_runs.append(load(port, f"/baseline/{organization_id}/{name}/", {}, total, concurrency))
        api = {k: statistics.median(r[k] for r in api_runs) for k in api_runs[0]}
        base = {k: statistics.median(r[k] for r in base_runs) for k in base_runs[0]}
        ratio = api["rps"] / base["rps"]
        verdict = "ok" if ratio >= RATIO_BUDGET and api["p95"] < P95_BUDGET_MS else "OVER BUDGET"
        print(
            f"{name:<24}{api['rps']:>10.0f}{base['rps']:>11.0f}{ratio:>7.2f}{api['p50']:>8.1f}ms"
            f"{api['p95']:>7.1f}ms{base['p95']:>7.1f}ms  {verdict}"
        )


def bulk_rows(metric_ids: list[int], offset_days: int) -> list[dict]:
    per_metric = BULK_ITEMS // len(metric_ids)
    return [
        {
            "metric": metric_id,
            "period_end": (FAR_FUTURE + dt.timedelta(days=offset_days + i)).isoformat(),
            "value": f"{(metric_id * 7 + i) % 1000}.25",
            "source": "benchmark",
        }
        for metric_id in metric_ids
        for i in range(per_metric)
    ]


def clean_far_future() -> None:
    """Remove the benchmark's rows, their history and change-log entries, in plain SQL: the
    ORM's delete would write a history row and a change-log entry per deleted row."""
    from django.db import connection, transaction

    from metrics.models import Measurement
    from programs.changes import Change

    history = Measurement.history.model._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {Change._meta.db_table} WHERE model = %s AND history_id IN "
            f"(SELECT history_id FROM {history} WHERE period_end >= %s)",
            [Measurement._meta.label_lower, FAR_FUTURE],
        )
        cursor.execute(f"DELETE FROM {history} WHERE period_end >= %s", [FAR_FUTURE])
        cursor.execute(f"DELETE FROM {Measurement._meta.db_table} WHERE period_end >= %s", [FAR_FUTURE])


def copy_baseline(items: list[dict], organization_id: int) -> None:
    """The same rows and their history rows written with PostgreSQL COPY, in one transaction:
    the fastest way PostgreSQL takes rows in, with the evidence the endpoint must keep."""
    from django.db import connection, transaction
    from django.utils import timezone

    from metrics.models import Measurement

    table, history = Measurement._meta.db_table, Measurement.history.model._meta.db_table
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, len(items)]
        )
        ids = [row[0] for row in cursor.fetchall()]
        columns = "id, metric_id, period_end, value, source, organization_id, recorded_at"
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for pk, item in zip(ids, items, strict=True):
                copy.write_row(
                    (pk, item["metric"], item["period_end"], item["value"], item["source"], organization_id, now)
                )
        with cursor.copy(
            f"COPY {history} ({columns}, history_date, history_type, history_change_reason) FROM STDIN"
        ) as copy:
            for pk, item in zip(ids, items, strict=True):
                row = (pk, item["metric"], item["period_end"], item["value"], item["source"], organization_id, now)
                copy.write_row((*row, now, "+", "bulk"))


def as_csv(items: list[dict]) -> bytes:
    lines = ["metric,period_end,value,source"]
    lines += [f"{i['metric']},{i['period_end']},{i['value']},{i['source']}" for i in items]
    return ("\n".join(lines) + "\n").encode()


INGEST_BUDGET = 0.8


def bench_bulk(port: int, organization_id: int, metric_ids: list[int], raw_key: str, rounds: int) -> None:
    auth = {"Authorization": f"Bearer {raw_key}"}
    json_headers = {**auth, "Content-Type": "application/json"}
    csv_headers = {**auth, "Content-Type": "text/csv"}
    items = bulk_rows(metric_ids, 0)
    body, csv_body = json.dumps(items).encode(), as_csv(items)
    changed = json.dumps([{**item, "value": "1.5"} for item in items]).encode()
    copy_times, json_times, csv_times, update_times, noop_times = [], [], [], [], []
    clean_far_future()
    for _ in range(rounds):
        start = time.perf_counter()
        copy_baseline(items, organization_id)
        copy_times.append(time.perf_counter() - start)
        clean_far_future()

        for times, payload, headers in ((csv_times, csv_body, csv_headers), (json_times, body, json_headers)):
            start = time.perf_counter()
            status, answer = request(port, "POST", "/api/v1/measurements/bulk/", headers, payload)
            times.append(time.perf_counter() - start)
            assert status == 200 and json.loads(answer)["created"] == BULK_ITEMS, (status, answer[:300])
            if times is csv_times:
                clean_far_future()

        start = time.perf_counter()
        status, answer = request(port, "POST", "/api/v1/measurements/bulk/", json_headers, changed)
        update_times.append(time.perf_counter() - start)
        assert json.loads(answer)["updated"] == BULK_ITEMS, answer[:300]

        start = time.perf_counter()
        status, answer = request(port, "POST", "/api/v1/measurements/bulk/", json_headers, changed)
        noop_times.append(time.perf_counter() - start)
        assert json.loads(answer)["unchanged"] == BULK_ITEMS, answer[:300]
        clean_far_future()

    base = statistics.median(copy_times)
    print(f"\nIngest: {BULK_ITEMS:,} new measurements over {len(metric_ids)} metrics, median of {rounds} rounds")
    print(f"  budget: POST ≥ {INGEST_BUDGET}× COPY of the rows and their history rows")
    print(f"  COPY rows + history (in process)   {base * 1000:8.0f} ms  {BULK_ITEMS / base:9,.0f} rows/s")
    for label, times in (("POST measurements/bulk/ JSON", json_times), ("POST measurements/bulk/ CSV ", csv_times)):
        took = statistics.median(times)
        verdict = "ok" if base / took >= INGEST_BUDGET else "OVER BUDGET"
        print(
            f"  {label} (HTTP) {took * 1000:6.0f} ms  {BULK_ITEMS / took:9,.0f} rows/s  "
            f"ratio {base / took:.2f}  {verdict}"
        )
    print("    (request, parse, validation, rows + history rows, one transaction, over the loopback)")
    print(f"  same bulk, every value changed     {statistics.median(update_times) * 1000:8.0f} ms")
    print(f"  same bulk again, nothing to do     {statistics.median(noop_times) * 1000:8.0f} ms")
    print(f"  request body                       {len(body) / 1024:8.0f} KiB JSON, {len(csv_body) / 1024:.0f} KiB CSV")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", action="store_true", help="seed_demo --scale N and scan first")
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--requests", type=int, default=200, help="requests per endpoint and round")
    parser.add_argument("--concurrency", type=int, default=2, help="client threads (2 = one per worker)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--only", choices=["lists", "ingest"], help="measure one part (default: both)")
    parser.add_argument(
        "--lists", default=",".join(LISTS), help="comma-separated endpoints to measure (default: all of them)"
    )
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count

    from accountability.models import Flag
    from metrics.models import Measurement, Metric
    from programs.models import ApiKey, Organization
    from programs.services import api_key_create

    if connection.vendor != "postgresql":
        print("warning: the budgets are defined on PostgreSQL; this database is", connection.vendor)
    if args.seed:
        t0 = time.perf_counter()
        call_command("migrate", verbosity=0)
        call_command("seed_demo", scale=args.scale)
        call_command("run_governance_scan")
        print(f"seeded scale {args.scale} and scanned in {time.perf_counter() - t0:.0f} s")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

    organization = Organization.objects.annotate(n=Count("programs__metrics")).order_by("-n").first()
    if organization is None:
        sys.exit("The database is empty: run with --seed.")
    metric_ids = list(
        Metric.objects.filter(program__organization=organization).order_by("id").values_list("id", flat=True)[:100]
    )
    print(
        f"organization {organization.slug}: {Flag.objects.filter(organization=organization).count():,} flags, "
        f"{Metric.objects.filter(program__organization=organization).count():,} metrics, "
        f"{Measurement.objects.filter(organization=organization).count():,} measurements"
    )
    key, raw_key = api_key_create(organization=organization, name="api benchmark", role="office")
    args.port = args.port or free_port()
    server = start_server(args.port)
    print(f"load average (1 min) before: {os.getloadavg()[0]:.2f}")
    try:
        if args.only != "ingest":
            names = [name for name in args.lists.split(",") if name]
            unknown = sorted(set(names) - set(LISTS))
            if unknown:
                sys.exit(f"unknown list(s): {', '.join(unknown)}; known: {', '.join(LISTS)}")
            bench_lists(args.port, organization.pk, raw_key, args.requests, args.concurrency, args.rounds, names)
        if args.only != "lists":
            bench_bulk(args.port, organization.pk, metric_ids, raw_key, args.rounds)
        print(f"\nload average (1 min) after: {os.getloadavg()[0]:.2f}")
    finally:
        server.terminate()
        server.wait(timeout=30)
        ApiKey.objects.filter(pk=key.pk).delete()
        clean_far_future()


if __name__ == "__main__":
    main()
