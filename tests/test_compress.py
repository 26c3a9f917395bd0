"""gzip for text replies the client accepts it for, and nothing else."""

import gzip

import pytest

GZIP = {"Accept-Encoding": "gzip, deflate, br"}


@pytest.fixture
def busy(client):
    for day in range(20261101, 20261128):
        for event in ("PAGEVIEW", "SIGNUP", "DOWNLOAD"):
            client.get("/", query_string={"e": event, "c": day})
    return client


@pytest.mark.parametrize("path", ["/dashboard", "/summary", "/summary?format=csv", "/openapi.json"])
def test_text_is_gzipped_when_accepted(busy, path):
    plain = busy.get(path)
    zipped = busy.get(path, headers=GZIP)
    assert zipped.status_code == plain.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.get_data()) == plain.get_data()
    assert int(zipped.headers["Content-Length"]) == len(zipped.get_data()) < len(plain.get_data())
    assert "Accept-Encoding" in zipped.headers["Vary"] and "Accept-Encoding" in plain.headers["Vary"]


@pytest.mark.parametrize("accept", ["identity", "gzip;q=0", "deflate, br", ""])
def test_not_gzipped_when_not_accepted(busy, accept):
    reply = busy.get("/dashboard", headers={"Accept-Encoding": accept})
    assert "Content-Encoding" not in reply.headers
    assert reply.get_data().startswith(b"<!doctype html>")


def test_any_encoding_includes_gzip(busy):
    assert busy.get("/dashboard", headers={"Accept-Encoding": "*"}).headers["Content-Encoding"] == "gzip"


def test_small_replies_images_and_files_stay_as_they_are(busy):
    small = busy.get("/?e=A", headers=GZIP)  # a few bytes of JSON, the same whatever is accepted: no Vary
    assert "Content-Encoding" not in small.headers and "Vary" not in small.headers
    assert "Content-Encoding" not in busy.get("/pixel.gif?e=A", headers=GZIP).headers
    # send_file (the script, the stylesheet): the file's own ranges and ETags, which gzip would break.
    for path in ("/counter.js", "/static/dashboard.css"):
        with busy.get(path, headers=GZIP) as reply:
            assert "Content-Encoding" not in reply.headers and reply.get_data().startswith(b"/")
    with busy.get("/counter.js", headers={**GZIP, "Range": "bytes=0-9"}) as part:
        assert part.status_code == 206 and len(part.get_data()) == 10


def test_head_and_errors(busy):
    head = busy.head("/dashboard", headers=GZIP)
    assert head.headers["Content-Encoding"] == "gzip" and head.get_data() == b""
    error = busy.get("/summary?from=20250101", headers=GZIP)
    assert error.status_code == 400 and error.json["status"] == "failure"  # short: sent as it is
