"""A read that needed the token never lands in a shared cache: private, and varying on the credentials."""

import pytest

from counter_app.auth import COOKIE, _cookie_value

TOKEN = "s3cret-read-token-16"
READS = ["/badge.svg?e=A", "/badge.svg?e=A&days=7", "/summary", "/summary?format=csv"]


def vary(reply) -> set[str]:
    return {value.strip().lower() for value in reply.headers.get("Vary", "").split(",") if value.strip()}


def is_private(reply) -> bool:
    cache = reply.cache_control
    return (cache.private is not None or cache.no_store) and not cache.public and cache.s_maxage is None


@pytest.mark.parametrize("path", READS)
@pytest.mark.parametrize("credential", ["bearer", "cookie"])
def test_a_read_with_the_token_is_private_and_varies_on_the_credentials(any_app, path, credential):
    any_app.config["READ_TOKEN"] = TOKEN
    client = any_app.test_client()
    assert client.get("/?e=A", headers={"Authorization": f"Bearer {TOKEN}"}).json["count"] == 1
    if credential == "bearer":
        reply = client.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
    else:
        with any_app.app_context():
            client.set_cookie(COOKIE, _cookie_value(TOKEN))
        reply = client.get(path)
    assert reply.status_code == 200
    assert is_private(reply), reply.headers.get("Cache-Control")
    assert {"authorization", "cookie"} <= vary(reply)


def test_the_badge_keeps_its_five_minutes_in_the_browser_and_the_summary_is_not_stored(app):
    app.config["READ_TOKEN"] = TOKEN
    client = app.test_client()
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert client.get("/badge.svg?e=A", headers=bearer).headers["Cache-Control"] == "private, max-age=300"
    assert client.get("/summary", headers=bearer).headers["Cache-Control"] == "private, no-store"


def test_open_reads_keep_their_shared_caching(app):
    client = app.test_client()
    badge = client.get("/badge.svg?e=A")
    assert badge.headers["Cache-Control"] == "max-age=300" and vary(badge) <= {"accept-encoding"}
    assert "Cache-Control" not in client.get("/summary").headers
    app.config.update(READ_TOKEN=TOKEN, PUBLIC_BADGES=True)  # the token guards the summary, not the badge
    badge = client.get("/badge.svg?e=A", headers={"Authorization": f"Bearer {TOKEN}"})
    assert badge.headers["Cache-Control"] == "max-age=300" and vary(badge) <= {"accept-encoding"}
