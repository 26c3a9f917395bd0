"""The docs' shell commands run as written on a fresh machine after ``make run``: Linux or macOS, nothing extra."""

from __future__ import annotations

import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from counter_app import create_app
from tests.live import LiveServer

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_SHELL = re.compile(r"^( *)```sh\n(.*?)^\1```", re.S | re.M)
LOCAL = "http://127.0.0.1:5000"
# Commands a fresh Debian or macOS lacks: uuidgen is Debian's uuid-runtime, the others are not installed at all.
MISSING = ("uuidgen", "jq ", "http ", "httpie")


def shell_blocks(document: Path) -> list[str]:
    """The document's ```sh blocks, dedented, in order."""
    return [textwrap.dedent(code) for _, code in _SHELL.findall(document.read_text())]


def commands() -> list[tuple[str, str]]:
    """Every command line of every document's shell blocks, continuation lines joined, comments dropped."""
    found = []
    for document in DOCUMENTS:
        for code in shell_blocks(document):
            for line in code.replace("\\\n", " ").splitlines():
                line = line.split("  #")[0].strip()
                if line and not line.startswith("#"):
                    found.append((document.name, line))
    return found


def test_the_docs_have_shell_blocks_to_check():
    names = {name for name, _ in commands()}
    assert {"README.md", "api.md", "deploying.md", "transfer.md", "stores.md"} <= names


def test_flask_commands_name_the_venv_they_run_from():
    """``flask`` alone is not on a fresh machine's PATH: ``make run`` puts it in .venv/bin."""
    bare = [(name, line) for name, line in commands() if re.search(r"(^|[\s=(])flask\s", line)]
    assert bare == []


def test_create_table_commands_name_a_region():
    """boto3 has no region on a fresh machine; ``make create-table`` takes the stage's."""
    regionless = [(name, line) for name, line in commands()
                  if "create-table" in line and "make " not in line and "AWS_DEFAULT_REGION=" not in line]
    assert regionless == []


def test_no_command_needs_gnu_date_or_a_missing_tool():
    gnu_only = [(name, line) for name, line in commands() if re.search(r"\bdate\b[^|]*\s-d\s", line)
                and not re.search(r"\bdate\b[^|]*\s-v", line)]
    assert gnu_only == []
    assert [(name, line) for name, line in commands() if any(tool in f"{line} " for tool in MISSING)] == []


@pytest.mark.parametrize("document", ["README.md", "api.md", "dashboard.md"])
def test_the_local_examples_run_against_make_run(tmp_path, document):
    """Each document's curl examples, one terminal session in order, against the counter on the real clock."""
    path = next(path for path in DOCUMENTS if path.name == document)
    script = "\n".join(code for code in shell_blocks(path) if "curl " in code and LOCAL in code)
    assert script
    app = create_app({"STORE": f"sqlite:///{tmp_path}/counter.sqlite3"})
    with LiveServer(app) as server:
        # Any 4xx or 5xx fails the script: an example that stopped working is caught, not printed.
        preamble = f'curl() {{ command {shutil.which("curl")} --silent --show-error --fail-with-body "$@"; echo; }}\n'
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", preamble + script.replace(LOCAL, server.url)],
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    assert '"status":"failure"' not in done.stdout
    assert ('"duplicate":true' in script) <= ('"duplicate":true' in done.stdout)  # a retry the doc shows, shown


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_link_between_the_docs_lands():
    broken = []
    for document in DOCUMENTS:
        text = _SHELL.sub("", document.read_text())
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue  # a web address
            name, _, fragment = target.partition("#")
            linked = (document.parent / name).resolve() if name else document
            if not linked.exists():
                broken.append(f"{document.name}: {target}")
            elif fragment and linked.suffix == ".md":
                headings = re.findall(r"^#+ (.+)$", _SHELL.sub("", linked.read_text()), re.M)
                if fragment not in {anchor(heading) for heading in headings}:
                    broken.append(f"{document.name}: {target}")
    assert broken == []
