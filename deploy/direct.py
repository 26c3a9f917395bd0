"""Zappa's ``settings`` callback in the committed settings: ``zappa deploy``, ``update`` or ``package`` run here stops.

Zappa zips the folder it runs in, and this one may hold exports, databases or a ``.env``. ``make deploy`` and
``make package`` run Zappa in a staged folder holding only the app's files, with settings that leave this out.
Zappa 0.63 runs the ``settings`` callback in ``ZappaCLI.dispatch_command`` right after ``load_settings`` (zappa/cli.py
line 658), before any command's first AWS call; its ``prebuild_script`` would come too late for ``deploy``, which
creates or updates the IAM role first (``create_iam_roles``, line 837).
"""

from __future__ import annotations

from typing import Any

BUILDS = ("deploy", "update", "package")


def refuse(cli: Any) -> None:
    """Stop a Zappa build started in the project folder; other commands (status, tail, undeploy) go on."""
    if cli.command in BUILDS:
        raise SystemExit(f"Use make deploy STAGE=... or make package STAGE=... instead of zappa {cli.command}: Zappa "
                         "run in the project folder would zip every file in it, and leave out the read token. "
                         "Nothing was sent to AWS.")
