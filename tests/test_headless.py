"""docs/web.md: headless agents are not counted, and the way it gives to test a snippet is the browser tests' own."""

from __future__ import annotations

import re
from pathlib import Path

from counter_app.agents import is_bot
from tests.browser import ARGS

WEB = Path(__file__).resolve().parent.parent / "docs" / "web.md"
HEADLESS = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 "
            "Safari/537.36")


def test_headless_chromium_is_answered_but_not_counted(client):
    reply = client.get("/?e=PAGEVIEW", headers={"User-Agent": HEADLESS})
    assert reply.status_code == 200 and reply.json["counted"] is False
    assert is_bot(HEADLESS)


def test_the_docs_give_the_browser_tests_agent_flag():
    text = WEB.read_text()
    assert "## Testing a snippet in a headless browser" in text
    agent = re.search(r'^AGENT = "(.+)"$', text, re.M)[1]
    assert f"--user-agent={agent}" in ARGS and not is_bot(agent)
