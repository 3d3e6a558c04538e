"""GraphiQL in a real browser: it loads from Coop's own files alone, runs a query, and sends
the token typed in its headers editor with HTTP requests and in connection_init."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.acceptance.conftest import running, seeded_database
from tests.acceptance.support import Coop
from tests.browser.conftest import ARTIFACTS, Tab

pytestmark = pytest.mark.asyncio(loop_scope="module")

TOKYO = '{ partner(key: "tokyo") { name memberships { nodes { network { key } since } } } }'
FEED = "subscription { events(after: 0) { position type } }"


@asynccontextmanager
async def locked(tab: Tab, folder: Path, template: Path) -> AsyncIterator[Coop]:
    """The tab on a service of its own that answers nobody without a token ("ri-secret")."""
    async with (
        seeded_database("sqlite", folder, template) as url,
        running(url, require_auth_for_reads=True) as coop,
    ):
        tab.base_url = coop.base_url
        yield coop
        # Leave the page, closing any WebSocket it holds, before the server stops.
        await tab.page.screenshot(path=ARTIFACTS / f"graphiql_locked_{folder.name}.png")
        await tab.page.goto("about:blank")


async def run_query(tab: Tab, query: str, headers: str | None = None) -> str:
    """Open GraphiQL with `query`, type `headers` into its headers editor, run, and return
    the text of the result pane once it shows an answer."""
    await tab.open(f"/graphql?q={quote(query)}")
    await tab.page.wait_for_selector(".graphiql-query-editor .CodeMirror")
    if headers is not None:
        await tab.page.get_by_role("button", name="Headers").click()
        await tab.page.locator(".graphiql-editor-tool .CodeMirror").last.click()
        await tab.page.keyboard.insert_text(headers)
    await tab.page.get_by_role("button", name="Execute query (Ctrl-Enter)").click()
    result = tab.page.locator(".result-window")
    await result.get_by_text('"data"').or_(result.get_by_text('"errors"')).first.wait_for()
    return await result.inner_text()


async def test_graphiql_loads_from_coop_alone_and_answers(tab: Tab) -> None:
    answer = await run_query(tab, TOKYO)
    assert "Tokyo Metropolitan Government" in answer
    assert '"c40"' in answer
    assert tab.requests, "the page made no request at all"
    tab.assert_clean()


async def test_the_explorer_plugin_is_there(tab: Tab) -> None:
    await tab.open("/graphql")
    await tab.page.get_by_role("button", name="Show GraphiQL Explorer").click()
    await tab.page.locator(".graphiql-explorer-root").wait_for()
    assert "partner" in await tab.page.locator(".graphiql-explorer-root").inner_text()
    tab.assert_clean()


async def test_the_token_from_the_headers_editor_opens_a_subscription(
    tab: Tab, tmp_path: Path, sqlite_template: Path
) -> None:
    # The subscription's first event arrives only if the token went with connection_init.
    async with locked(tab, tmp_path, sqlite_template):
        answer = await run_query(tab, FEED, '{"Authorization": "Bearer ri-secret"}')
        assert '"events"' in answer
        assert '"position"' in answer
        # No request went without the token, so none was refused.
        tab.assert_clean()


async def test_where_reads_need_a_token_the_schema_loads_once_it_is_typed(
    tab: Tab, tmp_path: Path, sqlite_template: Path
) -> None:
    async with locked(tab, tmp_path, sqlite_template) as coop:
        await tab.open("/graphql")
        await tab.page.wait_for_selector(".graphiql-query-editor .CodeMirror")
        # The page asks for the token instead of sending a request bound to be refused.
        result = tab.page.locator(".result-window")
        await result.get_by_text("answers only requests that carry a token").wait_for()
        await tab.page.get_by_role("button", name="Show Documentation Explorer").click()
        docs = tab.page.locator(".graphiql-doc-explorer")
        await docs.get_by_text("Error fetching schema").wait_for()
        assert [url for url in tab.requests if "/graphql" in url] == [f"{coop.base_url}/graphql"]
        # The headers editor is open; the token typed there brings the schema.
        headers = tab.page.locator(".graphiql-editor-tool .CodeMirror").last
        assert await headers.is_visible()
        await headers.click()
        await tab.page.keyboard.insert_text('{"Authorization": "Bearer ri-secret"}')
        await docs.get_by_role("link", name="Query").wait_for()
        await tab.page.get_by_role("button", name="Show GraphiQL Explorer").click()
        explorer = tab.page.locator(".graphiql-explorer-root")
        await explorer.get_by_text("partners").first.wait_for()
        tab.assert_clean()
