"""Import speed into DynamoDB (dynalite on 127.0.0.1): bulk write_many against one incr per row.

Run: ``PYTHONPATH=. .venv/bin/python bench/import_rate.py [ROWS]``. Prints rows/s and the speed-up ratio;
absolute numbers depend on the machine, the ratio is what to compare.
"""

from __future__ import annotations

import sys
import time
import uuid
from datetime import date, timedelta

from bench.dynamo import dynalite, table_app
from counter_app import days
from counter_app.store import get_store

FIRST = date(2020, 1, 1)


def fresh_table():
    return table_app(f"B{uuid.uuid4().hex[:8]}")


def rate(app, rows, bulk: bool) -> float:
    with app.app_context():
        store = get_store()
        started = time.perf_counter()
        if bulk:
            store.write_many(rows)
        else:
            for day, event, count in rows:
                store.incr(day, event, count)
        return len(rows) / (time.perf_counter() - started)


def main(total: int = 3000) -> None:
    with dynalite():
        rate(fresh_table(), [(20200101, f"W{n}", 1) for n in range(300)], bulk=False)  # warm dynalite up
        shapes = {"10 events a day": 10, "1 event a day": 1}
        for label, events in shapes.items():
            rows = [(days.to_int(FIRST + timedelta(days=n // events)), f"E{n % events}", n % 97 + 1)
                    for n in range(total)]
            speeds = []
            for bulk in (False, True):
                speeds.append(rate(fresh_table(), rows, bulk))
            print(f"{label}: {total} rows, one incr a row {speeds[0]:.0f} rows/s, "
                  f"write_many {speeds[1]:.0f} rows/s, ratio {speeds[1] / speeds[0]:.1f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000)
