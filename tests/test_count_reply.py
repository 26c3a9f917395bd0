"""Issue 19 §14 on DynamoDB (dynalite): a reply's ``count`` is the day's whole count, not one item's share."""

import pytest

from counter_app.store import get_store
from tests.conftest import TODAY, dynalite_app
from tests.streams import shard_records

YESTERDAY = 20261126


def hit(client, event, day=TODAY):
    reply = client.get("/", query_string={"e": event, "c": day})
    assert reply.status_code == 200
    return reply.json["count"]


def today(client, event):
    return client.get("/summary", query_string={"from": TODAY, "to": TODAY}).json["totals"][event]


def test_a_backdated_hit_does_not_make_the_count_go_back(dynalite, monkeypatch):
    """The issue's steps: 3 counts in the newcomers item, one backdated hit establishes the name, a fresh process."""
    app = dynalite_app(dynalite, monkeypatch)
    assert [hit(app.test_client(), "REPLY") for _ in range(3)] == [1, 2, 3]
    assert hit(app.test_client(), "REPLY", YESTERDAY) == 1  # now counted the day before: established today
    fresh = dynalite_app(dynalite, monkeypatch, TABLE_PREFIX=app.config["TABLE_PREFIX"])
    client = fresh.test_client()
    assert [hit(client, "REPLY") for _ in range(2)] == [4, 5] == [today(client, "REPLY") - 1, today(client, "REPLY")]
    with fresh.app_context():
        store = get_store()
        day = store.client.get_item(TableName=store.table, Key={"Day": {"N": str(TODAY)}}, ConsistentRead=True)
    assert "REPLY" not in day.get("Item", {})  # it stayed in the newcomers item: one item, one true count


@pytest.mark.parametrize("writes", ["transaction", "stream"])
def test_a_name_in_both_items_answers_their_sum(moto_server, monkeypatch, writes):
    """An import adds to the day item a name the newcomers item holds: a process that has seen both adds them.

    On moto, which has the transactions of an increment with an id (dynalite has none) and the ids stream. On the
    stream path a hit with an id has no count to give: the aggregator's sum, read back, is the whole count.
    """
    app = dynalite_app(moto_server, monkeypatch, IDEMPOTENT_WRITES=writes)
    client = app.test_client()
    assert [hit(client, "BOTH") for _ in range(2)] == [1, 2]  # unknown yesterday: the newcomers item
    with app.app_context():
        get_store().write_many([(TODAY, "BOTH", 10)])  # an import writes to the day item
    fresh = dynalite_app(moto_server, monkeypatch, TABLE_PREFIX=app.config["TABLE_PREFIX"], IDEMPOTENT_WRITES=writes)
    client = fresh.test_client()
    hit(client, "OTHER")  # this process reads the day's items once
    assert [hit(client, "BOTH") for _ in range(2)] == [13, 14] and today(client, "BOTH") == 14
    with fresh.app_context():
        store = get_store()
        once = store.incr_once(TODAY, "BOTH", "k" * 16, now=0, expires=10)
        if writes == "stream":
            assert once.count is None and store.aggregate(*shard_records(store)) == 1
    assert today(client, "BOTH") == 15 and once.count in (None, 15)
