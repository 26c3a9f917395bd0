"""Who is a visitor: crawlerdetect's list of bots, and the few rules below that it lacks.

Each extra rule names agents seen in real traffic that crawlerdetect 0.4.2 takes for a person.
tests/data/user_agents.tsv holds the agents the rules are tested on, people's and tools'.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from werkzeug.datastructures import Headers

# No browser's agent is longer, and crawlerdetect's regex costs about 30 ms per
# 1,000 characters, so a longer agent is not examined: it hides a name past the cut.
AGENT_CHARS = 512
# HTTP clients, load testers and monitors that name themselves first, and PowerShell's
# Invoke-WebRequest, which poses as Mozilla. crawlerdetect knows curl, wget and most others.
TOOLS = re.compile(
    r"^(?:hey|oha|k6|Grafana k6|Deno|Bun|node|undici|insomnia|Thunder Client|Artillery|Java-http-client"
    r"|Prometheus|Blackbox Exporter|Consul Health Check|Datadog)\b|PowerShell/",
    re.IGNORECASE,
)
# Mail services fetch an e-mail's images when a person opens it: Gmail and Yahoo through
# their image proxies, Outlook on the desktop itself. crawlerdetect lists them as bots.
MAIL_READERS = re.compile(r"GoogleImageProxy|YahooMailProxy|Microsoft Outlook")
# A prefetch or prerender fetches what a person may never see: Sec-Purpose (Chrome's
# speculation rules), Purpose (older Chrome and Safari) and X-Moz (Firefox).
PREFETCH_HEADERS = ("Sec-Purpose", "Purpose", "X-Moz")


def is_prefetch(headers: Headers) -> bool:
    """Whether the request says it is a prefetch."""
    return any("prefetch" in headers.get(name, "").lower() for name in PREFETCH_HEADERS)


def is_bot(user_agent: str, *, mail: bool = False) -> bool:
    """Whether ``user_agent`` is no person's: empty, too long, a tool, or a crawler crawlerdetect knows.

    :param mail: the request fetches an image that mail services fetch for a person reading an e-mail.
    """
    agent = user_agent.strip()
    if not agent or len(agent) > AGENT_CHARS:
        return True
    if mail and MAIL_READERS.search(agent):
        return False
    return bool(TOOLS.search(agent)) or _detector().is_crawler(agent)


@functools.cache
def _detector() -> Any:
    # Imported and built once per process on first use: the import and its
    # big regular expressions stay out of a cold start that never sees a bot check.
    from crawlerdetect import CrawlerDetect

    return CrawlerDetect()
