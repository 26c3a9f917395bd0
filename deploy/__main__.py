"""``python -m deploy COMMAND [STAGE]``: what the Makefile's package, create-table, deploy and bill targets run.

- ``check STAGE``: refuse, before anything touches AWS, a stage that is not fit to face the internet;
- ``wheels``: fill the deploy venv's wheel cache with Lambda builds of its compiled libraries;
- ``package STAGE``: zip the app and its libraries into dist/counter-STAGE.zip;
- ``create-table STAGE``: create the stage's table with the function's own environment;
- ``deploy STAGE [--unreserved]``: ``check``, the account's concurrency, the token's parameter, ``create-table``,
  then ``zappa deploy`` (or ``update``; a half-made stage is deployed afresh) from the staged app with the ids
  stream as an event source, then throttling, log retention, the stream's mapping and failure queue, and the
  front door;
- ``domain STAGE DOMAIN CERTIFICATE_ARN``: the stage's custom domain; prints the DNS record to create;
- ``bill``: the worst-case monthly bill of every stage, as docs/deploying.md quotes it.
"""

from __future__ import annotations

import argparse
import os
import sys

import boto3

from . import account, aggregator, checks, cost, domain, frontdoor, guardrails, recovery, secret, wheels
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


def deploy(stage: str, reserve: bool = True) -> None:
    """Check the stage and the account, store the token, create the table, then ``zappa deploy`` the first time
    (afterwards ``zappa update``), then the guard rails Zappa cannot set and the front door.

    :param reserve: ``False`` (``make deploy RESERVE=no``) deploys without reserved concurrency.
    """
    check(stage)
    runtime_matches(stage)
    config = stage_settings(stage)
    session = boto3.session.Session(region_name=config["aws_region"])
    name = function_name(stage)
    problem = account.concurrency_problem(session.client("lambda"), stage, name,
                                          config.get("lambda_concurrency") if reserve else None)
    if problem:
        raise SystemExit(f"Not deploying: {problem}")
    if secret.source(config):
        print(secret.store(session, config, stage, os.environ))
    create_table(stage)
    found = recovery.state(session, name)
    if found == "half-made":
        print(recovery.clear(session, name))
    stream = aggregator.stream_arn(stage, session)
    with staged(stage, function_environment(stage), aggregator.events(stream), reserve=reserve) as (app, settings):
        zappa("update" if found == "deployed" else "deploy", stage, "-s", str(settings), app=app)
    for done in [*guardrails.apply(stage, session), *aggregator.wire(stage, stream, session)]:
        print(done)
    if frontdoor.wanted(config):
        for done in frontdoor.apply(session, config, stage, name, guardrails.api_id(session, config, name)):
            print(done)


UNSTAGED = ("bill", "wheels")
STAGED = ("check", "package", "create-table", "deploy", "domain")


def arguments(argv: list[str]) -> argparse.Namespace:
    """The command and its stage, or a usage text and exit 2 when they are missing or unknown."""
    parser = argparse.ArgumentParser(prog="python -m deploy", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=(*STAGED, *UNSTAGED))
    parser.add_argument("stage", nargs="?", help="a stage of zappa_settings.json")
    parser.add_argument("domain", nargs="?", help="domain: the custom domain, such as counter.example.com")
    parser.add_argument("certificate", nargs="?", help="domain: the ACM certificate's ARN")
    parser.add_argument("--unreserved", action="store_true", help="deploy: reserve no concurrency (RESERVE=no)")
    args = parser.parse_args(argv)
    stages = stage_names()
    if args.command in UNSTAGED and args.stage is not None:
        parser.error(f"{args.command} takes no stage.")
    if args.command in STAGED and args.stage not in stages:
        wrong = f"{args.command} needs a stage" if args.stage is None else f"there is no stage {args.stage!r}"
        parser.error(f"{wrong}: zappa_settings.json has {' and '.join(stages)} (names are case-sensitive).")
    if (args.command == "domain") != (args.certificate is not None) or (args.domain and args.command != "domain"):
        parser.error("domain takes a stage, a domain and a certificate's ARN; no other command takes them.")
    if args.unreserved and args.command != "deploy":
        parser.error("--unreserved is for deploy only.")
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
    if command == "domain":
        print(domain.main(stage, args.domain, args.certificate))
        return
    if command == "package":
        print(package(stage, ROOT / "dist" / f"counter-{stage}.zip"))
        return
    if command == "deploy":
        deploy(stage, reserve=not args.unreserved)
        return
    {"check": check, "create-table": create_table}[command](stage)


if __name__ == "__main__":
    main(sys.argv[1:])
