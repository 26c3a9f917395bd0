"""What a million counted events cost, each way the counter can be deployed, from measured inputs.

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
# A new kind (an idempotent increment's transaction, say) is a new key here and in the measurement.
WRITES = {"small day item": "an established name, the day item at a few names",
          "full day item": "an established name, the day item at its 4 KB budget",
          "with an id": "COUNTER_IDEMPOTENT_WRITES=transaction: the id's record and the count in one transaction, "
                        "billed double",
          "with an id (stream)": "what counter.js sends, by default: the id record's PutItem, and a 100th of the "
                                 "aggregator's transaction of a batch (the checkpoint and the day item, billed double)"}
DEFAULT = {"front door": "HTTP API", "architecture": "arm64", "write": "small day item"}
SEED = {"front door": "REST API", "architecture": "x86_64", "memory": 256, "write": "small day item"}
SNAP_START_RESTORE = 0.0001397998  # per GB restored (Python); caching is PRICES["snap_start_cache"]
# The smallest VMs that would serve the same load, with 8 GB of gp3 disk; on-demand, Linux, us-east-1.
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


def default(inputs: dict[str, Any], memory: int) -> float:
    """The shipped deployment at ``memory`` (the stage's): an HTTP API, arm64, an established name's write."""
    return per_million(inputs, DEFAULT["front door"], DEFAULT["architecture"], memory, DEFAULT["write"])


def snap_start_month(memory: int, versions: int = 1) -> float:
    """Dollars a month to keep ``versions`` SnapStart snapshots of ``memory`` MB cached."""
    return versions * memory / 1024 * 30 * 86400 * PRICES["snap_start_cache"][0]


def snap_start_restore(memory: int) -> float:
    """Dollars for one restore of a ``memory`` MB snapshot."""
    return memory / 1024 * SNAP_START_RESTORE


def vm_month(hourly: float) -> float:
    """Dollars a month for a VM at ``hourly`` with its 8 GB disk."""
    return hourly * MONTH_HOURS + 8 * DISK_GB_MONTH


def table(inputs: dict[str, Any] | None = None) -> str:
    """Every option's dollars per million counted events, as Markdown: front door × architecture × memory."""
    inputs = inputs or measured()
    memories = sorted(int(memory) for memory in inputs["billed_ms"])
    rows = ["| front door | architecture | " + " | ".join(f"{memory} MB" for memory in memories) + " |",
            "| --- | --- |" + " ---: |" * len(memories)]
    for door in FRONT_DOORS:
        for architecture in ARCHITECTURES:
            cells = [f"${per_million(inputs, door, architecture, memory, DEFAULT['write']):.3f}" for memory in memories]
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
    """The default deployment against the seed's architecture, and the alternatives a user weighs."""
    inputs = inputs or measured()
    memory = default_memory()
    ours, theirs = default(inputs, memory), seed(inputs)
    full = per_million(inputs, DEFAULT["front door"], DEFAULT["architecture"], memory, "full day item")
    once = per_million(inputs, DEFAULT["front door"], DEFAULT["architecture"], memory, "with an id (stream)")
    tied = per_million(inputs, DEFAULT["front door"], DEFAULT["architecture"], memory, "with an id")
    lines = [
        f"- **Default** (HTTP API, arm64, {memory} MB, an established name): **${ours:.3f}** per million counted "
        f"events; **${full:.3f}** when the day item is full ({inputs['write_units']['full day item']:g} write units).",
        f"- **Seed** (REST API, x86_64, 256 MB, one UpdateItem): **${theirs:.3f}** per million.",
        f"- The default costs **{ours / theirs:.0%}** of the seed's architecture (goal: at most 45%).",
        f"- **Counted exactly once** (the default with an `id`, as `counter.js` sends every hit): "
        f"**${once:.3f}** per million ({inputs['write_units']['with an id (stream)']:g} write units), "
        f"{once / theirs:.0%} of the seed, which could not be retried safely at any price; "
        f"${tied:.3f} with COUNTER_IDEMPOTENT_WRITES=transaction ({inputs['write_units']['with an id']:g} write units).",
        f"- SnapStart (prod, {memory} MB): ${snap_start_month(memory):.2f} a month per cached version, and "
        f"${snap_start_restore(memory) * 1000:.3f} per thousand restores.",
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
