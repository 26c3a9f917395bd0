"""Part 5: ``flask import`` of a large CSV into SQLite, then ``flask export``: rows/s and peak memory.

Each command runs in a fresh process, whose peak RSS the kernel reports. Linux keeps a process's
high-water mark across ``exec``, and Python starts children with ``vfork``, so a child of this (possibly
large) process would report this process's peak: each command is forked by a small launcher instead.
Side by side in the same run:
the same import of a small file (memory that does not grow with the file reads as a ratio near 1), and
a floor for speed: a bare loop that parses the same CSV and inserts it with ``executemany``, checking
nothing, staging nothing.
"""

from __future__ import annotations

import filecmp
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

from bench import ROOT, Size

ROWS = {"tiny": 20_000, "full": 5_000_000}
SMALL = 1_000  # the memory baseline's rows
EVENTS_PER_DAY = 100
FIRST = date(1900, 1, 1)
# The floor: what reading this CSV and inserting its rows costs with nothing checked.
FLOOR = """
import csv, sqlite3, sys
conn = sqlite3.connect(sys.argv[2], isolation_level=None)
conn.execute("PRAGMA journal_mode=WAL"); conn.execute("PRAGMA synchronous=NORMAL")
conn.execute("CREATE TABLE t (day INTEGER NOT NULL, event TEXT NOT NULL, count INTEGER NOT NULL, "
             "PRIMARY KEY (day, event)) WITHOUT ROWID")
rows = csv.reader(open(sys.argv[1], newline=""))
next(rows)
batch = []
for day, event, count in rows:
    batch.append((int(day), event, int(count)))
    if len(batch) == 2000:
        conn.execute("BEGIN"); conn.executemany("INSERT INTO t VALUES (?, ?, ?)", batch); conn.execute("COMMIT")
        batch.clear()
conn.execute("BEGIN"); conn.executemany("INSERT INTO t VALUES (?, ?, ?)", batch); conn.execute("COMMIT")
"""
# Forks the command from a small process, so that its peak RSS is its own; prints its seconds and usage.
LAUNCHER = """
import json, os, sys, time
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(json.dumps({"code": os.waitstatus_to_exitcode(status), "seconds": time.perf_counter() - started,
                  "peak_rss_kb": usage.ru_maxrss}))
"""


def write_csv(path: Path, rows: int) -> int:
    """``rows`` rows of ``EVENTS_PER_DAY`` events a day, from 1900 on; the sum of their counts."""
    total = 0
    with path.open("w") as out:
        out.write("day,event,count\n")
        for start in range(0, rows, EVENTS_PER_DAY):
            day = (FIRST + timedelta(days=start // EVENTS_PER_DAY)).strftime("%Y%m%d")
            counts = [(start + n) * 7919 % 100_000 for n in range(min(EVENTS_PER_DAY, rows - start))]
            out.write("".join(f"{day},EVENT_{n:03d},{count}\n" for n, count in enumerate(counts)))
            total += sum(counts)
    return total


def run(command: list[str], env: dict[str, str]) -> dict:
    """Run ``command`` to its end; its seconds and the peak RSS of its process, in MB."""
    with tempfile.TemporaryFile() as errors:
        done = subprocess.run([sys.executable, "-c", LAUNCHER, *command], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=errors, text=True, check=True)
        found = json.loads(done.stdout)
        if found["code"] != 0:
            errors.seek(0)
            raise RuntimeError(f"{' '.join(command)} failed:\n{errors.read().decode()}")
    return {"seconds": round(found["seconds"], 2), "peak_rss_mb": round(found["peak_rss_kb"] / 1024, 1)}


def flask(*args: str) -> list[str]:
    """``flask --app wsgi ARGS`` in this Python."""
    return [sys.executable, "-m", "flask", "--app", "wsgi", *args]


def measure(size: Size) -> dict:
    """Import a large and a small file, export the large store, and run the floor; rows/s, peak RSS, ratios."""
    rows = ROWS[size.name]
    with tempfile.TemporaryDirectory() as tmp:
        big, small = Path(tmp, "big.csv"), Path(tmp, "small.csv")
        total = write_csv(big, rows)
        write_csv(small, SMALL)
        env = {**os.environ, "COUNTER_STORE": f"sqlite:///{tmp}/big.sqlite3"}
        env = {k: v for k, v in env.items() if not k.startswith("COUNTER_") or k == "COUNTER_STORE"}
        env["COUNTER_VISITORS"] = "false"  # the file has no visitors column, and its export must equal it
        imported = run(flask("import", str(big)), env)
        with sqlite3.connect(Path(tmp, "big.sqlite3")) as conn:
            stored = conn.execute("SELECT count(*), sum(count) FROM TEST_counters").fetchone()
        if stored != (rows, total):
            raise RuntimeError(f"the import stored {stored}, not {(rows, total)}")
        exported = run(flask("export", "--output", str(Path(tmp, "out.csv"))), env)
        if not filecmp.cmp(Path(tmp, "out.csv"), big, shallow=False):
            raise RuntimeError("the export differs from the imported file")
        baseline = run(flask("import", str(small)),
                       {**env, "COUNTER_STORE": f"sqlite:///{tmp}/small.sqlite3"})
        floor = run([sys.executable, "-c", FLOOR, str(big), str(Path(tmp, "floor.sqlite3"))], env)
        file_mb = round(big.stat().st_size / 2**20, 1)
    per_s = round(rows / imported["seconds"])
    floor_per_s = round(rows / floor["seconds"])
    return {
        "rows": rows,
        "file_mb": file_mb,
        "import": imported | {"rows_per_s": per_s},
        "export": exported | {"rows_per_s": round(rows / exported["seconds"])},
        "small_import": baseline | {"rows": SMALL},
        "floor": floor | {"rows_per_s": floor_per_s, "what": "csv.reader + executemany, nothing checked"},
        "speed_ratio": round(per_s / floor_per_s, 3),
        "rss_ratio": round(imported["peak_rss_mb"] / baseline["peak_rss_mb"], 3),
    }
