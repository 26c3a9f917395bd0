"""The bot filter on real traffic: people count, mail readers count on the pixel, tools and bots never."""

from pathlib import Path

import pytest

from counter_app import agents, create_app
from tests.conftest import NOW

TABLE = Path(__file__).parent / "data" / "user_agents.tsv"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
PREFETCHES = [{"Sec-Purpose": "prefetch"}, {"Sec-Purpose": "prefetch;prerender"}, {"Purpose": "prefetch"},
              {"X-Moz": "prefetch"}]


def table() -> list[tuple[str, str]]:
    """``(kind, agent)`` rows of the table, comments left out."""
    lines = TABLE.read_text().splitlines()
    return [tuple(line.split("\t")) for line in lines if line and not line.startswith("#")]


def counted(client, path: str, headers: dict[str, str], event: str = "A") -> bool:
    """Whether one request to ``path`` with ``headers`` added 1 to ``event``."""
    before = client.get("/summary").json["totals"].get(event, 0)
    with client.get(path, query_string={"e": event}, headers=headers) as reply:
        assert reply.status_code == 200, reply.get_data(as_text=True)
    return client.get("/summary").json["totals"].get(event, 0) == before + 1


def test_the_table_holds_every_kind_of_agent_the_filter_decides_on():
    kinds = [kind for kind, _ in table()]
    assert {kind: kinds.count(kind) for kind in set(kinds)} == {"browser": 100, "mail": 3, "bot": 49, "tool": 46}
    assert len({agent for _, agent in table()}) == len(kinds)


def test_people_count_mail_readers_count_on_the_pixel_and_bots_and_tools_never(any_app):
    client = any_app.test_client()
    wrong = []
    for n, (kind, agent) in enumerate(table()):
        event = f"E{n}"
        on_root = counted(client, "/", {"User-Agent": agent}, event)
        on_pixel = counted(client, "/mark.gif", {"User-Agent": agent}, event)
        if (on_root, on_pixel) != (kind == "browser", kind in ("browser", "mail")):
            wrong.append((kind, agent, on_root, on_pixel))
    assert wrong == []


@pytest.mark.parametrize("path", ["/", "/pixel.gif"])
def test_an_empty_or_missing_agent_never_counts(any_app, path):
    client = any_app.test_client()
    assert not counted(client, path, {"User-Agent": ""})
    assert not counted(client, path, {"User-Agent": "   "})
    with client.get(path, query_string={"e": "A"}, environ_overrides={"HTTP_USER_AGENT": None}):
        pass
    assert client.get("/summary").json["totals"] == {}
    assert counted(client, path, {"User-Agent": FIREFOX})


@pytest.mark.parametrize("path", ["/", "/pixel.gif"])
def test_an_agent_over_512_characters_never_counts_and_is_never_examined(app, path, monkeypatch):
    seen = []
    monkeypatch.setattr(agents._detector(), "is_crawler", lambda agent: seen.append(agent) or False)
    client = app.test_client()
    longest = FIREFOX + " " + "x" * (agents.AGENT_CHARS - len(FIREFOX) - 1)
    assert counted(client, path, {"User-Agent": longest})
    assert not counted(client, path, {"User-Agent": longest + "x"})
    assert not counted(client, path, {"User-Agent": FIREFOX + " x" * 50000})
    assert seen == [longest]


@pytest.mark.parametrize("headers", PREFETCHES)
@pytest.mark.parametrize("path", ["/", "/pixel.gif"])
def test_a_prefetch_never_counts(any_app, path, headers):
    client = any_app.test_client()
    assert not counted(client, path, {"User-Agent": FIREFOX, **headers})
    assert counted(client, path, {"User-Agent": FIREFOX, "Sec-Purpose": "", "Purpose": "preview"})


def test_count_bots_counts_every_agent_but_never_a_prefetch(tmp_path, monkeypatch):
    monkeypatch.setenv("COUNTER_COUNT_BOTS", "true")
    client = create_app({"STORE": f"sqlite:///{tmp_path}/b.sqlite3", "CLOCK": lambda: NOW}).test_client()
    for agent in ("", "k6/0.54.0 (https://k6.io/)", "Mozilla/5.0 (compatible; Googlebot/2.1)", FIREFOX + "x" * 600):
        assert counted(client, "/", {"User-Agent": agent}), agent
    assert not counted(client, "/", {"User-Agent": FIREFOX, "Sec-Purpose": "prefetch"})
