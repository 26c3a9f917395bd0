"""The read token read from SSM Parameter Store or Secrets Manager (moto): on first use, every 5 minutes, after a
restore; never in the snapshot, and an outage of the secret store neither opens reads nor stops counting."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from counter_app import create_app, secret_token, snapstart
from tests.conftest import NOW

OLD, NEW = "old-read-token-0123456789", "new-read-token-9876543210"
PARAMETER = "/counter/test/read-token"
BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ssm():
    with mock_aws():
        client = boto3.client("ssm", region_name="eu-west-1")
        client.put_parameter(Name=PARAMETER, Value=OLD, Type="SecureString")
        yield client


def make_app(tmp_path, where=f"ssm:{PARAMETER}"):
    app = create_app({"STORE": f"sqlite:///{tmp_path}/c.sqlite3", "READ_TOKEN_FROM": where, "CLOCK": lambda: NOW})
    clock = Clock()
    app.extensions[secret_token.EXTENSION]._clock = clock
    return app, clock


def summary(app, token: str) -> int:
    return app.test_client().get("/summary", headers={"Authorization": f"Bearer {token}", **BROWSER}).status_code


def test_the_token_comes_from_the_parameter(ssm, tmp_path):
    app, _ = make_app(tmp_path)
    assert summary(app, OLD) == 200
    assert summary(app, NEW) == 401
    reply = app.test_client().get("/?e=A", headers={"Authorization": f"Bearer {OLD}", **BROWSER})
    assert reply.json["count"] == 1


def test_a_rotated_token_replaces_the_old_within_five_minutes(ssm, tmp_path):
    app, clock = make_app(tmp_path)
    assert summary(app, OLD) == 200
    ssm.put_parameter(Name=PARAMETER, Value=NEW, Type="SecureString", Overwrite=True)
    clock.now += secret_token.REFRESH_SECONDS - 1
    assert (summary(app, OLD), summary(app, NEW)) == (200, 401)
    clock.now += 1
    assert (summary(app, OLD), summary(app, NEW)) == (401, 200)


def test_the_snapshot_keeps_no_token_and_a_restore_reads_it_again(ssm, tmp_path):
    app, _ = make_app(tmp_path)
    source = app.extensions[secret_token.EXTENSION]
    snapstart.before_snapshot(app)
    assert source._token is None
    ssm.put_parameter(Name=PARAMETER, Value=NEW, Type="SecureString", Overwrite=True)
    snapstart.after_restore(app)
    assert source._token == NEW  # read during the restore, not left for the first request
    assert (summary(app, OLD), summary(app, NEW)) == (401, 200)


def test_a_secret_in_secrets_manager(tmp_path):
    with mock_aws():
        secrets = boto3.client("secretsmanager", region_name="eu-west-1")
        secrets.create_secret(Name="counter/test/read", SecretString=OLD)
        app, _ = make_app(tmp_path, "secretsmanager:counter/test/read")
        assert (summary(app, OLD), summary(app, NEW)) == (200, 401)


def test_no_parameter_is_a_503_for_reads_and_counting_goes_on(ssm, tmp_path):
    app, _ = make_app(tmp_path, "ssm:/counter/test/missing")
    client = app.test_client()
    reply = client.get("/summary", headers={"Authorization": f"Bearer {OLD}", **BROWSER})
    assert reply.status_code == 503 and reply.json["status"] == "failure" and "Retry-After" in reply.headers
    counted = client.get("/?e=A", headers={"Authorization": f"Bearer {OLD}", **BROWSER})
    assert counted.status_code == 200 and counted.json["status"] == "success" and "count" not in counted.json


def test_an_outage_after_the_first_read_keeps_the_token_it_has(ssm, tmp_path):
    app, clock = make_app(tmp_path)
    assert summary(app, OLD) == 200
    ssm.delete_parameter(Name=PARAMETER)
    clock.now += secret_token.REFRESH_SECONDS
    assert (summary(app, OLD), summary(app, NEW)) == (200, 401)


@pytest.mark.parametrize("where", ["", "ssm:", "ssm:relative/name", "s3:/x", "ssm:/a b", "secretsmanager:"])
def test_a_bad_place_stops_the_start_naming_the_setting(tmp_path, where):
    with pytest.raises(ValueError, match="^COUNTER_READ_TOKEN_FROM must be"):
        create_app({"STORE": f"sqlite:///{tmp_path}/c.sqlite3", "READ_TOKEN_FROM": where})


def test_both_token_settings_stop_the_start(tmp_path):
    with pytest.raises(ValueError, match="^COUNTER_READ_TOKEN_FROM and COUNTER_READ_TOKEN are both set"):
        create_app({"STORE": f"sqlite:///{tmp_path}/c.sqlite3", "READ_TOKEN_FROM": f"ssm:{PARAMETER}",
                    "READ_TOKEN": OLD})


def test_a_hit_without_credentials_never_asks_for_the_token(tmp_path):
    """Counting stays one store call: only a request that sends a token or the cookie needs the token read."""
    app, _ = make_app(tmp_path)
    asked = []

    class Counting:
        def get_parameter(self, **kwargs):
            asked.append(kwargs)
            return {"Parameter": {"Value": OLD}}

    app.extensions[secret_token.EXTENSION]._client = Counting()
    reply = app.test_client().get("/?e=A", headers=BROWSER)
    assert reply.status_code == 200 and "count" not in reply.json and asked == []
    assert app.test_client().get("/summary", headers=BROWSER).status_code == 401 and asked == [
        {"Name": PARAMETER, "WithDecryption": True}]  # a read route must say 401 for the right reason: it asks
