"""Part 3: cold start through the packaged Zappa handler, against a bare Flask app packaged the default Zappa way.

Three comparisons, each as interleaved pairs (counter, bare, counter, ...) and the median of the pair ratios:

- **fresh**: a new process to its first answer, the counter's zip (``make package``: bytecode, the app made at
  import) against the bare app's (plain ``zappa package``: sources only);
- **restored**: a process restored from a SnapStart snapshot (:class:`tests.lambda_package.Snapshot`) to its
  first answer, against the bare app's warm answer;
- both again under Lambda's CPU share for each memory size in :data:`MEMORY_SIZES` (:mod:`bench.cpu_share`).
"""

from __future__ import annotations

import json
import os
import sys
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench import ROOT, Size, compare, cpu_share, median
from bench.dynamo import dynalite_app
from deploy.stages import stage_settings
from tests.lambda_package import (
    DEPLOY_VENV,
    ZAPPA_HANDLER,
    LambdaFunction,
    Package,
    Snapshot,
    build,
    cold_start,
    http_event,
    install_tools,
    offline_environ,
    restored_start,
    unpack,
)

STAGE = "dev"
STARTS_PER_RUN = 2  # cold starts of each side per Size.runs: tiny makes 2 pairs, full 10
# The counter's own libraries: the bare package is Flask and Zappa's handler alone.
COUNTER_ONLY = ["flask_cors", "flask_cors-*", "crawlerdetect", "crawlerdetect-*", "tzdata", "tzdata-*"]
# What the stage's HTTP API sends for GET /dev/?e=PAGEVIEW: payload 2.0, the stage in the path.
EVENT = http_event("GET", "/", stage=STAGE, query="e=PAGEVIEW")
MEMORY_SIZES = {"tiny": (1024,), "full": (256, 512, 1024, 1769)}


def package_bare(dest: Path) -> Package:
    """``bench/bare_app.py`` zipped by the same Zappa, venv and stage settings as the counter, then unzipped."""
    project = dest / "bare-project"
    project.mkdir()
    shutil.copy(ROOT / "bench" / "bare_app.py", project)
    # The policies name files of the counter's project; they shape the IAM role, not the zip. The
    # settings callback refuses builds outside deploy/package.py's staged folder, which holds the counter,
    # and the counter's entry point is a module of the counter: the bare app keeps Zappa's own handler.
    settings = {name: value for name, value in stage_settings(STAGE).items()
                if name not in ("attach_policy", "assume_policy", "callbacks", "lambda_handler")}
    settings |= {"app_function": "bare_app.app", "exclude_glob": settings["exclude_glob"] + COUNTER_ONLY,
                 "exclude": settings["exclude"] + ["zappa_settings.json"]}
    (project / "zappa_settings.json").write_text(json.dumps({STAGE: settings}))
    install_tools()
    archive = dest / f"bare-{STAGE}.zip"
    done = subprocess.run([str(DEPLOY_VENV / "bin" / "zappa"), "package", STAGE, "-o", str(archive)], cwd=project,
                          env=offline_environ(VIRTUAL_ENV=str(DEPLOY_VENV)), capture_output=True, text=True,
                          timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"zappa package failed for the bare app:\n{done.stdout}\n{done.stderr}")
    return unpack(STAGE, archive, dest / "bare")


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _checked(name: str, reply: dict[str, Any]) -> None:
    if reply.get("statusCode") != 200:
        raise RuntimeError(f"the {name} package's answer was not 200: {reply}")


def warm_answer(function: LambdaFunction) -> float:
    """Seconds one more answer takes from a function that has answered before."""
    started = time.perf_counter()
    reply = function.invoke(EVENT)
    _checked("warm", reply)
    return time.perf_counter() - started


def pairs(count: int, sides: dict[str, Callable[[], float]]) -> dict[str, Any]:
    """Run ``sides`` in turn ``count`` times; medians in ms, the median ratio of the first side to the second."""
    runs: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(count):
        for name, side in sides.items():
            runs[name].append(_ms(side()))
    first, second = list(runs)[:2]
    return {name: {"median_ms": median(ms), "runs_ms": ms} for name, ms in runs.items()} | {
        "ratio": compare(runs[first], runs[second])}


def compare_starts(packages: dict[str, Package], extra: dict[str, dict[str, str]], count: int,
                   wrapper: Sequence[str] = ()) -> dict[str, Any]:
    """Fresh cold starts of both packages, then restored first answers against the bare app's warm answer."""

    def fresh(name: str) -> Callable[[], float]:
        def start() -> float:
            seconds, reply = cold_start(packages[name], EVENT, wrapper=wrapper, **extra[name])
            _checked(name, reply)
            return seconds
        return start

    def restored() -> float:
        seconds, reply = restored_start(snapshot, EVENT)
        _checked("restored", reply)
        return seconds

    result = {"fresh": pairs(count, {"app": fresh("app"), "bare": fresh("bare")})}
    with ExitStack() as running:
        snapshot = running.enter_context(Snapshot(packages["app"], wrapper=wrapper, **extra["app"]))
        bare = running.enter_context(LambdaFunction(packages["bare"], wrapper=wrapper, **extra["bare"]))
        app = running.enter_context(LambdaFunction(packages["app"], wrapper=wrapper, **extra["app"]))
        for function in (bare, app):
            warm_answer(function)
        result["restored"] = pairs(count, {"restored": restored, "bare_warm": lambda: warm_answer(bare),
                                           "app_warm": lambda: warm_answer(app)})
    return result


def measure(size: Size) -> dict:
    """Build both zips once, then compare at full CPU and at Lambda's CPU share of each memory size."""
    with tempfile.TemporaryDirectory() as tmp, dynalite_app():
        packages = {"app": build(STAGE, Path(tmp)), "bare": package_bare(Path(tmp))}
        # The counter's answers are real increments, into the BENCH table dynalite_app made.
        extra = {"app": {"AWS_ENDPOINT_URL_DYNAMODB": os.environ["AWS_ENDPOINT_URL_DYNAMODB"],
                         "COUNTER_TABLE_PREFIX": "BENCH"}, "bare": {"_HANDLER": ZAPPA_HANDLER}}
        count = size.runs * STARTS_PER_RUN
        result: dict[str, Any] = {"full_cpu": compare_starts(packages, extra, count)}
        unavailable = cpu_share.why_not()
        if unavailable:
            print(f"cold_start: Lambda's CPU share is not measured here ({unavailable}); full CPU only.",
                  file=sys.stderr)
            result["cpu_share"] = {"not_measured": unavailable}
        else:
            result["cpu_share"] = {}
            for memory in MEMORY_SIZES[size.name]:
                with cpu_share.limited(memory) as wrapper:
                    result["cpu_share"][f"{memory} MB"] = {"cpu": round(cpu_share.share(memory), 3)} | \
                        compare_starts(packages, extra, count, wrapper)
        sizes = {name: package.zip.stat().st_size for name, package in packages.items()}
    return result | {"zip_bytes": sizes, "event": "GET /dev/?e=PAGEVIEW (HTTP API, payload 2.0)"}
