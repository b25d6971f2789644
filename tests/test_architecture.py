"""The layout's rules that import-linter cannot see."""

import re
from pathlib import Path

from cxgov.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent
APPS = ["cxgov", "programs", "metrics", "accountability", "notifications", "dashboard", "reports", "demo"]
MAX_MODULE_LINES = 500


def product_modules():
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts:
                yield path


def test_every_task_queued_by_name_is_a_registered_task():
    """Services queue tasks by name (cxgov/queue.py); a typo would only fail in production."""
    celery_app.loader.import_default_modules()
    names = set()
    for path in product_modules():
        names |= set(re.findall(r'_TASK = "([\w.]+)"', path.read_text()))
    assert names, "no task constant found: the pattern no longer matches the code"
    missing = sorted(name for name in names if name not in celery_app.tasks)
    assert missing == []


def test_no_module_over_500_lines():
    long = {
        str(path.relative_to(ROOT)): n
        for path in product_modules()
        if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}
