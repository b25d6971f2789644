"""The demo's spreadsheet to import: this month's values of Northwind's metrics, filled in.

The program office's monthly routine is a spreadsheet of new values; the demo ships one
(`seed_demo` writes it to `.demo-files/`, CSV and XLSX) for the admin's import
(Measurements → Import; README, "Spreadsheets"). The values are dated `today`, so they are
the latest on the dashboard once imported, and each moves its metric a quarter of the way
from its latest value toward its target: the import visibly improves health.
"""

import csv
import datetime as dt
from collections import Counter
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook

from metrics.models import Metric

COLUMNS = ["metric", "period_end", "value", "source"]
DEMO_FILES = Path(__file__).resolve().parent.parent / ".demo-files"


def example_rows(organization, today: dt.date) -> list[dict]:
    metrics = list(
        Metric.objects.filter(program__organization=organization, status="active")
        .with_latest()
        .order_by("program__name", "name")
    )
    names = Counter(metric.name for metric in metrics)
    rows = []
    for metric in metrics:
        latest = metric.latest_value
        if latest is None or metric.target is None:
            continue
        value = (latest + (metric.target - latest) / 4).quantize(Decimal("0.01"))
        rows.append(
            {
                "metric": metric.name if names[metric.name] == 1 else str(metric.pk),
                "period_end": today.isoformat(),
                "value": str(value),
                "source": "monthly office spreadsheet",
            }
        )
    return rows


def write_examples(organization, today: dt.date, directory: Path = DEMO_FILES) -> list[Path]:
    """`measurements-example.csv` and `.xlsx` in `directory`; returns their paths."""
    rows = example_rows(organization, today)
    directory.mkdir(parents=True, exist_ok=True)
    csv_path = directory / "measurements-example.csv"
    with csv_path.open("w", newline="", encoding="utf-8-sig") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    book = Workbook()
    sheet = book.active
    sheet.title = "Measurements"
    sheet.append(COLUMNS)
    for row in rows:
        sheet.append([row["metric"], dt.date.fromisoformat(row["period_end"]), float(row["value"]), row["source"]])
    for cell in sheet["B"][1:]:
        cell.number_format = "yyyy-mm-dd"
    xlsx_path = directory / "measurements-example.xlsx"
    book.save(xlsx_path)
    return [csv_path, xlsx_path]
