"""Issue 19 §9: export --output never replaces what is not a regular file, and a path it cannot write is one line."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading

from tests.test_transfer import run, seed

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_export_writes_into_a_fifo_and_through_a_symlink(app, tmp_path):
    seed(app, [(20261101, "A", 1)])
    fifo = tmp_path / "p"
    os.mkfifo(fifo)
    got = []
    reader_thread = threading.Thread(target=lambda: got.append(fifo.read_text()), daemon=True)
    reader_thread.start()
    code, _, err = run(app, "export", "--output", fifo)
    reader_thread.join(10)
    assert code == 0, err
    assert got == ["day,event,count,visitors\n20261101,A,1,0\n"] and stat.S_ISFIFO(fifo.lstat().st_mode)
    link, target = tmp_path / "link.csv", tmp_path / "target.csv"
    link.symlink_to(target.name)
    for _ in range(2):  # a new file through the link, then the one it points to replaced
        assert run(app, "export", "--output", link)[0] == 0
        assert link.is_symlink() and target.read_text() == "day,event,count,visitors\n20261101,A,1,0\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_export_writes_to_a_device_as_it_is(app):
    from counter_app.transfer import replaceable

    for device in ("/dev/null", "/dev/full", "/dev/zero"):
        assert replaceable(device) is None
    piped = subprocess.run([sys.executable, "-c", "from counter_app.transfer import replaceable; "
                            "print(replaceable('/dev/stdout'))"], env={**os.environ, "PYTHONPATH": ROOT},
                           capture_output=True, text=True, check=True)
    assert piped.stdout == "None\n"  # a pipe
    seed(app, [(20261101, "A", 1)])
    assert replaceable("/dev/null") is None  # so the export below writes to it directly, whoever runs it
    code, _, err = run(app, "export", "--output", "/dev/null")
    assert code == 0 and err == "Exported 1 row.\n"
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_export_to_a_missing_folder_is_one_line(app, tmp_path):
    code, _, err = run(app, "export", "--output", tmp_path / "nonexistent" / "x.csv")
    assert code == 1 and err == (f"Error: Nothing was exported: {tmp_path}/nonexistent/x.csv cannot be written "
                                 "(No such file or directory).\n")
    code, _, err = run(app, "export", "--output", tmp_path / ("y" * 250 + ".csv"))
    assert code == 1 and err.endswith("cannot be written (File name too long).\n")
