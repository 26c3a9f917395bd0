"""``python -m deploy COMMAND [STAGE]``: what the Makefile's package, create-table, deploy and bill targets run.

- ``check STAGE``: refuse, before anything touches AWS, a stage that is not fit to face the internet;
- ``wheels``: fill the deploy venv's wheel cache with Lambda builds of its compiled libraries;
- ``package STAGE``: zip the app and its libraries into dist/counter-STAGE.zip;
- ``create-table STAGE``: create the stage's table with the function's own environment;
- ``deploy STAGE``: ``check``, ``create-table``, then ``zappa deploy`` (or ``update``) from the staged app, then
  throttling and log retention;
- ``bill``: the worst-case monthly bill of every stage, as docs/deploying.md quotes it.
"""

from __future__ import annotations

import argparse
import sys

import boto3

from . import checks, cost, guardrails, wheels
from .package import package, run, runtime_matches, staged, zappa
from .stages import ROOT, function_environment, function_name, isolated, stage_environment, stage_names, stage_settings


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
    with staged(stage, function_environment(stage)) as (app, settings):
        zappa("update" if _deployed(stage, config["aws_region"]) else "deploy", stage, "-s", str(settings), app=app)
    for done in guardrails.apply(stage):
        print(done)


def _deployed(stage: str, region: str) -> bool:
    client = boto3.session.Session(region_name=region).client("lambda")
    try:
        client.get_function(FunctionName=function_name(stage))
    except client.exceptions.ResourceNotFoundException:
        return False
    return True


UNSTAGED = ("bill", "wheels")
STAGED = ("check", "package", "create-table", "deploy")


def arguments(argv: list[str]) -> argparse.Namespace:
    """The command and its stage, or a usage text and exit 2 when they are missing or unknown."""
    parser = argparse.ArgumentParser(prog="python -m deploy", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=(*STAGED, *UNSTAGED))
    parser.add_argument("stage", nargs="?", help="a stage of zappa_settings.json")
    args = parser.parse_args(argv)
    stages = stage_names()
    if args.command in UNSTAGED and args.stage is not None:
        parser.error(f"{args.command} takes no stage.")
    if args.command in STAGED and args.stage not in stages:
        wrong = f"{args.command} needs a stage" if args.stage is None else f"there is no stage {args.stage!r}"
        parser.error(f"{wrong}: zappa_settings.json has {' and '.join(stages)} (names are case-sensitive).")
    return args


def main(argv: list[str]) -> None:
    """Run one command; see the module's docstring."""
    args = arguments(argv)
    command, stage = args.command, args.stage
    if command == "bill":
        print(cost.bill_table(), end="")
        return
    if command == "wheels":
        print("\n".join(path.name for path in wheels.fill()))
        return
    if command == "package":
        print(package(stage, ROOT / "dist" / f"counter-{stage}.zip"))
        return
    {"check": check, "create-table": create_table, "deploy": deploy}[command](stage)


if __name__ == "__main__":
    main(sys.argv[1:])
