import pytest

from counter_app import create_app
from counter_app.storage import ConfigurationError
from counter_app.storage.sqlite import SQLiteStorage
from counter_app.store import get_store


def test_testing_flag():
    assert not create_app().testing
    assert create_app({"TESTING": True}).testing


def test_default_store_is_sqlite_in_instance_folder():
    app = create_app()
    with app.app_context():
        store = get_store()
    assert isinstance(store, SQLiteStorage)
    assert store.path.startswith(app.instance_path)
    assert store.table == "TEST_counters"


def test_settings_come_from_counter_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("COUNTER_STORE", f"sqlite:///{tmp_path}/env.sqlite3")
    monkeypatch.setenv("COUNTER_TABLE_PREFIX", "LIVE")
    app = create_app()
    with app.app_context():
        assert get_store().path == f"{tmp_path}/env.sqlite3"
        assert get_store().table == "LIVE_counters"


def test_unknown_store_fails_at_start_naming_it():
    with pytest.raises(ValueError, match="redis://x") as caught:
        create_app({"STORE": "redis://x"})
    assert isinstance(caught.value.__cause__, ConfigurationError)


def test_unknown_timezone_fails_at_start_naming_it():
    with pytest.raises(ValueError, match="Mars/Olympus"):
        create_app({"TIMEZONE": "Mars/Olympus"})


def test_dynamodb_store_builds_no_client_at_start():
    app = create_app({"STORE": "dynamodb://", "TABLE_PREFIX": "LIVE"})
    store = app.extensions["counter.store"]
    assert store.table == "LIVE_counters"
    assert store._client is None
