"""The OpenAPI schema: valid, warning-free, served with local docs, and honoured.

The schemathesis run sends generated requests (valid and invalid) to every operation of
/api/schema/ with an office API key over a populated organization, and checks that no
answer is a server error and every documented answer matches the schema. Examples per
operation are bounded so the whole run stays around a minute.
"""

import pytest
import schemathesis
from django.core.management import call_command
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from programs.services import api_key_create
from tests.factories import OrganizationFactory

from .conftest import build_world

MAX_EXAMPLES = 6


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


@pytest.fixture
def api_schema():
    from cxgov.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@pytest.fixture
def fuzz_key(transactional_db) -> str:
    """An office key of an organization with one of everything (ids start at 1)."""
    organization = OrganizationFactory()
    build_world(organization)
    build_world(OrganizationFactory())  # another tenant, for ids that must 404 or 400
    _, raw = api_key_create(organization=organization, name="fuzz", role="office")
    return raw


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.django_db(transaction=True, reset_sequences=True)
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_input_makes_a_server_error_or_breaks_the_schema(case, fuzz_key):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {fuzz_key}"},
        checks=[not_a_server_error, response_schema_conformance],
    )
