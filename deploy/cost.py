"""The most a stage can cost in a month: every request its throttle admits, every reserved instance busy.

``python -m deploy bill`` prints the table that docs/deploying.md quotes; a test keeps the two equal.
"""

from __future__ import annotations

import re
from typing import Any

from .stages import stage_settings

REGION = "eu-west-1"  # where both stages run (zappa_settings.json's aws_region)
PRICES_AS_OF = ("AWS list prices for Europe (Ireland), eu-west-1, from AWS's Price List offer files published in "
                "September and October 2026, in US dollars, without free tiers")
PRICES = {  # name: (dollars, what for)
    "rest_api": (3.50, "API Gateway REST API, per million requests (the first 333 million a month)"),
    "http_api": (1.11, "API Gateway HTTP API, per million requests, each metered in 512 KB steps (the first 300 "
                       "million a month)"),
    "lambda_requests": (0.20, "Lambda, per million requests"),
    "x86_64": (0.0000166667, "Lambda on x86_64, per GB-second"),
    "arm64": (0.0000133334, "Lambda on arm64, per GB-second"),
    "write_units": (0.705, "DynamoDB on-demand, per million write request units"),
    "read_units": (0.141, "DynamoDB on-demand, per million read request units (a fifth of the write price, as in "
                          "US East's $0.125 and $0.625: Ireland's was not in the files read)"),
    "logs_ingested": (0.57, "CloudWatch Logs, per GB ingested"),
    "logs_stored": (0.03, "CloudWatch Logs, per GB stored for a month"),
    "transfer_out": (0.09, "Data transfer out to the internet, per GB (the first 10 TB a month)"),
    "snap_start_cache": (0.0000015046, "Lambda SnapStart (Python), per GB-second a version's snapshot is cached "
                                       "(US East's price: we found none published for Ireland)"),
    "snap_start_restore": (0.0001397998, "Lambda SnapStart (Python), per GB restored (US East's price, likewise)"),
    "public_ipv4": (0.005, "A public IPv4 address, per hour (since 1 February 2024)"),
    "cloudfront_requests": (1.20, "CloudFront, per million HTTPS requests from viewers in Europe (United States: "
                                  "$1.00)"),
    "cloudfront_to_origin": (0.02, "CloudFront, data transfer to the origin, per GB (Europe and the United States)"),
    "waf_requests": (0.60, "AWS WAF, per million requests a web ACL inspects (every region)"),
    "waf_monthly": (7.00, "AWS WAF, a web ACL ($5) and its two rules ($1 each), per month (every region)"),
}
MONTH_SECONDS = 30 * 86400
GB = 1024**3
# API Gateway throttles each route (REST: each method) on its own: Zappa's REST API has two
# (ANY / and ANY /{proxy+}), its HTTP API one ($default).
ROUTES = {"v1": 2, "v2": 1}
# The worst increment an attack can keep up: a write to a day's newcomers item, which holds at most
# NEWCOMERS_BYTES of names (32 KB: 32 write units). Established names cost at most 4 units, and a
# name that cannot get in is refused with no call once an instance has seen that. Sent with an id
# (anyone may send one), on the default stream path that write is the id record's PutItem (under 1 KB:
# 1 unit), and the aggregator adds it to the newcomers item in a transaction with its checkpoint (under
# 1 KB), which DynamoDB bills twice; a hit alone in its batch (a throttled attacker's are few a second)
# pays that transaction alone: 1 + 2 x (32 + 1). (COUNTER_IDEMPOTENT_WRITES=transaction: 2 x (32 + 1).)
# A name's first count also claims its room in the next day's item, but only a day's few hundred names
# that fit are ever placed, so that write is not one an attack can repeat.
WRITE_UNITS_PER_REQUEST = 1 + 2 * (32 + 1)
# A hit alone in its batch is also one more invocation of the function: the aggregator's (same memory, same
# reserved concurrency, so the compute line's cap holds), with Lambda's log lines.
INVOCATIONS_PER_REQUEST = 2
# A badge read without the token (COUNTER_PUBLIC_BADGES=true) spans at most PUBLIC_BADGE_DAYS days (31): two
# strongly consistent reads a day, billed per 4 KB of each item, not of what is returned: a day item under
# 4 KB (1 unit) and a newcomers item of at most 32,000 bytes of names and its bookkeeping (8). A badge of
# visitors (show=visitors) reads the day's two visitors items as well, each the size of its counts item.
BADGE_READ_UNITS = 31 * 2 * (1 + 8)
# HTTP APIs meter a request in 512 KB steps and take payloads up to 10 MB: one flooding request with the largest
# body bills as 20 (12 even if only Lambda's 6 MB reached the function). No setting caps a body before that.
HTTP_API_STEP_BYTES = 512 * 1024
LARGEST_BODY_BYTES = 10 * 1024 * 1024
FRONT_DOOR_BODY_BYTES = 16 * 1024  # the front door's WAF refuses a larger body (deploy/frontdoor.py)
LOG_BYTES_PER_REQUEST = 1024  # Lambda's START, END and REPORT lines (about 350 bytes) and one app line
LARGEST_REPLY_BYTES = 48 * 1024  # /openapi.json and its headers: the largest reply without the read token


