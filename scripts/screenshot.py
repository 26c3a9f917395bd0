"""Seed demo counts into a temporary SQLite store, serve the app, and save the dashboard's screenshots with Chromium.

Run it with ``make screenshot`` (or ``PYTHONPATH=. .venv/bin/python scripts/screenshot.py [FOLDER]``): it writes
``docs/screenshots/dashboard-<range>-<width>.png`` for each range in ``RANGES`` at each width in ``WIDTHS``.
"""

from __future__ import annotations

import math
import random
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from counter_app import create_app
from counter_app.store import get_store
from tests.live import LiveServer

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "screenshots"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)  # fixed, so the pictures only change with the code
WIDTHS = (1280, 375)
RANGES = {  # name: the dashboard's query
    "30-days": "",
    "90-days-weeks": "from=20260830&to=20261127&group=week",
    "366-days-months": "from=20251127&to=20261127",
}
# Events of very different sizes: the small ones lie flat next to PAGEVIEW, so each gets its own chart too.
EVENTS = {"PAGEVIEW": 1.0, "SIGNUP": 0.06, "DOWNLOAD": 0.15, "SHARE": 0.012, "CHECKOUT": 0.004}


def demo_rows(days: int = 2 * 366) -> list[tuple[int, str, int]]:
    """Plausible daily counts up to ``NOW``: a weekly rhythm, growth, a season, and quiet days."""
    rng = random.Random(6)
    rows = []
    for back in range(days):
        day = NOW.date() - timedelta(days=back)
        weekday = 0.55 if day.weekday() >= 5 else 1.0
        growth = 1 + (days - back) / days
        season = 1 + 0.25 * math.sin(2 * math.pi * day.timetuple().tm_yday / 365)
        views = 180 * weekday * growth * season
        key = int(day.strftime("%Y%m%d"))
        for event, share in EVENTS.items():
            count = int(views * share * rng.uniform(0.85, 1.15) ** (1 / share ** 0.25))
            if event == "DOWNLOAD" and back % 9 == 4:  # days without downloads stay at zero on the chart
                continue
            rows.append((key, event, count))
    return rows


def shoot(browser: Any, folder: Path = OUTPUT) -> list[Path]:
    """Serve a seeded app and write a full-page PNG of the dashboard per range and width; return their paths."""
    written = []
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"STORE": f"sqlite:///{tmp}/demo.sqlite3", "CLOCK": lambda: NOW})
        with app.app_context():
            get_store().write_many(demo_rows(), replace=True)
        with LiveServer(app) as server:
            for width in WIDTHS:
                context = browser.new_context(viewport={"width": width, "height": 800})
                try:
                    page = context.new_page()
                    for name, query in RANGES.items():
                        reply = page.goto(f"{server.url}/dashboard?{query}")
                        if reply is None or reply.status != 200:
                            raise RuntimeError(f"the dashboard answered {reply and reply.status} for {query!r}")
                        path = folder / f"dashboard-{name}-{width}.png"
                        page.screenshot(path=str(path), full_page=True)
                        written.append(path)
                finally:
                    context.close()
    return written


def main() -> None:
    """Launch Chromium, shoot, and say where the pictures are."""
    from playwright.sync_api import sync_playwright

    from tests.browser import launch

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            paths = shoot(browser, Path(sys.argv[1]) if len(sys.argv) > 1 else OUTPUT)
        finally:
            browser.close()
    for path in paths:
        print(f"wrote {path} ({path.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
