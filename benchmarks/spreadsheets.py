"""Spreadsheets in: the CSV bulk path against the JSON path and raw `bulk_create`, and a
100,000-row XLSX through the admin import's code path (time and peak memory).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cxgov_bench .venv/bin/python benchmarks/spreadsheets.py

Without DATABASE_URL it migrates a fresh SQLite file in a temporary directory. It creates
its own organization, program, 100 metrics and an office API key, and prints the load
average with its figures (SPEC §7: budgets are ratios against a baseline of the same run).

- Ingest, 10,000 new measurements, median of --rounds: `POST measurements/bulk/` with a
  `text/csv` body and with a JSON body (DRF's test client in this process: request parsing,
  validation, `measurements_upsert` with its history rows, response; no network), and a
  raw `Measurement.objects.bulk_create` of the same rows (no validation, no history).
- Admin import, 100,000 rows: an XLSX written by openpyxl, then what the admin runs on
  upload (read the file: `bound_formats`, plan: `MeasurementResource.import_data(dry_run=
  True)`) and on confirm (read again, plan again, write through `measurements_upsert`).
  Time of each step and the process's peak resident memory (ru_maxrss), and how much
  the import added to it.
"""

import argparse
import datetime as dt
import io
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxgov.settings")
if "DATABASE_URL" not in os.environ:
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"

ITEMS = 10_000
IMPORT_ROWS = 100_000


def rows_for(metric_ids: list[int], start: dt.date, count: int) -> list[tuple[int, dt.date, str]]:
    per_metric = count // len(metric_ids)
    return [
        (metric_id, start + dt.timedelta(days=day), f"{(day * 7 + metric_id) % 1000}.25")
        for metric_id in metric_ids
        for day in range(per_metric)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--import-rows", type=int, default=IMPORT_ROWS)
    parser.add_argument("--skip-ingest", action="store_true", help="only the 100,000-row import")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from openpyxl import Workbook
    from rest_framework.test import APIClient

    from metrics.models import Measurement
    from programs.models import Membership
    from programs.services import api_key_create
    from reports.spreadsheets.imports import bound_formats
    from reports.spreadsheets.measurements import MeasurementResource
    from tests.factories import MetricFactory, OrganizationFactory, ProgramFactory, UserFactory

    settings.ALLOWED_HOSTS = ["*"]
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024
    call_command("migrate", verbosity=0)
    organization = OrganizationFactory(name="Spreadsheet bench")
    program = ProgramFactory(organization=organization)
    metric_ids = [MetricFactory(program=program).pk for _ in range(100)]
    _, raw_key = api_key_create(organization=organization, name="bench", role="office")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    print(f"database {connection.vendor}; load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")

    # --- 10,000 rows: CSV, JSON, raw bulk_create --------------------------------------------
    timings: dict[str, list[float]] = {"csv": [], "json": [], "bulk_create": []}
    if args.skip_ingest:
        args.rounds = 0
    start = dt.date(2100, 1, 1)
    paths = ["csv", "json", "bulk_create"]
    for round_ in range(args.rounds):
        # Each path goes first in turn: the table grows as the run goes on.
        for path in paths[round_ % 3 :] + paths[: round_ % 3]:
            start += dt.timedelta(days=400)  # fresh periods: every row is a create in each path
            rows = rows_for(metric_ids, start, ITEMS)
            if path == "csv":
                body = "metric,period_end,value,source\n" + "".join(f"{m},{d},{v},bench\n" for m, d, v in rows)
                t0 = time.perf_counter()
                response = client.post("/api/v1/measurements/bulk/", body.encode(), content_type="text/csv")
            elif path == "json":
                items = [{"metric": m, "period_end": d.isoformat(), "value": v, "source": "bench"} for m, d, v in rows]
                body = json.dumps(items)
                t0 = time.perf_counter()
                response = client.post("/api/v1/measurements/bulk/", body, content_type="application/json")
            else:
                t0 = time.perf_counter()
                Measurement.objects.bulk_create(
                    Measurement(metric_id=m, organization=organization, period_end=d, value=v, source="bench")
                    for m, d, v in rows
                )
                response = None
            elapsed = time.perf_counter() - t0
            if response is not None:
                assert response.status_code == 200 and response.json()["created"] == ITEMS, response.content[:300]
            timings[path].append(elapsed)
    if args.rounds:
        med = {path: statistics.median(values) for path, values in timings.items()}
        print(f"\n10,000 new measurements, median of {args.rounds} rounds:")
        for path, seconds in med.items():
            print(f"  {path:12s} {seconds * 1000:8.0f} ms  {ITEMS / seconds:9,.0f} rows/s")
        print(
            f"  time ratios: csv/json {med['csv'] / med['json']:.2f}, "
            f"csv/bulk_create {med['csv'] / med['bulk_create']:.2f}, "
            f"json/bulk_create {med['json'] / med['bulk_create']:.2f}"
        )

    # --- 100,000 rows through the admin import's code path -----------------------------------
    # The import goes to fresh metrics of another program (deleting the bulk rows would write
    # a history row each).
    program = ProgramFactory(organization=organization)
    metric_ids = [MetricFactory(program=program).pk for _ in range(100)]
    count = args.import_rows
    rows = rows_for(metric_ids, dt.date(1990, 1, 1), count)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Measurements")
    sheet.append(["metric", "period_end", "value", "source"])
    for m, d, v in rows:
        sheet.append([m, d, float(v), "bench"])
    buffer = io.BytesIO()
    t0 = time.perf_counter()
    book.save(buffer)
    raw = buffer.getvalue()
    print(f"\n{count:,}-row XLSX: {len(raw) / 1e6:.1f} MB, written in {time.perf_counter() - t0:.1f} s")
    user = UserFactory()
    Membership.objects.create(user=user, organization=organization, role="office")
    xlsx_format = bound_formats(MeasurementResource)[1]()

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    steps = {}
    t0 = time.perf_counter()
    dataset = xlsx_format.create_dataset(raw)
    steps["read"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    preview = MeasurementResource().import_data(dataset, dry_run=True, user=user)
    steps["preview (plan)"] = time.perf_counter() - t0
    assert preview.totals["new"] == count and not preview.has_validation_errors()
    t0 = time.perf_counter()
    confirmed = MeasurementResource().import_data(xlsx_format.create_dataset(raw), dry_run=False, user=user)
    steps["confirm (read, plan, write)"] = time.perf_counter() - t0
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert confirmed.totals["new"] == count
    assert Measurement.objects.filter(metric__program=program).count() == count
    for step, seconds in steps.items():
        print(f"  {step:28s} {seconds:7.1f} s")
    print(
        f"  total {sum(steps.values()):.1f} s; peak RSS {rss_after / 1024:.0f} MB "
        f"(+{(rss_after - rss_before) / 1024:.0f} MB over the process's peak before the import)"
    )
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")


if __name__ == "__main__":
    main()
