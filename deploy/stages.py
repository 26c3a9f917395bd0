"""Read a stage of zappa_settings.json the way Zappa does, and the environment its function gets."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ROOT / "zappa_settings.json"
# Taken from the deployer's environment, over the stage's settings: the token, a secret that is never committed, and
# the events, the owner's decision for their site, which a stage may commit instead (dev counts "*"); the alert rules
# (whose webhook URLs are secrets too) and the secret that signs their messages.
FROM_DEPLOYER = ("COUNTER_READ_TOKEN", "COUNTER_EVENTS", "COUNTER_ALERTS", "COUNTER_ALERTS_SECRET")
TOKEN_FROM = "COUNTER_READ_TOKEN_FROM"


def stage_names() -> list[str]:
    """The stages zappa_settings.json defines, in its order."""
    return list(json.loads(SETTINGS.read_text()))


def stage_settings(stage: str, settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """The stage's settings with ``extends`` applied: a shallow merge, child keys win, as in Zappa."""
    settings = settings if settings is not None else json.loads(SETTINGS.read_text())
    own = settings[stage]
    parent = stage_settings(own["extends"], settings) if "extends" in own else {}
    return {**parent, **own}


def function_name(stage: str) -> str:
    """The stage's Lambda function, as Zappa names it: ``counter-dev``."""
    return f"{stage_settings(stage)['project_name']}-{stage}"


def function_environment(stage: str, environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """What the stage's function finds in its environment: its settings, then the deployer's token (unless the
    stage reads it from SSM or Secrets Manager) and events."""
    committed = stage_settings(stage)["aws_environment_variables"]
    # With COUNTER_READ_TOKEN_FROM the token goes to SSM or Secrets Manager (deploy.secret), never to the function.
    taken = {name: environ[name] for name in FROM_DEPLOYER
             if name in environ and not (name == "COUNTER_READ_TOKEN" and TOKEN_FROM in committed)}
    if "COUNTER_ALERTS" in taken:
        taken["COUNTER_ALERTS"] = inline_rules(taken["COUNTER_ALERTS"])
    return {**committed, **taken}


def inline_rules(setting: str) -> str:
    """``COUNTER_ALERTS`` as the function needs it: a file the deployer names (not shipped) read into compact JSON."""
    from counter_app.alerts.rules import document

    if setting.strip().startswith("{") or not os.path.isfile(setting):
        return setting  # inline already, or a mistake the start-up check names
    try:
        return json.dumps(document(setting), separators=(",", ":"))
    except ValueError:
        return setting  # the start-up check names what is wrong with it


def stage_environment(stage: str, environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """What the stage's code sees: its region and its function's environment."""
    return {"AWS_DEFAULT_REGION": stage_settings(stage)["aws_region"], **function_environment(stage, environ)}


def isolated(environment: Mapping[str, str], base: Mapping[str, str] = os.environ) -> dict[str, str]:
    """``base`` without its ``COUNTER_*`` settings and ``environment`` over it: a process that sees the stage's only."""
    return {**{name: value for name, value in base.items() if not name.startswith("COUNTER_")}, **environment}
