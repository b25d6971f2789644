"""Governance settings from the environment (CXGOV_ESCALATION_DAYS, CXGOV_RISK_WEIGHTS,
CXGOV_NUDGE_LEAD_DAYS): a wrong value stops the start with ImproperlyConfigured naming the
variable and the expected form, instead of a traceback in a later scan."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from cxgov.settings import env_increasing_days, env_overrides

ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULTS = {"program_paused": 35, "budget_cut": 15}


@pytest.mark.parametrize(("value", "days"), [(None, (7, 14, 21)), ("5,10,15", (5, 10, 15)), (" 1, 2 ,30", (1, 2, 30))])
def test_escalation_days_take_three_increasing_positive_numbers(monkeypatch, value, days):
    if value is None:
        monkeypatch.delenv("CXGOV_ESCALATION_DAYS", raising=False)
    else:
        monkeypatch.setenv("CXGOV_ESCALATION_DAYS", value)
    assert env_increasing_days("CXGOV_ESCALATION_DAYS", (7, 14, 21)) == days


@pytest.mark.parametrize(
    "value", ["7,14", "7,14,21,28", "", "7,x,21", "21,14,7", "7,7,21", "0,7,14", "-1,7,14", "7.5,14,21"]
)
def test_escalation_days_refuse_anything_else(monkeypatch, value):
    monkeypatch.setenv("CXGOV_ESCALATION_DAYS", value)
    with pytest.raises(ImproperlyConfigured) as refused:
        env_increasing_days("CXGOV_ESCALATION_DAYS", (7, 14, 21))
    assert str(refused.value) == (
        f"CXGOV_ESCALATION_DAYS must be 3 increasing positive whole numbers of days, e.g. 7,14,21; got {value!r}."
    )


@pytest.mark.parametrize(
    ("value", "weights"),
    [
        (None, DEFAULTS),
        ("{}", DEFAULTS),
        ('{"program_paused": 50}', {"program_paused": 50, "budget_cut": 15}),
        ('{"budget_cut": 0}', {"program_paused": 35, "budget_cut": 0}),
    ],
)
def test_overrides_merge_a_json_object_of_known_names(monkeypatch, value, weights):
    if value is None:
        monkeypatch.delenv("CXGOV_RISK_WEIGHTS", raising=False)
    else:
        monkeypatch.setenv("CXGOV_RISK_WEIGHTS", value)
    assert env_overrides("CXGOV_RISK_WEIGHTS", DEFAULTS) == weights


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("not json", "it is not JSON"),
        ("", "it is not JSON"),
        ("[35]", "got list"),
        ('{"program_paused": "50"}', "wrong value for program_paused"),
        ('{"program_paused": -5}', "wrong value for program_paused"),
        ('{"program_paused": 12.5}', "wrong value for program_paused"),
        ('{"program_paused": true}', "wrong value for program_paused"),
    ],
)
def test_overrides_refuse_anything_else(monkeypatch, value, why):
    monkeypatch.setenv("CXGOV_RISK_WEIGHTS", value)
    with pytest.raises(ImproperlyConfigured) as refused:
        env_overrides("CXGOV_RISK_WEIGHTS", DEFAULTS)
    assert str(refused.value) == (
        'CXGOV_RISK_WEIGHTS must be a JSON object of whole numbers (0 or more) by name, e.g. {"program_paused": 35}; '
        f"{why}."
    )


def test_overrides_refuse_a_misspelt_name(monkeypatch):
    monkeypatch.setenv("CXGOV_RISK_WEIGHTS", '{"program_pasued": 50}')
    with pytest.raises(ImproperlyConfigured, match="^CXGOV_RISK_WEIGHTS: unknown program_pasued; the names are"):
        env_overrides("CXGOV_RISK_WEIGHTS", DEFAULTS)


def settings_load(**env: str) -> subprocess.CompletedProcess:
    code = "import django; django.setup(); from django.conf import settings; print(settings.CXGOV_ESCALATION_DAYS)"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=os.environ | {"DJANGO_SETTINGS_MODULE": "cxgov.settings"} | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CXGOV_ESCALATION_DAYS": "7,14"}, "ImproperlyConfigured: CXGOV_ESCALATION_DAYS must be 3 increasing"),
        ({"CXGOV_RISK_WEIGHTS": "not json"}, "ImproperlyConfigured: CXGOV_RISK_WEIGHTS must be a JSON object"),
        ({"CXGOV_NUDGE_LEAD_DAYS": '{"metric_stale": "5"}'}, "ImproperlyConfigured: CXGOV_NUDGE_LEAD_DAYS must be"),
    ],
)
def test_settings_refuse_to_load_with_a_bad_value(env, message):
    result = settings_load(**env)
    assert result.returncode != 0
    assert message in result.stderr


def test_settings_load_with_good_values():
    result = settings_load(CXGOV_ESCALATION_DAYS="5,10,15", CXGOV_RISK_WEIGHTS='{"program_paused": 50}')
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(5, 10, 15)"