def requests_per_month(config: dict[str, Any]) -> int:
    """The requests the stage's throttle admits in 30 days, every route flat out."""
    return round(config["api_throttle_rate"] * ROUTES[config.get("apigateway_version", "v1")] * MONTH_SECONDS)


def metered(config: dict[str, Any]) -> int:
    """How many requests API Gateway bills for one with the largest body: a REST API one, an HTTP API one per 512 KB.

    Behind the front door no body over FRONT_DOOR_BODY_BYTES reaches API Gateway (WAF refuses it), so one."""
    largest = FRONT_DOOR_BODY_BYTES if config.get("waf_rate_limit") is not None else LARGEST_BODY_BYTES
    return 1 if config.get("apigateway_version", "v1") == "v1" else -(-largest // HTTP_API_STEP_BYTES)


def worst_case(config: dict[str, Any]) -> dict[str, float]:
    """Each line of the stage's worst monthly bill, in US dollars."""
    requests = requests_per_month(config)
    # No more instances than reserved, none busy longer than its timeout.
    busy = min(requests * config["timeout_seconds"], config["lambda_concurrency"] * MONTH_SECONDS)
    logs_gb = requests * INVOCATIONS_PER_REQUEST * LOG_BYTES_PER_REQUEST / GB
    door = "rest_api" if config.get("apigateway_version", "v1") == "v1" else "http_api"
    return {
        "API Gateway": requests * metered(config) / 1e6 * _price(door),
        "Lambda requests": requests * INVOCATIONS_PER_REQUEST / 1e6 * _price("lambda_requests"),
        "Lambda compute": busy * config["memory_size"] / 1024 * _price(config.get("architecture", "x86_64")),
        "DynamoDB writes": requests * WRITE_UNITS_PER_REQUEST / 1e6 * _price("write_units"),
        "DynamoDB reads (public badges)": public_badge_reads(config, requests),
        "CloudWatch Logs": logs_gb * (_price("logs_ingested") + config["log_retention_days"] / 30
                                      * _price("logs_stored")),
        "Data transfer out": requests * LARGEST_REPLY_BYTES / GB * _price("transfer_out"),
        **alerts_and_metrics(config),
        "SnapStart cache": (snap_start_versions(config) * config["memory_size"] / 1024 * MONTH_SECONDS
                            * _price("snap_start_cache") if config.get("snap_start", "None") != "None" else 0.0),
        **front_door(config, requests),
    }


def public_badge_reads(config: dict[str, Any], requests: int) -> float:
    """What the stage's badges cost if every request were one read without the token; 0 unless they are public.

    Added to the writes although a request is one or the other: the total stays an upper bound.
    """
    public = str(config["aws_environment_variables"].get("COUNTER_PUBLIC_BADGES", "false")).lower() == "true"
    return requests * BADGE_READ_UNITS / 1e6 * _price("read_units") if public else 0.0


def snap_start_versions(config: dict[str, Any]) -> int:
    """The published versions that hold a cached snapshot: Zappa 0.63 keeps ``num_retained_versions``, then publishes
    one more to apply the new configuration (zappa/core.py, update_lambda_function and update_lambda_configuration)."""
    return config["num_retained_versions"] + 1


def front_door(config: dict[str, Any], requests: float) -> dict[str, float]:
    """The front door's lines (``waf_rate_limit``: CloudFront and a WAF web ACL): its fixed price, and CloudFront's
    and WAF's price for the requests the throttle admits, each with a body of at most FRONT_DOOR_BODY_BYTES on its
    way to the origin. What they refuse is billed too: see docs/abuse.md."""
    if config.get("waf_rate_limit") is None:
        return {"WAF web ACL and rules": 0.0, "CloudFront and WAF requests": 0.0}
    to_origin = requests * FRONT_DOOR_BODY_BYTES / GB * _price("cloudfront_to_origin")
    return {"WAF web ACL and rules": _price("waf_monthly"),
            "CloudFront and WAF requests": requests / 1e6 * refused_per_million() + to_origin}


def refused_per_million() -> float:
    """What each million requests the front door refuses (WAF's 429 or 413) costs: CloudFront's and WAF's price."""
    return _price("cloudfront_requests") + _price("waf_requests")


def _price(name: str) -> float:
    return PRICES[name][0]


def price_list() -> str:
    """The prices the bill uses, as a Markdown list."""
    return f"{PRICES_AS_OF}:\n\n" + "".join(f"- {what}: ${_dollars(dollars)}\n" for dollars, what in PRICES.values())


def _dollars(amount: float) -> str:
    return f"{amount:.2f}" if round(amount, 2) == amount else f"{amount:.10f}".rstrip("0")


def bill_table(stages: tuple[str, ...] = ("dev", "prod")) -> str:
    """The worst-case bill of each stage as a Markdown table, with the settings it follows from; a stage with a
    front door is also shown without it."""
    configs = [stage_settings(stage) for stage in stages]
    without = [(f"{stage} without front door", {k: v for k, v in config.items() if k != "waf_rate_limit"})
               for stage, config in zip(stages, configs) if config.get("waf_rate_limit") is not None]
    stages = (*stages, *(label for label, _ in without))
    configs += [config for _, config in without]
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
        "| each billed by API Gateway as | " + " | ".join(f"{metered(c)} requests" for c in configs) + " |",
    ]
    rows += [f"| {line} | " + " | ".join(f"${bill[line]:,.2f}" for bill in bills) + " |" for line in bills[0]]
    rows.append("| **total** | " + " | ".join(f"**${sum(bill.values()):,.2f}**" for bill in bills) + " |")
    return "\n".join(rows) + "\n"


