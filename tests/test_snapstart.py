"""SnapStart's hooks: the snapshot holds a built client and compiled patterns, no connection or shared random state."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from contextlib import contextmanager

import boto3
import pytest
import snapshot_restore_py

from counter_app import agents, create_app, snapstart
from counter_app.store import get_store
from tests.conftest import dynalite_app
from tests.lambda_package import STAGES, Snapshot, http_event, new_event
from tests.proxy import Proxy

PARAMETER = "/counter/prod/read-token"  # prod's COUNTER_READ_TOKEN_FROM
SNAP_TOKEN, ROTATED = "snapshot-read-token-0123", "rotated-read-token-456789"


@pytest.fixture
def proxy(dynalite) -> Iterator[Proxy]:
    """A proxy in front of dynalite that counts the connections opened through it."""
    with Proxy(dynalite.port) as counting:
        yield counting


@contextmanager
def hooks_registered() -> Iterator[tuple[list, list]]:
    """The runtime library's registries, emptied before and after: each app registers its own hooks."""
    before, after = snapshot_restore_py.get_before_snapshot(), snapshot_restore_py.get_after_restore()
    saved = before[:], after[:]
    before.clear(), after.clear()
    try:
        yield before, after
    finally:
        before[:], after[:] = saved


def test_hooks_register_only_for_a_snap_start_initialisation(tmp_path, monkeypatch):
    with hooks_registered() as (before, after):
        create_app({"STORE": f"sqlite:///{tmp_path}/c.sqlite3"})
        assert (before, after) == ([], [])
        monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")
        app = create_app({"STORE": f"sqlite:///{tmp_path}/c.sqlite3"})
        assert before == [(snapstart.before_snapshot, (app,), {})]
        assert after == [(snapstart.after_restore, (app,), {})]


def test_before_snapshot_builds_without_a_connection_and_counts_nothing(dynalite, proxy, monkeypatch):
    from crawlerdetect.crawlerdetect import get_compiled_crawler_regex

    app = dynalite_app(dynalite, monkeypatch, EVENTS="PAGEVIEW")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", proxy.url)
    app.extensions["counter.store"] = type(get_store_of(app))("dynamodb://", table=get_store_of(app).table,
                                                              ids_table=get_store_of(app).ids_table,
                                                              salts_table=get_store_of(app).salts_table)
    get_compiled_crawler_regex.cache_clear()
    agents._detector.cache_clear()  # a new process's detector: no verdict cached yet
    snapstart.before_snapshot(app)
    store = get_store_of(app)
    assert store._client is not None and proxy.accepted == 0  # built, never called
    assert get_compiled_crawler_regex.cache_info().currsize == 1
    with app.app_context():
        assert store.get([int(app.config["CLOCK"]().strftime("%Y%m%d"))]) == {}  # the HEAD counted nothing
    assert proxy.accepted == 1


def test_after_restore_drops_the_snapshots_connection_and_reseeds(dynalite, proxy, monkeypatch):
    app = dynalite_app(dynalite, monkeypatch)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", proxy.url)
    app.extensions["counter.store"] = type(get_store_of(app))("dynamodb://", table=get_store_of(app).table,
                                                              ids_table=get_store_of(app).ids_table,
                                                              salts_table=get_store_of(app).salts_table)
    client = app.test_client()
    headers = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"}
    for expected in (1, 2):
        assert client.get("/?e=PAGEVIEW", headers=headers).json["count"] == expected
    assert proxy.accepted == 1  # one kept-alive connection: what a snapshot taken now would hold
    state = random.getstate()
    snapstart.after_restore(app)
    assert random.getstate() != state
    assert get_store_of(app)._views.get(int(app.config["CLOCK"]().strftime("%Y%m%d"))) is None
    assert client.get("/?e=PAGEVIEW", headers=headers).json["count"] == 3
    assert proxy.accepted == 2  # the copy opened its own


def get_store_of(app):
    with app.app_context():
        return get_store()


@pytest.fixture(scope="module")
def ssm(moto_server):
    """moto's SSM holding prod's read token, where the function reads it (COUNTER_READ_TOKEN_FROM)."""
    client = boto3.client("ssm", endpoint_url=moto_server.endpoint, region_name="eu-west-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    client.put_parameter(Name=PARAMETER, Value=SNAP_TOKEN, Type="SecureString", Overwrite=True)
    return client


@pytest.fixture(scope="module")
def snapshot(packages, tables, dynalite, ssm):
    """The prod package initialised as SnapStart does it, counting into dynalite through a counting proxy, its
    token in moto's SSM."""
    with Proxy(dynalite.port) as counting, Snapshot(packages["prod"], AWS_ENDPOINT_URL_DYNAMODB=counting.url,
                                                     AWS_ENDPOINT_URL_SSM=ssm.meta.endpoint_url,
                                                     COUNTER_EVENTS="*") as held:
        yield held, counting


def test_restored_copies_count_each_on_its_own_connection(snapshot, tables):
    held, counting = snapshot
    assert counting.accepted == 0  # init and the before-snapshot hooks made no call
    event = new_event()
    first, second = held.restore(), held.restore()
    with first, second:
        for copy, expected in ((first, 1), (second, 2), (first, 3), (second, 4)):
            reply = copy.invoke(http_event("GET", "/", stage="prod", query=f"e={event}",
                                           headers={"Authorization": f"Bearer {SNAP_TOKEN}"}))
            assert reply["statusCode"] == 200, reply
            assert json.loads(reply["body"])["count"] == expected
    assert counting.accepted == 2  # one each: neither inherited a connection, each kept its own alive
    day = json.loads(reply["body"])["day"]
    items = [tables.get_item(TableName=f"{STAGES['prod']}_counters", Key={"Day": {"N": str(key)}},
                             ConsistentRead=True).get("Item", {}) for key in (day, -day)]
    assert sum(int(item[event]["N"]) for item in items if event in item) == 4


def test_a_restored_copy_reads_the_token_as_it_is_now(snapshot, ssm):
    """The token rotated after the snapshot: a copy restored afterwards takes the new one, with no redeploy."""
    held, _ = snapshot
    ssm.put_parameter(Name=PARAMETER, Value=ROTATED, Type="SecureString", Overwrite=True)
    try:
        with held.restore() as copy:
            statuses = [copy.invoke(http_event("GET", "/summary", stage="prod",
                                               headers={"Authorization": f"Bearer {token}"}))["statusCode"]
                        for token in (ROTATED, SNAP_TOKEN)]
    finally:
        ssm.put_parameter(Name=PARAMETER, Value=SNAP_TOKEN, Type="SecureString", Overwrite=True)
    assert statuses == [200, 401]


def test_restored_copies_draw_their_own_random_numbers(snapshot):
    held, _ = snapshot
    for _ in range(2):
        with held.restore() as copy:
            copy.invoke({"raw_command": "import random; print('RANDOM', random.random())"})
    drawn = [line for line in held.logs.splitlines() if line.startswith("RANDOM ")]
    assert len(drawn) == 2 and drawn[0] != drawn[1]
