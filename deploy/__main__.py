"""``python -m deploy COMMAND [STAGE]``: what the Makefile's package, create-table, deploy and bill targets run.

- ``check STAGE``: refuse, before anything touches AWS, a stage that is not fit to face the internet;
- ``wheels``: fill the deploy venv's wheel cache with Lambda builds of its compiled libraries;
- ``package STAGE``: zip the app and its libraries into dist/counter-STAGE.zip;
- ``create-table STAGE``: create the stage's table with the function's own environment;
- ``deploy STAGE``: ``check``, ``create-table``, then ``zappa deploy`` (or ``update``) from the staged app with the
  ids stream as an event source, then throttling, log retention, and the stream's mapping and failure queue;
- ``bill``: the worst-case monthly bill of every stage, as docs/deploying.md quotes it.
"""

from __future__ import annotations

import sys

import boto3

from . import aggregator, checks, cost, guardrails, wheels
from .package import package, run, runtime_matches, staged, zappa
from .stages import ROOT, function_environment, function_name, isolated, stage_environment, stage_settings


def check(stage: str) -> None:
    """Stop with one sentence per problem if the stage must not be deployed as it is."""
    found = checks.problems(stage)
    if found:
        raise SystemExit("\n".join(["Not deploying:", *found]))


def create_table(stage: str) -> None:
    """``flask create-table`` with exactly the environment the stage's function gets."""
    run("flask", "--app", "wsgi", "create-table", cwd=ROOT, env=isolated(stage_environment(stage)))


def deploy(stage: str) -> None:
    """Check the stage, create its table, then ``zappa deploy`` the first time (afterwards ``zappa update``), then
    the guard rails Zappa cannot set."""
    check(stage)
    runtime_matches(stage)
    create_table(stage)
    config = stage_settings(stage)
    stream = aggregator.stream_arn(stage)
    with staged(stage, function_environment(stage), aggregator.events(stream)) as (app, settings):
        zappa("update" if _deployed(stage, config["aws_region"]) else "deploy", stage, "-s", str(settings), app=app)
    for done in [*guardrails.apply(stage), *aggregator.wire(stage, stream)]:
        print(done)


def _deployed(stage: str, region: str) -> bool:
    client = boto3.session.Session(region_name=region).client("lambda")
    try:
        client.get_function(FunctionName=function_name(stage))
    except client.exceptions.ResourceNotFoundException:
        return False
    return True


def main(argv: list[str]) -> None:
    """Run one command; see the module's docstring."""
    if argv == ["bill"]:
        print(cost.bill_table(), end="")
        return
    if argv == ["wheels"]:
        print("\n".join(path.name for path in wheels.fill()))
        return
    command, stage = argv
    if command == "package":
        print(package(stage, ROOT / "dist" / f"counter-{stage}.zip"))
        return
    {"check": check, "create-table": create_table, "deploy": deploy}[command](stage)


if __name__ == "__main__":
    main(sys.argv[1:])
