"""Small things a new owner trips on (issue 20.10): blank and unknown /summary parameters, flags, a failed export,
what git ignores and what ``make clean`` keeps."""

from __future__ import annotations

import subprocess

import pytest

from counter_app import SettingsError, create_app
from counter_app.storage import StoreUnavailable
from counter_app.store import get_store
from tests.lambda_package import ROOT, copy_project, sandbox_environ


def test_blank_dates_take_the_default_as_on_the_dashboard(client):
    default = client.get("/summary")
    blank = client.get("/summary?from=&to=")
    assert blank.status_code == 200 and blank.json == default.json
    assert client.get("/dashboard?from=&to=").status_code == 200


@pytest.mark.parametrize("query", ["days=7", "e=A&limit=5", "from=20261101&To=20261127"])
def test_summary_refuses_unknown_parameters(client, query):
    reply = client.get(f"/summary?{query}")
    assert reply.status_code == 400
    assert "is not a parameter here; give only from, to, e, group, format." in reply.json["error"]


@pytest.mark.parametrize("value", ["yes", "1", "on", "0", "no", ""])
def test_flags_take_only_the_documented_spellings(monkeypatch, tmp_path, value):
    for name in ("COUNTER_COUNT_BOTS", "COUNTER_PUBLIC_BADGES"):
        monkeypatch.setenv(name, value)
        with pytest.raises(SettingsError, match=f"{name}=.* must be true or false"):
            create_app({"STORE": f"sqlite:///{tmp_path}/c.sqlite3"})
        monkeypatch.delenv(name)


@pytest.mark.parametrize(("value", "meant"), [("true", True), ("FALSE", False), (" True ", True)])
def test_flags_in_either_case(monkeypatch, tmp_path, value, meant):
    monkeypatch.setenv("COUNTER_COUNT_BOTS", value)
    assert create_app({"STORE": f"sqlite:///{tmp_path}/c.sqlite3"}).config["COUNT_BOTS"] is meant


def test_a_failed_export_to_stdout_prints_only_the_error(app, monkeypatch):
    with app.app_context():
        store = get_store()

    def unavailable(*bounds):
        raise StoreUnavailable("the store went away")
        yield

    monkeypatch.setattr(store, "dump", unavailable)
    result = app.test_cli_runner().invoke(args=["export"])
    assert result.exit_code == 1 and result.stdout == ""
    assert "the store went away" in result.stderr


def test_an_empty_export_still_has_its_header(app):
    assert app.test_cli_runner().invoke(args=["export"]).stdout == "day,event,count,visitors\n"


def test_the_documented_export_is_ignored_by_git():
    done = subprocess.run(["git", "check-ignore", "-q", "counts.csv"], cwd=ROOT)
    assert done.returncode == 0


def test_make_clean_keeps_the_counts_and_clean_data_removes_them(tmp_path):
    project = copy_project(tmp_path / "project")
    (project / "instance").mkdir()
    (project / "instance" / "counter.sqlite3").write_text("the owner's counts")
    (project / "dist").mkdir()
    make = ["make", "--no-print-directory", f"VENV={tmp_path}/venv"]
    subprocess.run([*make, "clean"], cwd=project, env=sandbox_environ(), check=True, capture_output=True)
    assert (project / "instance" / "counter.sqlite3").exists() and not (project / "dist").exists()
    subprocess.run([*make, "clean-data"], cwd=project, env=sandbox_environ(), check=True, capture_output=True)
    assert not (project / "instance").exists()