# The alert check, a scheduled event of the function outside the API's throttle, and one /metrics scrape a minute
# (docs/alerts.md derives each bound; tests/test_alerts_cost.py measures the items they rest on). Their compute is
# inside the reserved instances' line, which already counts every instance busy all month.
CHECK_READ_UNITS = 2 + 80 + 2 * (1 + 9)  # marks, observed hours (5 events' worst), today's and yesterday's items
OBSERVE_WRITE_UNITS = 315  # once an hour: an UpdateItem costs the observed-hours item's size in KB
SCRAPE_READ_UNITS = 0.5 + 2 * 2 * (1 + 9) + 2  # health check, the two days' items and visitors items, the marks
SCRAPES_PER_MONTH = MONTH_SECONDS // 60


def checks_per_month(config: dict[str, Any]) -> int:
    """Scheduled alert checks in 30 days, from the ``rate(N minutes|hours|days)`` of the stage's ``events``."""
    checks = 0
    for event in config.get("events", []):
        if event["function"] == "counter_app.alerts.scheduled":
            found = re.fullmatch(r"rate\((\d+) (minute|hour|day)s?\)", event["expression"])
            if not found:
                raise ValueError(f"the bill counts alert checks of a rate(...) schedule, not {event['expression']}")
            number, unit = found.groups()
            checks += MONTH_SECONDS // (int(number) * {"minute": 60, "hour": 3600, "day": 86400}[unit])
    return checks


def alerts_and_metrics(config: dict[str, Any]) -> dict[str, float]:
    """The alert checks' and a scrape a minute's own lines of the bill: Lambda requests, reads, writes, logs."""
    checks = checks_per_month(config)
    hours = min(checks, MONTH_SECONDS // 3600)  # the hour's first check writes its observation
    return {
        "Alert checks": (checks / 1e6 * _price("lambda_requests") + checks * CHECK_READ_UNITS / 1e6
                         * _price("read_units") + hours * OBSERVE_WRITE_UNITS / 1e6 * _price("write_units")
                         + checks * LOG_BYTES_PER_REQUEST / GB * _price("logs_ingested")),
        "/metrics, a scrape a minute": SCRAPES_PER_MONTH * SCRAPE_READ_UNITS / 1e6 * _price("read_units"),
    }
