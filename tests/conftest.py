"""Shared fixtures.

Services: the suite runs on SQLite with eager Celery by default. With DATABASE_URL and
REDIS_URL set it runs on PostgreSQL, and tests marked `worker` push tasks through a real
Celery worker on Redis. CXGOV_REQUIRE_SERVICES=1 (CI) turns a missing service into a
failure instead of a skip.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from cxgov.celery import app as celery_app

from .factories import MembershipFactory, OrganizationFactory, UserFactory

REQUIRE_SERVICES = os.environ.get("CXGOV_REQUIRE_SERVICES") == "1"
ROOT = Path(__file__).resolve().parent.parent


def pytest_sessionstart(session):
    if REQUIRE_SERVICES:
        engine = settings.DATABASES["default"]["ENGINE"]
        if "postgresql" not in engine:
            raise pytest.UsageError("CXGOV_REQUIRE_SERVICES=1 but DATABASE_URL is not PostgreSQL.")
        if not settings.REDIS_URL:
            raise pytest.UsageError("CXGOV_REQUIRE_SERVICES=1 but REDIS_URL is not set.")
        import redis

        redis.Redis.from_url(settings.REDIS_URL).ping()


def missing_service(reason: str):
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _eager_celery_by_default(settings):
    """Tasks run in-process unless a test asks for the real worker."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _locmem_email(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: throttles count per address (127.0.0.1 for all)."""
    from django.core.cache import cache

    cache.clear()


def _database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    if "postgresql" not in db["ENGINE"]:
        missing_service("a real worker needs PostgreSQL (set DATABASE_URL)")
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def start_worker(extra_env: dict | None = None, concurrency: int = 2) -> subprocess.Popen:
    """Start `celery worker` against the test database and REDIS_URL; waits until it answers."""
    if not settings.REDIS_URL:
        missing_service("a real worker needs Redis (set REDIS_URL)")
    env = os.environ.copy()
    env.update(
        {
            "DATABASE_URL": _database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "CXGOV_WEBHOOK_ALLOW_PRIVATE": "1",
            "EMAIL_URL": "consolemail://",
        }
    )
    env.update(extra_env or {})
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "cxgov",
            "worker",
            "-l",
            "info",
            "-P",
            "prefork",
            "-c",
            str(concurrency),
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"test-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("celery worker exited:\n" + (proc.stdout.read() if proc.stdout else ""))
        replies = celery_app.control.ping(timeout=1.0)
        if any(f"test-{os.getpid()}@" in name for reply in replies for name in reply):
            return proc
    proc.kill()
    raise RuntimeError("celery worker did not answer a ping within 60 s")


def stop_worker(proc: subprocess.Popen) -> str:
    proc.terminate()
    try:
        out, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out or ""


@pytest.fixture
def celery_worker_process(transactional_db):
    """A real Celery worker on Redis, with the test process sending through the broker."""
    import redis

    if not settings.REDIS_URL:
        missing_service("a real worker needs Redis (set REDIS_URL)")
    # Start from an empty queue (before the worker binds its queues): a task left by an
    # earlier test must not run here.
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    proc = start_worker()
    celery_app.conf.task_always_eager = False
    try:
        yield proc
    finally:
        celery_app.conf.task_always_eager = True
        output = stop_worker(proc)
        print(output[-5000:])


@pytest.fixture
def organization(db):
    return OrganizationFactory()


@pytest.fixture
def other_organization(db):
    return OrganizationFactory()


def _member(organization, role):
    user = UserFactory()
    MembershipFactory(user=user, organization=organization, role=role)
    return user


@pytest.fixture
def office_user(organization):
    return _member(organization, "office")


@pytest.fixture
def executive_user(organization):
    return _member(organization, "executive")


@pytest.fixture
def integration_user(organization):
    return _member(organization, "integration")
