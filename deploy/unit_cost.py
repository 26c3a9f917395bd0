"""What a million counted hits cost, each way the counter can be deployed, from measured inputs.

``make cost`` measures the inputs (bench/cost.py writes :data:`MEASURED`) and prints :func:`table`, which
docs/cost.md quotes; a test keeps the two equal. Per counted event, each Lambda option pays:

- its front door: a REST API or an HTTP API request, or nothing behind a Function URL;
- a Lambda request, and the billed duration at the memory size and architecture's price per GB-second;
- the write: write units per increment (:data:`WRITES` names the kinds measured) at DynamoDB's on-demand price;
- CloudWatch Logs for Lambda's START, END and REPORT lines, and the reply's bytes out to the internet.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .cost import GB, PRICES

MEASURED = Path(__file__).resolve().parent / "measured.json"
MILLION = 1_000_000
FRONT_DOORS = {"REST API": "rest_api", "HTTP API": "http_api", "Function URL": None}
ARCHITECTURES = ("x86_64", "arm64")
# How a deployment writes one increment: the write kinds bench/cost.py measures with ReturnConsumedCapacity.
# A new kind is a new key here and in the measurement; BROWSER names the one a hit from counter.js makes.
WRITES = {"small day item": "an established name, the day item at a few names",
          "full day item": "an established name, the day item at its 4 KB budget",
          "with an id": "COUNTER_IDEMPOTENT_WRITES=transaction: the id's record and the count in one transaction, "
                        "billed double",
          "with an id (stream)": "what counter.js sends, by default: the id record's PutItem, and a 100th of the "
                                 "aggregator's transaction of a batch (the checkpoint and the day item, billed double)"}
BROWSER = "with an id (stream)"  # counter.js sends an id with every hit, so this write is what a website pays for
TRANSACTION = "with an id"  # the same hit with COUNTER_IDEMPOTENT_WRITES=transaction
BACKEND = "small day item"  # an increment without an id, of a name the day already has
DEFAULT = {"front door": "HTTP API", "architecture": "arm64"}
SEED = {"front door": "REST API", "architecture": "x86_64", "memory": 256, "write": BACKEND}
# A restore's billed duration (loading the runtime, the after-restore hooks): at most the restored first answer,
# 87 ms at 512 MB in make bench's cold-start part (docs/cost.md#memory-512-mb).
RESTORE_SECONDS = 0.1
RESTORES_A_MONTH = 3000  # a small site: a new execution environment every quarter of an hour or so
# The smallest VMs that would serve the same load, with 8 GB of gp3 disk and a public IPv4 address; on-demand, Linux,
# US East (N. Virginia) prices: Ireland's were not found to cite.
VMS = {"GoatCounter (SQLite) on a t4g.nano, 0.5 GB": 0.0042, "Plausible (ClickHouse, Postgres) on a t4g.small, 2 GB":
       0.0168}
DISK_GB_MONTH = 0.08
MONTH_HOURS = 730


def measured(path: Path = MEASURED) -> dict[str, Any]:
    """The inputs ``make cost`` measured last: billed ms per memory size, write units per kind, log and reply bytes."""
    return json.loads(path.read_text())


def per_million(inputs: dict[str, Any], front_door: str, architecture: str, memory: int, write: str) -> float:
    """US dollars per million counted events of one option."""
    billed_ms = inputs["billed_ms"][str(memory)]
    door = FRONT_DOORS[front_door]
    return (
        (PRICES[door][0] if door else 0.0)
        + PRICES["lambda_requests"][0]
        + MILLION * billed_ms / 1000 * memory / 1024 * PRICES[architecture][0]
        + inputs["write_units"][write] * PRICES["write_units"][0]
        + MILLION * inputs["log_bytes"] / GB * PRICES["logs_ingested"][0]
        + MILLION * inputs["reply_bytes"] / GB * PRICES["transfer_out"][0]
    )


def default_memory(stage: str = "prod") -> int:
    """The memory the stage ships with."""
    from .stages import stage_settings

    return stage_settings(stage)["memory_size"]


def seed(inputs: dict[str, Any]) -> float:
    """The counter as it started: a REST API, x86_64, 256 MB, one UpdateItem of one write unit an event."""
    return per_million(inputs, SEED["front door"], SEED["architecture"], SEED["memory"], SEED["write"])


def default(inputs: dict[str, Any], memory: int, write: str = BROWSER) -> float:
    """The shipped deployment at ``memory`` (the stage's), an HTTP API on arm64, for a ``write`` (a browser hit's)."""
    return per_million(inputs, DEFAULT["front door"], DEFAULT["architecture"], memory, write)


def headline(inputs: dict[str, Any] | None = None) -> str:
    """Dollars per million browser hits on the shipped deployment, as the README quotes them."""
    return f"${default(inputs or measured(), default_memory()):.2f}"


def snap_start_month(memory: int, versions: int = 1) -> float:
    """Dollars a month to keep ``versions`` SnapStart snapshots of ``memory`` MB cached."""
    return versions * memory / 1024 * 30 * 86400 * PRICES["snap_start_cache"][0]


def snap_start_restore(memory: int, architecture: str = "arm64") -> float:
    """Dollars for one restore of a ``memory`` MB snapshot: the GB restored and its billed duration."""
    return memory / 1024 * (PRICES["snap_start_restore"][0] + RESTORE_SECONDS * PRICES[architecture][0])


def vm_month(hourly: float) -> float:
    """Dollars a month for a VM at ``hourly`` with its 8 GB disk and its public IPv4 address."""
    return (hourly + PRICES["public_ipv4"][0]) * MONTH_HOURS + 8 * DISK_GB_MONTH


def table(inputs: dict[str, Any] | None = None) -> str:
    """Every option's dollars per million browser hits, as Markdown: front door × architecture × memory."""
    inputs = inputs or measured()
    memories = sorted(int(memory) for memory in inputs["billed_ms"])
    rows = ["| front door | architecture | " + " | ".join(f"{memory} MB" for memory in memories) + " |",
            "| --- | --- |" + " ---: |" * len(memories)]
    for door in FRONT_DOORS:
        for architecture in ARCHITECTURES:
            cells = [f"${per_million(inputs, door, architecture, memory, BROWSER):.3f}" for memory in memories]
            rows.append(f"| {door} | {architecture} | " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def inputs_table(inputs: dict[str, Any] | None = None) -> str:
    """The measured inputs, as Markdown."""
    inputs = inputs or measured()
    rows = ["| memory | CPU share | billed ms per increment: mean (median, p90) |", "| ---: | ---: | ---: |"]
    rows += [f"| {memory} MB | {min(int(memory) / 1769, 1):.3f} vCPU | {ms:g} ({inputs['median_ms'][memory]:g}, "
             f"{inputs['p90_ms'][memory]:g}) |" for memory, ms in inputs["billed_ms"].items()]
    rows += ["", "| write | what | write units |", "| --- | --- | ---: |"]
    rows += [f"| {kind} | {WRITES.get(kind, '')} | {units:g} |" for kind, units in inputs["write_units"].items()]
    rows += ["", f"Lambda's log lines: {inputs['log_bytes']} bytes an event; the reply: {inputs['reply_bytes']} bytes."]
    return "\n".join(rows) + "\n"


def summary(inputs: dict[str, Any] | None = None) -> str:
    """The default deployment for a browser and for a backend, against the seed, and the alternatives a user weighs."""
    from .cost import snap_start_versions
    from .stages import stage_settings

    inputs = inputs or measured()
    memory, units = default_memory(), inputs["write_units"]
    hit, tied, plain, full = (default(inputs, memory, write)
                              for write in (BROWSER, TRANSACTION, BACKEND, "full day item"))
    theirs, versions = seed(inputs), snap_start_versions(stage_settings("prod"))
    restore = snap_start_restore(memory)
    lines = [
        f"- **A hit from the browser** (`counter.js` sends an `id` with each; the shipped default: HTTP API, arm64, "
        f"{memory} MB; the write \"{BROWSER}\", {units[BROWSER]:g} write units): **${hit:.3f}** per million; "
        f"${tied:.3f} with COUNTER_IDEMPOTENT_WRITES=transaction ({units[TRANSACTION]:g} write units).",
        f"- **An increment without an `id`** (a backend's, of an established name, {units[BACKEND]:g} write unit): "
        f"**${plain:.3f}** per million; **${full:.3f}** when the day item is full ({units['full day item']:g} write "
        "units).",
        f"- **Seed** (REST API, x86_64, 256 MB, one UpdateItem): **${theirs:.3f}** per million; for the same write the "
        f"default costs **{plain / theirs:.0%}** of it.",
        f"- SnapStart (prod, {memory} MB): ${snap_start_month(memory):.2f} a month per cached version, "
        f"${snap_start_month(memory, versions):.2f} for the {versions} a deploy leaves; restores "
        f"${restore * 1000:.3f} per thousand with their billed duration, ${restore * RESTORES_A_MONTH:.2f} for "
        f"{RESTORES_A_MONTH:,} a month.",
    ]
    for name, hourly in VMS.items():
        month = vm_month(hourly)
        lines.append(f"- {name}: ${month:.2f} a month whatever the traffic: ${month:.2f} per million at 1 million "
                     f"events a month, ${month / 10:.3f} at 10 million, ${month / 100:.4f} at 100 million "
                     "(plus data out, as above).")
    return "\n".join(lines) + "\n"


def report(inputs: dict[str, Any] | None = None) -> str:
    """All of it, as ``make cost`` prints it, from ``inputs`` (or :data:`MEASURED`) read once."""
    inputs = inputs or measured()
    return f"{inputs_table(inputs)}\n{table(inputs)}\n{summary(inputs)}"
