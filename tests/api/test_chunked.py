"""Request bodies sent with `Transfer-Encoding: chunked` are read and limited like any other
(SPEC §5: "oversized bodies (chunked or not) ... 413").

Django reads a body only as far as Content-Length says, so without `ChunkedBodyMiddleware`
a chunked body is read as empty. The first tests call the WSGI application with the environ
gunicorn builds for a chunked request (no CONTENT_LENGTH, the decoded body in wsgi.input,
`wsgi.input_terminated`); the last one sends real chunks to a real gunicorn (PostgreSQL,
which the gunicorn process shares with the test)."""

import http.client
import io
import json

import pytest
from django.test import RequestFactory
from django.test.client import ClientHandler

from programs.models import BusinessUnit
from programs.services import api_key_create
from tests.conftest import missing_service

from .servers import gunicorn

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(organization) -> str:
    return api_key_create(organization=organization, name="chunks", role="office")[1]


def call_chunked(path: str, body: bytes, key: str, *, terminated: bool = True) -> tuple[int, dict]:
    """POST `body` as gunicorn hands a chunked request to the application."""
    environ = RequestFactory()._base_environ(
        PATH_INFO=path,
        REQUEST_METHOD="POST",
        CONTENT_TYPE="application/json",
        HTTP_TRANSFER_ENCODING="chunked",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    environ.pop("CONTENT_LENGTH", None)
    environ["wsgi.input"] = io.BytesIO(body)
    if terminated:
        environ["wsgi.input_terminated"] = True
    # The test client's handler: the WSGI application, keeping the test's database connection.
    response = ClientHandler(enforce_csrf_checks=True)(environ)
    assert response["Content-Type"].startswith("application/json")
    return response.status_code, json.loads(response.content)


def test_a_chunked_body_is_read(organization, key):
    code, body = call_chunked("/api/v1/business-units/", b'{"name": "Claims"}', key)
    assert code == 201, body
    assert body["name"] == "Claims"
    assert BusinessUnit.objects.filter(organization=organization, name="Claims").count() == 1


def test_a_chunked_body_over_the_limit_is_413_and_writes_nothing(organization, key, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    name = "x" * 990
    at_limit = json.dumps({"name": name[:150]}).encode()
    assert call_chunked("/api/v1/business-units/", at_limit, key)[0] == 201
    over = json.dumps({"name": name}).encode()
    assert len(over) > 1000
    code, body = call_chunked("/api/v1/business-units/", over, key)
    assert (code, body) == (413, {"detail": "The request body is over the limit of 1,000 bytes."})
    assert BusinessUnit.objects.filter(organization=organization).count() == 1


def test_a_server_that_does_not_decode_chunks_gets_a_400_asking_for_a_length(organization, key):
    code, body = call_chunked("/api/v1/business-units/", b'{"name": "Claims"}', key, terminated=False)
    assert code == 400
    assert body == {
        "detail": "This server cannot read a chunked request body: send the body with a Content-Length header."
    }
    assert not BusinessUnit.objects.exists()


@pytest.fixture
def gunicorn_port(transactional_db):
    from django.db import connection

    if connection.vendor != "postgresql":
        missing_service("gunicorn shares the test database only on PostgreSQL (set DATABASE_URL)")
    with gunicorn(env={"DATA_UPLOAD_MAX_MEMORY_SIZE": "1000"}) as url:
        yield int(url.rsplit(":", 1)[1])


def post_chunks(port: int, key: str, chunks: list[bytes]) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(
        "POST",
        "/api/v1/business-units/",
        body=iter(chunks),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        encode_chunked=True,
    )
    response = conn.getresponse()
    return response.status, json.loads(response.read())


def test_gunicorn_reads_and_limits_real_chunks(organization, gunicorn_port):
    _, raw = api_key_create(organization=organization, name="chunks", role="office")
    code, body = post_chunks(gunicorn_port, raw, [b'{"name": ', b'"Claims', b' and billing"}'])
    assert (code, body["name"]) == (201, "Claims and billing")
    code, body = post_chunks(gunicorn_port, raw, [b'{"name": "', b"x" * 600, b"x" * 600, b'"}'])
    assert (code, body) == (413, {"detail": "The request body is over the limit of 1,000 bytes."})
    assert list(BusinessUnit.objects.filter(organization=organization).values_list("name", flat=True)) == [
        "Claims and billing"
    ]
