"""The README's examples, executed against a freshly seeded demo (what `make run` serves).

Every ```bash block of the README's "Integrating" section is split into commands and the
`# …` answer lines under them. `create_api_key` runs as the management command it is,
`export` sets the shell variables the later commands use (`$CXGOV` is the live server),
and every `curl` runs as written, through bash and the real curl, against a live server
on the test database. The answer shown is then checked: the status code when one is
shown (200 otherwise) and every field shown, at its place (`...` elides; a string
containing `...` is a pattern). The demo is dated: the clock is set to the day the
README's answers were taken, so ids, values and dates are the ones a reader sees on a
demo seeded that day (ids are the same on any day: the demo is built in a fixed order).
"""

import datetime as dt
import hashlib
import hmac
import json
import os
import re
import shlex
import subprocess
from dataclasses import dataclass, field
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from tests.conftest import ROOT

README = ROOT / "README.md"
DOCS = ROOT / "docs"
# The day the README's answers were taken (a seeded demo's dates are relative to its day).
README_DAY = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)


@dataclass
class Step:
    command: str
    answer: list[str] = field(default_factory=list)


def code_blocks(markdown: str, language: str = "bash") -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", markdown, re.S)


def section(markdown: str, heading: str) -> str:
    start = markdown.index(heading)
    following = re.search(r"^## ", markdown[start + len(heading) :], re.M)
    return markdown[start : start + len(heading) + following.start()] if following else markdown[start:]


def steps_of(block: str) -> list[Step]:
    """Commands (with their `\\` continuations) and the `# ` answer lines that follow each."""
    steps: list[Step] = []
    lines = block.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line.strip():
            continue
        if line.startswith("#"):
            text = line[1:].strip()
            if steps and text and not text.startswith("("):
                steps[-1].answer.append(text)
            continue
        command = line
        while command.endswith("\\") or (command.count("'") % 2):
            command = (command[:-1] if command.endswith("\\") else command + "\n") + lines[index]
            index += 1
        steps.append(Step(command=command.strip()))
    return steps


# --- the answers as shown: lenient JSON (`...` elides, strings may hold `...` patterns) ---

TOKEN = re.compile(r'\s*(?:(\.\.\.)|("(?:[^"\\]|\\.)*")|(-?\d+(?:\.\d+)?)|(true|false|null)|([{}\[\]:,]))')
ELIDED = object()


def parse_shown(text: str):
    tokens = [next(g for g in m.groups() if g is not None) for m in TOKEN.finditer(text)]
    value, rest = _value(tokens)
    assert not rest, f"unparsed {rest!r} in {text!r}"
    return value


def _value(tokens):
    head, rest = tokens[0], tokens[1:]
    if head == "...":
        return ELIDED, rest
    if head == "{":
        shown = {}
        while rest[0] != "}":
            if rest[0] in (",", "..."):
                rest = rest[1:]
                continue
            key = json.loads(rest[0])
            assert rest[1] == ":", rest[:3]
            shown[key], rest = _value(rest[2:])
        return shown, rest[1:]
    if head == "[":
        items = []
        while rest[0] != "]":
            if rest[0] == ",":
                rest = rest[1:]
                continue
            item, rest = _value(rest)
            items.append(item)
        return items, rest[1:]
    return json.loads(head), rest


