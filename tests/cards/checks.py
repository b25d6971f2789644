"""Check chat bodies with the chat vendors' own code: Slack's Block Kit models
(`slack_sdk`) and the parser of the `adaptivecards` npm package (run with node).

`make test-tools` installs the npm package into tests/cards/node_modules (`npm ci`).
Without node or the package the Teams checks skip saying why, and fail instead with
CXGOV_REQUIRE_SERVICES=1.
"""

import json
import shutil
import subprocess
from pathlib import Path

from slack_sdk.models.blocks import Block

from tests.conftest import missing_service

HERE = Path(__file__).resolve().parent


def adaptive_card_problems(card: dict) -> list[str]:
    """What `AdaptiveCard.parse` and `validateProperties()` report about `card` (empty: none)."""
    node = shutil.which("node")
    if node is None:
        missing_service("node is not installed: the Adaptive Card checks run on it")
    if not (HERE / "node_modules" / "adaptivecards").is_dir():
        missing_service("adaptivecards is not installed: run `npm ci --prefix tests/cards` (make test-tools does)")
    done = subprocess.run(
        [node, str(HERE / "validate.cjs")], input=json.dumps(card), capture_output=True, text=True, timeout=60
    )
    report = json.loads(done.stdout)
    assert report["version"] == card["version"], report
    return report["parse"] + report["validation"]


def teams_card(body: dict) -> dict:
    """The Adaptive Card a Teams workflow message carries, after checking the envelope."""
    assert body["type"] == "message"
    (attachment,) = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    return attachment["content"]


def slack_blocks(body: dict) -> list[Block]:
    """The blocks of a Slack message, parsed back by slack_sdk and checked against its limits
    (`validate_json` raises SlackObjectFormationError): each must serialise back the same."""
    assert isinstance(body["text"], str) and body["text"]
    blocks = Block.parse_all(body["blocks"])
    for block, raw in zip(blocks, body["blocks"], strict=True):
        block.validate_json()
        assert block.to_dict() == raw
    return blocks
