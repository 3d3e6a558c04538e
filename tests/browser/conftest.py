"""A real Chromium (Debian's package, driven by Playwright) against a real uvicorn server.

The browser tests run on SQLite only: the pages read through the same queries as the API,
whose tests (and tests/browser/test_pages.py over HTTP) run on both engines. Chromium must
be installed (`.ci/run` installs it); without it these tests fail, they are not skipped.
Each test leaves a screenshot in tests/artifacts/.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import pytest_asyncio
from playwright.async_api import Browser, ConsoleMessage, Page, Request, async_playwright

from tests.acceptance.conftest import running, seeded_database, sqlite_template
from tests.acceptance.support import Coop

__all__ = ["sqlite_template"]  # a fixture the servers here are seeded from

CHROMIUM = Path(os.environ.get("COOP_TEST_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (.ci/run does)")
    ARTIFACTS.mkdir(exist_ok=True)
    return str(CHROMIUM)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def chromium(chromium_executable: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        # Debian's Chromium, not a browser build of Playwright's own (none is downloaded).
        browser = await playwright.chromium.launch(executable_path=chromium_executable)
        try:
            yield browser
        finally:
            await browser.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def site(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> AsyncIterator[Coop]:
    """One seeded service per module, served by uvicorn; the modules here only read it."""
    folder = tmp_path_factory.mktemp("browser")
    async with seeded_database("sqlite", folder, sqlite_template) as url, running(url) as coop:
        yield coop


@dataclass
class Tab:
    """A page of the browser, with every request it made and every error it logged."""

    page: Page
    base_url: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    async def open(self, path: str) -> None:
        response = await self.page.goto(self.base_url + path)
        assert response is not None
        assert response.ok, f"{path}: {response.status}"

    def elsewhere(self) -> list[str]:
        """Requests to any host but the one served (data: URLs go nowhere)."""
        host = urlsplit(self.base_url).netloc
        return [
            url
            for url in self.requests
            if not url.startswith("data:") and urlsplit(url).netloc != host
        ]

    def assert_clean(self) -> None:
        assert self.elsewhere() == []
        assert self.errors == []


@pytest_asyncio.fixture(loop_scope="module")
async def tab(chromium: Browser, site: Coop, request: pytest.FixtureRequest) -> AsyncIterator[Tab]:
    context = await chromium.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    tab = Tab(page, site.base_url)

    def on_request(sent: Request) -> None:
        tab.requests.append(sent.url)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            tab.errors.append(message.text)

    page.on("request", on_request)
    page.on("console", on_console)
    page.on("pageerror", lambda error: tab.errors.append(str(error)))
    try:
        yield tab
    finally:
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        # A standalone drawing is no HTML page: Chromium takes only its viewport.
        whole = await page.evaluate("document.contentType") == "text/html"
        await page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=whole)
        await context.close()
