"""Counted where blocklists are common: no URL the docs embed matches a rule of EasyList or EasyPrivacy.

uBlock Origin, AdGuard and Brave apply both lists. The matcher is braveblock (Brave's adblock-rust
engine), over the copies in tests/data (uBlock Origin 1.67.0's, from Debian) and the older ones it bundles.
"""

import gzip
from pathlib import Path

import braveblock
import pytest

from tests.test_browser_counting import STAGE, run_every_snippet

DATA = Path(__file__).parent / "data"
# Where the documented snippets may point: a custom domain, and API Gateway's own URL.
APIS = ["https://api.example.com", "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com"]
PAGES = {"third-party": "https://www.example.org/blog/post", "same site": "https://www.example.com/blog/post"}
# What a blocker calls a request, from the Sec-Fetch-Dest and Sec-Fetch-Mode the browser sent.
KINDS = {("script", "no-cors"): "script", ("image", "no-cors"): "image", ("empty", "cors"): "xmlhttprequest",
         ("empty", "no-cors"): "ping"}


@pytest.fixture(scope="module", params=["ublock-origin-1.67.0", "braveblock-0.5.1"])
def lists(request):
    """An engine holding every rule of EasyList and EasyPrivacy, in one of two copies."""
    if request.param == "braveblock-0.5.1":
        return braveblock.Adblocker()  # its own copies, from May 2022
    rules = []
    for name in ("easylist.txt.gz", "easyprivacy.txt.gz"):
        rules += gzip.decompress((DATA / name).read_bytes()).decode().splitlines()
    assert len(rules) > 130_000
    return braveblock.Adblocker(rules=rules, include_easylist=False, include_easyprivacy=False)


def blocked(lists, kind: str, path: str) -> list[str]:
    """The pages and API hosts from which a ``kind`` request for ``path`` would be blocked."""
    return [f"{api}{path} from {where}" for api in APIS for where, page in PAGES.items()
            if lists.check_network_urls(url=api + path, source_url=page, request_type=kind)]


def test_the_lists_block_the_first_pixel_and_every_beacon_to_another_site(lists):
    """The matcher and the lists are live: these are what the new names and counter.js avoid."""
    assert blocked(lists, "image", f"{STAGE}/pixel.gif?e=NOSCRIPT")
    assert len(blocked(lists, "ping", f"{STAGE}/")) == 3  # every third-party beacon, whatever its path
    assert not blocked(lists, "image", f"{STAGE}/mark.gif?e=NOSCRIPT")


def test_no_url_the_docs_embed_is_blocked(app, browser, lists):
    log, errors = run_every_snippet(app, browser)
    requests = {(KINDS[dest, mode], path) for dest, mode, path in log.fetched if (dest, mode) in KINDS}
    assert {kind for kind, _ in requests} == {"script", "image", "xmlhttprequest"}  # no beacon
    paths = {path.partition("?")[0] for _, path in requests}
    assert paths == {f"{STAGE}/", f"{STAGE}/counter.js", f"{STAGE}/mark.gif", f"{STAGE}/badge.svg"}
    assert [hit for kind, path in sorted(requests) for hit in blocked(lists, kind, path)] == []
    assert errors == []
