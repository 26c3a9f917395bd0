"""Read a stage of zappa_settings.json the way Zappa does; print its environment for ``make``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

SETTINGS = Path(__file__).resolve().parent.parent / "zappa_settings.json"


def stage_settings(stage: str, settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """The stage's settings with ``extends`` applied: a shallow merge, child keys win, as in Zappa."""
    settings = settings if settings is not None else json.loads(SETTINGS.read_text())
    own = settings[stage]
    parent = stage_settings(own["extends"], settings) if "extends" in own else {}
    return {**parent, **own}


def stage_environment(stage: str) -> dict[str, str]:
    """What the stage's code sees: its region and the Lambda environment Zappa sets."""
    config = stage_settings(stage)
    return {"AWS_DEFAULT_REGION": config["aws_region"], **config["aws_environment_variables"]}


def main(argv: list[str]) -> None:
    """``python deploy/stages.py STAGE`` prints ``NAME=value`` words for ``env``."""
    (stage,) = argv
    print(" ".join(f"{name}={value}" for name, value in stage_environment(stage).items()))


if __name__ == "__main__":
    main(sys.argv[1:])
