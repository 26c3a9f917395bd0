"""Dollars per million counted events: docs/cost.md quotes what deploy/measured.json and the prices imply."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import cost
from deploy import unit_cost
from deploy.cost import PRICES

DOCS = Path(__file__).resolve().parent.parent / "docs" / "cost.md"
README = DOCS.parent.parent / "README.md"


def test_docs_quote_the_measured_inputs_and_what_they_cost():
    """The committed inputs and the page agree: the inputs, the table and the summary."""
    missing = cost.stale(DOCS.read_text(), unit_cost.measured())
    assert not missing, f"docs/cost.md does not quote {', '.join(missing)} of deploy/measured.json: {cost.UPDATE_HINT}."


def test_an_update_rewrites_the_quoted_tables(tmp_path):
    """``make cost UPDATE=1``: the new inputs in measured.json and the page, whose other words stay."""
    measured, docs, readme = tmp_path / "measured.json", tmp_path / "cost.md", tmp_path / "README.md"
    measured.write_bytes(unit_cost.MEASURED.read_bytes())
    docs.write_text(DOCS.read_text())
    readme.write_text(README.read_text())
    old = unit_cost.measured()
    inputs = {**old, "log_bytes": 999, "billed_ms": {**old["billed_ms"], "512": 9.5}}
    assert cost.adopt(inputs, measured, docs, readme) == []
    assert f"cost about **{unit_cost.headline(inputs)}**" in " ".join(readme.read_text().split())
    assert cost.stale(docs.read_text(), inputs) == [] and unit_cost.measured(measured) == inputs
    assert cost.stale(docs.read_text(), unit_cost.measured()) == ["the inputs table", "the cost table", "the summary"]
    assert docs.read_text().startswith("# Cost\n")


def test_the_readme_quotes_a_browser_hit():
    """The headline is what a website pays: counter.js sends an id, so its write is BROWSER's, whatever kind that is."""
    inputs = unit_cost.measured()
    assert f"cost about **{unit_cost.headline(inputs)}**" in " ".join(README.read_text().split())
    cheaper = {**inputs, "write_units": {**inputs["write_units"], unit_cost.BROWSER: 1}}
    assert unit_cost.headline(cheaper) != unit_cost.headline(inputs)  # it follows the browser's write units


def test_the_options_differ_by_their_prices_only():
    inputs = unit_cost.measured()
    cost = {(door, arch): unit_cost.per_million(inputs, door, arch, 512, "small day item")
            for door in unit_cost.FRONT_DOORS for arch in unit_cost.ARCHITECTURES}
    assert cost["REST API", "arm64"] - cost["HTTP API", "arm64"] == pytest.approx(3.50 - 1.11)
    assert cost["HTTP API", "arm64"] - cost["Function URL", "arm64"] == pytest.approx(1.11)
    compute = inputs["billed_ms"]["512"] * 512 / 1024  # GB-seconds of a million increments, in thousands
    assert cost["HTTP API", "x86_64"] - cost["HTTP API", "arm64"] == pytest.approx(
        compute * 1000 * (PRICES["x86_64"][0] - PRICES["arm64"][0]))
    full = unit_cost.per_million(inputs, "HTTP API", "arm64", 512, "full day item")
    assert full - cost["HTTP API", "arm64"] == pytest.approx(
        (inputs["write_units"]["full day item"] - inputs["write_units"]["small day item"]) * 0.705)


def test_a_new_kind_of_write_is_one_more_input():
    """A new idempotent write path is measured as a kind of its own, priced alike, and can become the browser's."""
    inputs = unit_cost.measured()
    inputs["write_units"]["once"] = 2
    price = PRICES["write_units"][0]
    assert unit_cost.per_million(inputs, "HTTP API", "arm64", 512, "once") == \
        pytest.approx(unit_cost.per_million(inputs, "HTTP API", "arm64", 512, "small day item") + price)
    browser = inputs["write_units"][unit_cost.BROWSER]
    assert unit_cost.default(inputs, 512, "once") == pytest.approx(
        unit_cost.default(inputs, 512) + (2 - browser) * price)
    assert unit_cost.BROWSER == "with an id (stream)" and browser < inputs["write_units"][unit_cost.TRANSACTION]


def test_snap_start_and_vm_costs():
    """The figures issue 18 checked: 4 cached versions, 3,000 restores of 0.5 GB, a VM with its public IPv4 address."""
    assert unit_cost.snap_start_month(1024) == pytest.approx(30 * 86400 * 0.0000015046)
    assert round(unit_cost.snap_start_month(512, 4), 2) == 7.80
    duration = 0.1 * 0.5 * PRICES["arm64"][0]  # the billed restore duration
    assert unit_cost.snap_start_restore(512) == pytest.approx(0.0001397998 / 2 + duration)
    assert round(3000 * 0.5 * 0.0001397998, 2) == 0.21 and 3000 * duration < 0.01
    assert unit_cost.vm_month(0.0042) == pytest.approx(0.0042 * 730 + 0.64 + 3.65)
    assert f"{unit_cost.vm_month(0.0042):.2f}" == "7.36"


def test_make_cost_leaves_the_quoted_inputs_alone(tmp_path, monkeypatch, capsys):
    """A measurement goes to bench/results/; the committed inputs change only with UPDATE=1."""
    committed = unit_cost.MEASURED.read_bytes()
    inputs = {**unit_cost.measured(), "log_bytes": 999}
    monkeypatch.setattr(cost, "measure", lambda size: dict(inputs))
    monkeypatch.setattr(cost, "RESULT", tmp_path / "results" / "measured.json")
    monkeypatch.setattr(unit_cost, "MEASURED", tmp_path / "deploy" / "measured.json")
    (tmp_path / "deploy").mkdir()
    unit_cost.MEASURED.write_bytes(committed)
    cost.main([])
    assert unit_cost.MEASURED.read_bytes() == committed
    assert json.loads(cost.RESULT.read_text())["log_bytes"] == 999
    assert "make cost UPDATE=1 measures and quotes anew" in capsys.readouterr().out
