"""Part 3: cold start, a fresh process to the first answer through the packaged Zappa handler, against a bare app."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from bench import ROOT, Size, compare, median
from bench.dynamo import dynalite_app
from deploy.stages import stage_settings
from tests.lambda_package import (
    DEPLOY_VENV,
    Package,
    build,
    cold_start,
    install_tools,
    offline_environ,
    rest_event,
    unpack,
)

STAGE = "dev"
STARTS_PER_RUN = 2  # cold starts of each side per Size.runs: tiny makes 2 pairs, full 10
# The counter's own libraries: the bare package is Flask and Zappa's handler alone.
COUNTER_ONLY = ["flask_cors", "flask_cors-*", "crawlerdetect", "crawlerdetect-*", "tzdata", "tzdata-*"]
EVENT = rest_event(STAGE, "GET", "/", query={"e": "PAGEVIEW"})


def package_bare(dest: Path) -> Package:
    """``bench/bare_app.py`` zipped by the same Zappa, venv and stage settings as the counter, then unzipped."""
    project = dest / "bare-project"
    project.mkdir()
    shutil.copy(ROOT / "bench" / "bare_app.py", project)
    # attach_policy names a file of the counter's project; it shapes the IAM role, not the zip. The
    # prebuild_script refuses builds outside deploy/package.py's staged folder, which holds the counter.
    settings = {name: value for name, value in stage_settings(STAGE).items()
                if name not in ("attach_policy", "prebuild_script")}
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


def measure(size: Size) -> dict:
    """Build both zips once, then alternate cold starts (counter, bare, ...); medians, the median ratio, zip sizes."""
    with tempfile.TemporaryDirectory() as tmp, dynalite_app():
        packages = {"app": build(STAGE, Path(tmp)), "bare": package_bare(Path(tmp))}
        # The counter's first answer is a real increment, into the BENCH table dynalite_app made.
        extra = {"app": {"AWS_ENDPOINT_URL_DYNAMODB": os.environ["AWS_ENDPOINT_URL_DYNAMODB"],
                         "COUNTER_TABLE_PREFIX": "BENCH"}, "bare": {}}
        runs: dict[str, list[float]] = {name: [] for name in packages}
        for _ in range(size.runs * STARTS_PER_RUN):
            for name, package in packages.items():
                seconds, reply = cold_start(package, EVENT, **extra[name])
                if reply.get("statusCode") != 200:
                    raise RuntimeError(f"the {name} package's first answer was not 200: {reply}")
                runs[name].append(round(seconds * 1000, 1))
        sizes = {name: package.zip.stat().st_size for name, package in packages.items()}
    result: dict = {name: {"median_ms": median(ms), "zip_bytes": sizes[name], "runs_ms": ms}
                    for name, ms in runs.items()}
    return result | {"ratio": compare(runs["app"], runs["bare"]), "event": "GET /?e=PAGEVIEW (REST API, payload 1.0)"}
