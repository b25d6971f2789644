"""The OpenAPI schema: valid, warning-free, served with local docs, and honoured.

The schemathesis run is the CLI itself (`schemathesis run --checks all`), against the
application served by pytest-django's live server on the test database, once with an
office key and once with an integration key, over a populated organization: valid and
invalid requests to every operation (coverage, fuzzing and stateful phases). Examples per
operation are bounded so each run stays around two minutes.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from programs.services import api_key_create
from tests.factories import OrganizationFactory

from .conftest import build_world
from .servers import gunicorn


def test_the_schema_is_valid_and_generates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    assert "/api/v1/measurements/bulk/" in text
    assert "apiKey" in text


@pytest.mark.django_db
def test_every_operation_documents_its_errors(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"401", "403"} <= codes, (method, path)
            if method in ("post", "put", "patch"):
                assert {"400", "413"} <= codes, (method, path)
            if "{id}" in path:
                assert "404" in codes, (method, path)


@pytest.mark.django_db
def test_the_docs_page_serves_its_assets_locally(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "swagger-ui" in html
    # No CDN host (a bare "cdn" may occur by chance in the page's random CSRF token).
    assert not any(host in html.lower() for host in ("cdn.", "unpkg.", "cdnjs"))
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html


# --- schemathesis, every check, as an office key and as an integration key --------------------

#: Fuzzing examples per operation (the coverage and stateful phases come on top): enough for
#: every operation's positive and negative cases, about two minutes per key on a CI machine.
FUZZ_EXAMPLES = 5
FUZZ_SEED = 1
#: Checks left out of `--checks all`, each with the reason (docs/api.md repeats them).
EXCLUDED_CHECKS = {
    # It counts every 400 for a request the schema allows as a failure. The API answers 400
    # for rules no OpenAPI schema can state, as SPEC §5 requires: a reference must exist in
    # the caller's organization, dates must be in order, a page past the last does not
    # exist, a program's lifecycle refuses some moves, evidence is never deleted...
    "positive_data_acceptance": "business rules answer 400 to schema-valid requests (SPEC §5)",
}


def schemathesis_command(url: str, key: str, report_dir: Path, workers: int = 1, phases: str = "") -> list[str]:
    """The exact command the test runs (docs/api.md gives it for a server of your own)."""
    return [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        f"{url}/api/schema/?format=json",
        "--checks",
        "all",
        "--exclude-checks",
        ",".join(EXCLUDED_CHECKS),
        "--header",
        f"Authorization: Bearer {key}",
        "--max-examples",
        str(FUZZ_EXAMPLES),
        "--seed",
        str(FUZZ_SEED),
        "--workers",
        str(workers),
        "--phases",
        phases or ALL_PHASES,
        "--report",
        "ndjson",
        "--report-dir",
        str(report_dir),
        "--no-color",
    ]


def run_counts(report: Path) -> dict:
    """Cases run and failures by check, from schemathesis' NDJSON report."""
    failures: dict[str, int] = {}
    cases = 0
    for line in report.read_text().splitlines():
        event = json.loads(line)
        if "ScenarioFinished" not in event:
            continue
        recorder = event["ScenarioFinished"].get("recorder", {})
        cases += len(recorder.get("cases", {}))
        for checks in recorder.get("checks", {}).values():
            for check in checks:
                if str(check.get("status")).lower() == "failure":
                    failures[check["name"]] = failures.get(check["name"], 0) + 1
    return {"cases": cases, "failures": failures}


@pytest.fixture
def fuzz_keys(transactional_db, settings) -> dict[str, str]:
    """Keys of an organization with one of everything, next to another organization."""
    # Thousands of requests a minute: the keys' rate limit would answer 429 (documented, but
    # then nothing else is tested).
    # Likewise the unknown-key limit: the invalid-authentication check sends hundreds of bad
    # keys from one address, which would be answered 429 after the tenth (documented and tested
    # in tests/programs/test_signin_lockout.py) instead of the 401 that check expects.
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api_key": "1000000/minute"}}
    settings.CXGOV_UNKNOWN_KEY_LIMIT = 1_000_000
    organization = OrganizationFactory()
    build_world(organization)
    build_world(OrganizationFactory())  # another tenant, whose ids must answer 404 or 400
    return {
        role: api_key_create(organization=organization, name=f"fuzz {role}", role=role)[1]
        for role in ("office", "integration")
    }


#: The phases per server. On PostgreSQL (CI) every phase, against gunicorn with 2 workers, as
#: in production: about 80 s per key. On SQLite only this process reaches the test database,
#: so pytest-django's one-threaded live server answers, about 5× slower: the coverage phase
#: (9,000 deterministic cases of the 10,000) is left to the PostgreSQL run there.
ALL_PHASES = "examples,coverage,fuzzing,stateful"
SQLITE_PHASES = "examples,fuzzing,stateful"


#: The server's limits raised for the same reasons as in `fuzz_keys`.
UNTHROTTLED = {"CXGOV_API_KEY_THROTTLE": "1000000/minute", "CXGOV_UNKNOWN_KEY_LIMIT": "1000000"}


@pytest.fixture
def server(transactional_db, request):
    """Yields (url, schemathesis workers, phases)."""
    if connection.vendor == "postgresql":
        with gunicorn(workers=2, env=UNTHROTTLED) as url:
            yield url, 2, ALL_PHASES
    else:
        yield request.getfixturevalue("live_server").url, 1, SQLITE_PHASES


@pytest.mark.parametrize("role", ["office", "integration"])
def test_schemathesis_finds_no_server_error_schema_violation_or_undocumented_answer(role, fuzz_keys, server, tmp_path):
    """`schemathesis run --checks all` over the whole schema against the application on the
    test database: 0 failures of any check but the excluded ones, among them 0 server
    errors, 0 response-schema violations and 0 undocumented status codes or content types."""
    url, workers, phases = server
    command = schemathesis_command(url, fuzz_keys[role], tmp_path, workers=workers, phases=phases)
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    (report,) = tmp_path.glob("*.ndjson")
    counts = run_counts(report)
    print(f"schemathesis as {role}: {counts['cases']} cases, failures {counts['failures'] or 'none'}")
    assert counts["failures"] == {}, done.stdout[-8000:]
    assert done.returncode == 0, done.stdout[-8000:]
    # The whole schema was exercised (115 operations), not a stub of it.
    assert counts["cases"] > (5000 if "coverage" in phases else 500)
