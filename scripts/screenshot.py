"""Seed demo counts into a temporary SQLite store, serve the app, and save docs/dashboard.png with Chromium.

Run it with ``make screenshot`` (or ``PYTHONPATH=. .venv/bin/python scripts/screenshot.py``).
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
OUTPUT = ROOT / "docs" / "dashboard.png"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)  # fixed, so the picture only changes with the code


def demo_rows(days: int = 30) -> list[tuple[int, str, int]]:
    """Plausible daily counts: a weekly rhythm, some growth, and an occasional quiet day."""
    rng = random.Random(6)
    rows = []
    for back in range(days):
        day = NOW.date() - timedelta(days=back)
        weekday = 0.55 if day.weekday() >= 5 else 1.0
        growth = 1 + (days - back) / days
        views = int(180 * weekday * growth * rng.uniform(0.85, 1.15))
        key = int(day.strftime("%Y%m%d"))
        rows.append((key, "PAGEVIEW", views))
        rows.append((key, "SIGNUP", int(views * 0.06 * rng.uniform(0.6, 1.4))))
        if back % 9:  # days without downloads stay at zero on the chart
            rows.append((key, "DOWNLOAD", int(25 + 20 * math.sin(back / 3) * rng.uniform(0.7, 1.0))))
    return rows


def shoot(browser: Any, output: Path = OUTPUT) -> Path:
    """Serve a seeded app and write a full-page PNG of its dashboard at 1280 px."""
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"STORE": f"sqlite:///{tmp}/demo.sqlite3", "CLOCK": lambda: NOW})
        with app.app_context():
            get_store().write_many(demo_rows(), replace=True)
        with LiveServer(app) as server:
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            try:
                page = context.new_page()
                page.goto(server.url + "/dashboard")
                output.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(output), full_page=True)
            finally:
                context.close()
    return output


def main() -> None:
    """Launch Chromium, shoot, and say where the picture is."""
    from playwright.sync_api import sync_playwright

    from tests.browser import launch

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            path = shoot(browser, Path(sys.argv[1]) if len(sys.argv) > 1 else OUTPUT)
        finally:
            browser.close()
    print(f"wrote {path} ({path.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