def assert_matches(shown, actual, where: str = "answer") -> None:
    if shown is ELIDED:
        return
    if isinstance(shown, dict):
        assert isinstance(actual, dict), f"{where}: {actual!r} is not an object"
        for key, value in shown.items():
            assert key in actual, f"{where}: no {key!r} in {actual!r}"
            assert_matches(value, actual[key], f"{where}.{key}")
    elif isinstance(shown, list):
        assert isinstance(actual, list), f"{where}: {actual!r} is not a list"
        for position, item in enumerate(shown):
            if item is ELIDED:
                continue
            if isinstance(item, dict) and "id" in item:
                same = [a for a in actual if isinstance(a, dict) and a.get("id") == item["id"]]
                assert same, f"{where}: no item with id {item['id']} in {[a.get('id') for a in actual]}"
                assert_matches(item, same[0], f"{where}[id={item['id']}]")
            else:
                assert position < len(actual), f"{where}: only {len(actual)} items"
                assert_matches(item, actual[position], f"{where}[{position}]")
    elif isinstance(shown, str) and "..." in shown:
        pattern = ".*".join(re.escape(part) for part in shown.split("..."))
        assert isinstance(actual, str) and re.fullmatch(pattern, actual), f"{where}: {actual!r} !~ {shown!r}"
    elif isinstance(shown, str) and isinstance(actual, str):
        assert actual == shown, f"{where}: {actual!r} != {shown!r}"
    else:
        assert actual == shown, f"{where}: {actual!r} != {shown!r}"


