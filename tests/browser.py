"""Headless Chromium from Debian, driven by Playwright: it cannot download its own browser here."""

from __future__ import annotations

from tests.debian import ensure

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps calling hosts this
# offline machine cannot reach.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # crawlerdetect rightly calls "HeadlessChrome" a bot; these tests stand in for people.
    "--user-agent=Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0.0.0 Safari/537.36",
]


def ensure_chromium() -> str:
    """Install Debian's chromium package when it is missing; return its path."""
    return ensure("chromium", CHROMIUM)


def launch(playwright):
    """Launch headless Debian Chromium through a started Playwright."""
    return playwright.chromium.launch(executable_path=ensure_chromium(), headless=True, args=ARGS)
