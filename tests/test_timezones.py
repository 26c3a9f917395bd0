"""COUNTER_TIMEZONE decides the day of a hit and "today" of the summary and dashboard, across midnights and DST."""

import os
import subprocess
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from counter_app import create_app, days

ROOT = Path(__file__).resolve().parent.parent

# (zone, UTC instant, the day it is there); each pair straddles a local midnight.
BOUNDARIES = [
    ("Pacific/Kiritimati", "2026-11-27T09:59:59", 20261127),  # UTC+14
    ("Pacific/Kiritimati", "2026-11-27T10:00:00", 20261128),
    ("Pacific/Pago_Pago", "2026-11-27T10:59:59", 20261126),  # UTC-11
    ("Pacific/Pago_Pago", "2026-11-27T11:00:00", 20261127),
    ("Europe/Berlin", "2026-03-28T22:59:59", 20260328),  # CET: the night before the switch
    ("Europe/Berlin", "2026-03-28T23:00:00", 20260329),
    ("Europe/Berlin", "2026-03-29T00:59:59", 20260329),  # 01:59:59 CET, then the clocks jump to 03:00 CEST
    ("Europe/Berlin", "2026-03-29T01:00:00", 20260329),
    ("Europe/Berlin", "2026-03-29T21:59:59", 20260329),  # CEST: midnight is now 22:00 UTC
    ("Europe/Berlin", "2026-03-29T22:00:00", 20260330),
    ("Europe/Berlin", "2026-10-24T21:59:59", 20261024),  # CEST, the night before the switch back
    ("Europe/Berlin", "2026-10-24T22:00:00", 20261025),
    ("Europe/Berlin", "2026-10-25T22:59:59", 20261025),  # a 25-hour day ends at 23:00 UTC
    ("Europe/Berlin", "2026-10-25T23:00:00", 20261026),
    ("America/New_York", "2026-03-08T04:59:59", 20260307),  # EST
    ("America/New_York", "2026-03-08T05:00:00", 20260308),
    ("America/New_York", "2026-03-09T03:59:59", 20260308),  # EDT after a 23-hour day
    ("America/New_York", "2026-03-09T04:00:00", 20260309),
    ("America/New_York", "2026-11-02T04:59:59", 20261101),  # EST again after a 25-hour day
    ("America/New_York", "2026-11-02T05:00:00", 20261102),
    ("UTC", "2026-12-31T23:59:59", 20261231),
    ("UTC", "2027-01-01T00:00:00", 20270101),
]


def app_at(tmp_path, zone, instant):
    now = datetime.fromisoformat(instant).replace(tzinfo=timezone.utc)
    return create_app({"STORE": f"sqlite:///{tmp_path}/tz.sqlite3", "TIMEZONE": zone, "CLOCK": lambda: now})


@pytest.mark.parametrize("zone,instant,day", BOUNDARIES)
def test_hit_summary_and_dashboard_follow_the_zone(tmp_path, zone, instant, day):
    client = app_at(tmp_path, zone, instant).test_client()
    assert client.get("/?e=HIT").json["day"] == day
    summary = client.get("/summary").json
    assert summary["to"] == day
    assert summary["days"][-1] == {"day": day, "counts": {"HIT": 1}, "visitors": {"HIT": 1}}
    html = client.get("/dashboard").get_data(as_text=True)
    assert f'data-day="{day}" data-count="1"' in html
    iso = f"{str(day)[:4]}-{str(day)[4:6]}-{str(day)[6:]}"
    assert f'name="to" value="{iso}"' in html


def test_an_explicit_day_ignores_the_zone(tmp_path):
    client = app_at(tmp_path, "Pacific/Kiritimati", "2026-11-27T23:00:00").test_client()
    assert client.get("/?e=HIT&c=20261101").json["day"] == 20261101


def test_tzdata_package_alone_resolves_zones(tmp_path):
    """Lambda's runtime may have no /usr/share/zoneinfo: the pinned tzdata package must do."""
    empty = tmp_path / "no-zoneinfo"
    empty.mkdir()
    code = (
        "import zoneinfo, tzdata\n"
        f"assert zoneinfo.TZPATH == ({str(empty)!r},), zoneinfo.TZPATH\n"
        "from counter_app import create_app\n"
        "for name in ('Pacific/Kiritimati', 'Pacific/Pago_Pago', 'Europe/Berlin', 'America/New_York'):\n"
        "    create_app({'TIMEZONE': name, 'STORE': 'sqlite:///unused'})\n"
        "import datetime\n"
        "print(datetime.datetime(2026, 1, 1, tzinfo=zoneinfo.ZoneInfo('Pacific/Kiritimati')).utcoffset())\n"
    )
    env = {**os.environ, "PYTHONTZPATH": str(empty), "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "14:00:00"


def test_today_on_the_real_clock_turns_at_midnight_in_the_zone(tmp_path, monkeypatch):
    """The real clock's today is worked out once a second: the second after midnight is the new day."""
    app = create_app({"STORE": f"sqlite:///{tmp_path}/c.sqlite3", "TIMEZONE": "Pacific/Auckland"})
    midnight = datetime(2026, 11, 27, tzinfo=ZoneInfo("Pacific/Auckland")).timestamp()
    with app.app_context():
        for at, expected in ((midnight - 1, date(2026, 11, 26)), (midnight - 0.5, date(2026, 11, 26)),
                             (midnight, date(2026, 11, 27)), (midnight + 86400, date(2026, 11, 28))):
            monkeypatch.setattr(time, "time", lambda at=at: at)
            assert days.today() == expected
