"""The files GraphiQL loads are Coop's own: pinned, recorded, served, and nothing else."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from service.browser.graphiql import (
    SCRIPTS,
    STATIC,
    STYLESHEETS,
    VENDORED,
    Asset,
    graphiql_html,
)

README = (STATIC / "graphiql" / "README.md").read_text()


@pytest.mark.parametrize("asset", VENDORED, ids=lambda asset: str(asset.path))
def test_each_vendored_file_is_the_one_pinned_and_recorded(asset: Asset) -> None:
    digest = hashlib.sha384((STATIC / asset.path).read_bytes()).digest()
    pinned = base64.b64encode(digest).decode()
    assert asset.integrity == f"sha384-{pinned}"
    name = asset.path.removeprefix("graphiql/")
    assert re.search(rf"\| `{re.escape(name)}` \|.*\| `{re.escape(pinned)}` \|", README)


def test_every_licence_named_is_shipped() -> None:
    for licence in set(re.findall(r"`(licences/[\w.-]+)`", README)):
        assert (STATIC / "graphiql" / licence).is_file(), licence


def test_the_page_names_no_other_host() -> None:
    html = graphiql_html()
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    for asset in (*STYLESHEETS, *SCRIPTS):
        assert f'"{asset.href}"' in html