class ReadmeShell:
    """Runs the README's commands in order, keeping the variables they export."""

    def __init__(self, base_url: str):
        self.env = {**os.environ, "CXGOV": base_url}
        self.base_url = base_url
        self.last_key = ""
        self.ran: list[str] = []

    def run(self, step: Step) -> None:
        words = shlex.split(step.command, comments=True)
        if words[0] == "export":
            for assignment in words[1:]:
                name, value = assignment.split("=", 1)
                if name == "CXGOV":
                    assert value == "http://127.0.0.1:8000", value  # what `make run` serves
                    continue
                # `export KEY=cxg_...` stands for the key printed just above.
                self.env[name] = self.last_key if value.startswith("cxg_") else value
        elif words[:2] == [".venv/bin/python", "manage.py"]:
            self.manage(words[2:], step.answer)
        elif words[0] == "curl":
            self.curl(step)
        else:
            raise AssertionError(f"the README runs a command this test does not know: {step.command!r}")
        self.ran.append(words[0] if words[0] != ".venv/bin/python" else words[2])

    def manage(self, args: list[str], answer: list[str]) -> None:
        out = StringIO()
        call_command(*args, stdout=out)
        printed = out.getvalue().splitlines()
        # A command shown without its output prints what the first such command showed.
        assert not answer or len(printed) == len(answer), (printed, answer)
        for shown, line in zip(answer, printed, strict=bool(answer)):
            pattern = re.sub(r"cxg_[A-Za-z0-9_-]+", "cxg_[A-Za-z0-9_-]+", re.escape(shown).replace(r"\-", "-"))
            assert re.fullmatch(pattern, line), (shown, line)
        self.last_key = next(line for line in printed if line.startswith("cxg_"))

    def curl(self, step: Step) -> None:
        result = subprocess.run(
            ["bash", "-c", step.command + " -w '\\n%{http_code}'"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        body, status = result.stdout.rsplit("\n", 1)
        actual = json.loads(body) if body.strip() else None
        if not step.answer:
            assert status == "200", (step.command, status, body[:500])
            return
        shown = " ".join(step.answer)
        match = re.match(r"(\d{3}) (.*)", shown)
        expected_status, shown = (match.group(1), match.group(2)) if match else ("200", shown)
        assert status == expected_status, (step.command, status, body[:500])
        assert_matches(parse_shown(shown), actual, step.command.split("\n")[0][:80])


@pytest.fixture
def fresh_demo(transactional_db, django_db_reset_sequences, settings):
    """`make run`'s data: the demo with six months of replayed scans, then today's scan."""
    settings.DEBUG = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with time_machine.travel(README_DAY, tick=True):
        call_command("seed_demo", "--if-empty", "--scan-history", stdout=StringIO())
        call_command("run_governance_scan", stdout=StringIO())
        yield


def test_the_readme_integration_examples_answer_what_they_show(fresh_demo, live_server):
    readme = README.read_text()
    blocks = code_blocks(section(readme, "## Integrating"))
    steps = [step for block in blocks for step in steps_of(block)]
    shell = ReadmeShell(live_server.url)
    for step in steps:
        shell.run(step)
    # Every documented key was created before being used, and every answer was checked.
    assert shell.ran.count("create_api_key") == 3
    assert shell.ran.count("curl") >= 12
    assert {"KEY", "EXEC_KEY", "OFFICE_KEY"} <= set(shell.env)


def test_every_readme_variable_is_set_before_it_is_used():
    """`$OFFICE_KEY` was once used and never created: every `$NAME` is exported above its use."""
    text = section(README.read_text(), "## Integrating")
    exported: set[str] = set()
    for block in code_blocks(text):
        for step in steps_of(block):
            words = shlex.split(step.command, comments=True)
            if words[0] == "export":
                exported |= {assignment.split("=", 1)[0] for assignment in words[1:]}
            for name in re.findall(r"\$([A-Z_]+)", step.command):
                assert name in exported, f"${name} is used before it is exported: {step.command!r}"


def test_the_readme_signature_check_accepts_what_cxgov_signs():
    from notifications.webhooks import sign

    (code,) = code_blocks(README.read_text(), "python")
    namespace: dict = {}
    exec(code, namespace)  # our own README
    body = b'{"event": "flag.raised"}'
    header = sign("a-long-random-shared-secret", body)
    assert namespace["signature_is_valid"](b"a-long-random-shared-secret", body, header)
    assert not namespace["signature_is_valid"](b"another-secret-entirely", body, header)
    assert not namespace["signature_is_valid"](b"a-long-random-shared-secret", body, None)
    expected = "sha256=" + hmac.new(b"a-long-random-shared-secret", body, hashlib.sha256).hexdigest()
    assert header == expected


def test_every_docs_example_is_run_by_a_test():
    """docs/*.md: runnable examples (curl, a receiver) are executed; the rest are signatures."""
    runnable = {}
    for doc in sorted(DOCS.glob("*.md")):
        text = doc.read_text()
        for language in ("bash", "sh", "python"):
            for block in code_blocks(text, language):
                if "curl " in block or "__main__" in block or "HTTPServer" in block:
                    runnable.setdefault(doc.name, []).append(block)
    # docs/webhooks.md: two registrations (curl, run below) and the receiver (tests/notifications).
    assert sorted(runnable) == ["webhooks.md"], sorted(runnable)
    assert len(runnable["webhooks.md"]) == 3


def test_the_webhook_registration_example_registers_a_webhook(transactional_db, live_server, settings):
    from notifications.models import Webhook
    from programs.choices import Role
    from programs.services import api_key_create
    from tests.factories import OrganizationFactory

    settings.CXGOV_WEBHOOK_ALLOW_PRIVATE = True
    organization = OrganizationFactory()
    _, raw = api_key_create(organization=organization, name="office", role=Role.OFFICE)
    blocks = [b for b in code_blocks((DOCS / "webhooks.md").read_text(), "sh") if "curl " in b]
    # The signed cxgov webhook, then a Slack channel (a Teams one differs only by its format).
    expected = [
        ("cxgov", ["flag.raised", "flag.resolved", "risk.level_changed"]),
        ("slack", ["flag.raised", "flag.escalated"]),
    ]
    assert len(blocks) == len(expected)
    shell = ReadmeShell(live_server.url)
    shell.env["CXGOV_OFFICE_KEY"] = raw
    for block, (format_, events) in zip(blocks, expected, strict=True):
        (step,) = steps_of(block)
        # The documented hosts are the reader's own; the request is the documented one otherwise.
        command = re.sub(
            r"https://(hooks\.acme\.example/cxgov|hooks\.slack\.com/[^\"]+)", f"{live_server.url}/hook", step.command
        )
        command = command.replace("https://cxgov.example.com", "$CXGOV")
        shown = json.dumps({"url": "...", "events": events, "active": True, "format": format_})
        shell.curl(Step(command=command, answer=[f"201 {shown}"]))
        webhook = Webhook.objects.get(organization=organization, format=format_)
        assert webhook.events == events
