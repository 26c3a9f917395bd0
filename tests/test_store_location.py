"""``sqlite:///x`` is relative to the current folder: whatever writes says which absolute file it writes to."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from counter_app import create_app
from tests.dynalite import free_port
from tests.lambda_package import ROOT, sandbox_environ

FLASK = Path(sys.executable).parent / "flask"


def test_import_names_the_absolute_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = create_app({"TESTING": True, "STORE": "sqlite:///tmp/x.sqlite3"})
    (tmp_path / "counts.csv").write_text("day,event,count\n20261101,A,1\n")
    result = app.test_cli_runner().invoke(args=["import", "counts.csv"])
    assert result.exit_code == 0, result.output
    assert f"Importing into SQLite file {tmp_path / 'tmp' / 'x.sqlite3'}." in result.output
    assert (tmp_path / "tmp" / "x.sqlite3").is_file()


def test_create_table_names_the_absolute_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = create_app({"STORE": "sqlite:///x.sqlite3"}).test_cli_runner().invoke(args=["create-table"])
    assert f"is ready in {tmp_path / 'x.sqlite3'}." in result.output


def test_flask_run_names_the_absolute_file(tmp_path):
    """``flask run`` (``make run``) says where it counts before it serves."""
    env = sandbox_environ(COUNTER_STORE="sqlite:///tmp/x.sqlite3", PYTHONPATH=str(ROOT))
    command = [str(FLASK), "--app", "wsgi", "run", "--host", "127.0.0.1", "--port", str(free_port())]
    with subprocess.Popen(command, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True) as server:
        try:
            lines = [server.stderr.readline() for _ in range(2)]
        finally:
            server.terminate()
    assert f" * Counting into SQLite file {os.path.join(tmp_path, 'tmp', 'x.sqlite3')}\n" in lines, lines
