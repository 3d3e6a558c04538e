"""GraphiQL in a real browser: it loads from Coop's own files alone, runs a query, and sends
the token typed in its headers editor with HTTP requests and in connection_init."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest

from tests.acceptance.conftest import running, seeded_database
from tests.browser.conftest import ARTIFACTS, Tab

pytestmark = pytest.mark.asyncio(loop_scope="module")

TOKYO = '{ partner(key: "tokyo") { name memberships { nodes { network { key } since } } } }'
FEED = "subscription { events(after: 0) { position type } }"


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
    # A service that answers nobody without a token: the subscription's first event arrives
    # only if the token went with connection_init.
    async with (
        seeded_database("sqlite", tmp_path, sqlite_template) as url,
        running(url, require_auth_for_reads=True) as locked,
    ):
        tab.base_url = locked.base_url
        answer = await run_query(tab, FEED, '{"Authorization": "Bearer ri-secret"}')
        assert '"events"' in answer
        assert '"position"' in answer
        assert tab.elsewhere() == []
        # Before the token was typed, GraphiQL's schema request was refused: that alone.
        assert all("401" in error for error in tab.errors), tab.errors
        # Leave the page, closing its WebSocket, before the server stops.
        await tab.page.screenshot(path=ARTIFACTS / "graphiql_subscription.png")
        await tab.page.goto("about:blank")
