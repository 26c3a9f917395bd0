"""The most a stage can cost in a month: every request its throttle admits, every reserved instance busy.

``python -m deploy bill`` prints the table that docs/deploying.md quotes; a test keeps the two equal.
"""

from __future__ import annotations

from typing import Any

from .stages import stage_settings

PRICES_AS_OF = "AWS list prices for US East (N. Virginia) as published in 2025, in US dollars, without free tiers"
PRICES = {  # name: (dollars, what for)
    "rest_api": (3.50, "API Gateway REST API, per million requests (the first 333 million a month)"),
    "http_api": (1.00, "API Gateway HTTP API, per million requests (the first 300 million a month)"),
    "lambda_requests": (0.20, "Lambda, per million requests"),
    "x86_64": (0.0000166667, "Lambda on x86_64, per GB-second"),
    "arm64": (0.0000133334, "Lambda on arm64, per GB-second"),
    "write_units": (0.625, "DynamoDB on-demand, per million write request units (since 1 November 2024)"),
    "read_units": (0.125, "DynamoDB on-demand, per million read request units (since 1 November 2024)"),
    "logs_ingested": (0.50, "CloudWatch Logs, per GB ingested"),
    "logs_stored": (0.03, "CloudWatch Logs, per GB stored for a month"),
    "transfer_out": (0.09, "Data transfer out to the internet, per GB (the first 10 TB a month)"),
    "snap_start_cache": (0.0000015046, "Lambda SnapStart (Python), per GB-second a version's snapshot is cached"),
}
MONTH_SECONDS = 30 * 86400
GB = 1024**3
# API Gateway throttles each route (REST: each method) on its own: Zappa's REST API has two
# (ANY / and ANY /{proxy+}), its HTTP API one ($default).
ROUTES = {"v1": 2, "v2": 1}
# The worst increment an attack can keep up: a write to a day's newcomers item, which holds at most
# NEWCOMERS_BYTES of names (32 KB: 32 write units). Established names cost at most 4 units, and a
# name that cannot get in is refused with no call once an instance has seen that. Sent with an id
# (anyone may send one), that write is a TransactWriteItems with the id's Put (under 1 KB), and
# DynamoDB bills transactional writes twice: 2 x (32 + 1).
WRITE_UNITS_PER_REQUEST = 2 * (32 + 1)
# A badge read without the token (COUNTER_PUBLIC_BADGES=true) spans at most PUBLIC_BADGE_DAYS days (31): two
# strongly consistent reads a day, billed per 4 KB of each item, not of what is returned: a day item under
# 4 KB (1 unit) and a newcomers item of at most 32,000 bytes of names and its bookkeeping (8).
BADGE_READ_UNITS = 31 * (1 + 8)
LOG_BYTES_PER_REQUEST = 1024  # Lambda's START, END and REPORT lines (about 350 bytes) and one app line
LARGEST_REPLY_BYTES = 48 * 1024  # /openapi.json and its headers: the largest reply without the read token


def requests_per_month(config: dict[str, Any]) -> int:
    """The requests the stage's throttle admits in 30 days, every route flat out."""
    return round(config["api_throttle_rate"] * ROUTES[config.get("apigateway_version", "v1")] * MONTH_SECONDS)


def worst_case(config: dict[str, Any]) -> dict[str, float]:
    """Each line of the stage's worst monthly bill, in US dollars."""
    requests = requests_per_month(config)
    # No more instances than reserved, none busy longer than its timeout.
    busy = min(requests * config["timeout_seconds"], config["lambda_concurrency"] * MONTH_SECONDS)
    logs_gb = requests * LOG_BYTES_PER_REQUEST / GB
    return {
        "API Gateway": requests / 1e6 * _price("rest_api" if config.get("apigateway_version", "v1") == "v1"
                                               else "http_api"),
        "Lambda requests": requests / 1e6 * _price("lambda_requests"),
        "Lambda compute": busy * config["memory_size"] / 1024 * _price(config.get("architecture", "x86_64")),
        "DynamoDB writes": requests * WRITE_UNITS_PER_REQUEST / 1e6 * _price("write_units"),
        "DynamoDB reads (public badges)": public_badge_reads(config, requests),
        "CloudWatch Logs": logs_gb * (_price("logs_ingested") + config["log_retention_days"] / 30
                                      * _price("logs_stored")),
        "Data transfer out": requests * LARGEST_REPLY_BYTES / GB * _price("transfer_out"),
        # Every retained version keeps its snapshot cached while it is active.
        "SnapStart cache": (config["num_retained_versions"] * config["memory_size"] / 1024 * MONTH_SECONDS
                            * _price("snap_start_cache") if config.get("snap_start", "None") != "None" else 0.0),
    }


def public_badge_reads(config: dict[str, Any], requests: int) -> float:
    """What the stage's badges cost if every request were one read without the token; 0 unless they are public.

    Added to the writes although a request is one or the other: the total stays an upper bound.
    """
    public = str(config["aws_environment_variables"].get("COUNTER_PUBLIC_BADGES", "false")).lower() == "true"
    return requests * BADGE_READ_UNITS / 1e6 * _price("read_units") if public else 0.0


def _price(name: str) -> float:
    return PRICES[name][0]


def price_list() -> str:
    """The prices the bill uses, as a Markdown list."""
    return f"{PRICES_AS_OF}:\n\n" + "".join(f"- {what}: ${_dollars(dollars)}\n" for dollars, what in PRICES.values())


def _dollars(amount: float) -> str:
    return f"{amount:.2f}" if round(amount, 2) == amount else f"{amount:.10f}".rstrip("0")


def bill_table(stages: tuple[str, ...] = ("dev", "prod")) -> str:
    """The worst-case bill of each stage as a Markdown table, with the settings it follows from."""
    configs = [stage_settings(stage) for stage in stages]
    bills = [worst_case(config) for config in configs]
    rows = [
        "| | " + " | ".join(stages) + " |",
        "| --- |" + " ---: |" * len(stages),
        "| throttle per route (routes) | " + " | ".join(
            f"{c['api_throttle_rate']}/s, bursts of {c['api_throttle_burst']} "
            f"({ROUTES[c.get('apigateway_version', 'v1')]})" for c in configs) + " |",
        "| reserved concurrency × memory | " + " | ".join(
            f"{c['lambda_concurrency']} × {c['memory_size']} MB" for c in configs) + " |",
        "| requests a month, at most | " + " | ".join(f"{requests_per_month(c) / 1e6:.2f} M" for c in configs) + " |",
    ]
    rows += [f"| {line} | " + " | ".join(f"${bill[line]:,.2f}" for bill in bills) + " |" for line in bills[0]]
    rows.append("| **total** | " + " | ".join(f"**${sum(bill.values()):,.2f}**" for bill in bills) + " |")
    return "\n".join(rows) + "\n"
