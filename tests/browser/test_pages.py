"""The record browser in a real browser: the pages render, Tokyo is in C40 from 2006 with a
fuzzy start, the as-of control changes what is shown, the keyboard reaches everything,
nothing is fetched from another host and the console stays clean."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser

from tests.acceptance.support import Coop
from tests.browser.conftest import ARTIFACTS, Tab

pytestmark = pytest.mark.asyncio(loop_scope="module")

C40_BAR = "svg a.period.membership:has(title:text-matches('in C40: since 2006'))"


async def test_from_the_partners_to_tokyo_and_its_timeline(tab: Tab) -> None:
    await tab.open("/")
    cities = tab.page.get_by_role("region", name="City")
    await cities.get_by_role("link", name="Tokyo Metropolitan Government").click()
    await tab.page.wait_for_url("**/partners/tokyo")
    assert await tab.page.get_by_role("heading", level=1).inner_text() == (
        "Tokyo Metropolitan Government"
    )
    bar = tab.page.locator(C40_BAR)
    assert await bar.count() == 1
    assert (
        "a day in that year the source does not give" in await bar.locator("title").text_content()
    )
    # The start is drawn as a fade over the year 2006, then the solid bar.
    ramp = bar.locator("rect[fill='url(#tl-in-membership)']")
    ramp_box = await ramp.bounding_box()
    grid = tab.page.locator("#timeline svg text", has_text="2006")
    year_box = await grid.first.bounding_box()
    assert ramp_box is not None
    assert year_box is not None
    assert abs(ramp_box["x"] - (year_box["x"] + year_box["width"] / 2)) < 3
    next_label = tab.page.locator("#timeline svg text", has_text="2008")
    next_box = await next_label.first.bounding_box()
    assert next_box is not None
    year_width = (next_box["x"] - year_box["x"]) / 2
    assert abs(ramp_box["width"] - year_width) < 3
    tab.assert_clean()


async def test_the_as_of_control_changes_what_is_shown(tab: Tab) -> None:
    await tab.open("/partners/tokyo")
    networks = tab.page.locator("section[aria-labelledby=memberships]")
    assert await networks.get_by_role("link", name="C40", exact=True).count() == 1
    await tab.page.get_by_label("As of (a day in the world)").focus()
    await tab.page.keyboard.type("06012005")  # in the field's own order (en-US), as typed
    await tab.page.keyboard.press("Enter")
    await tab.page.wait_for_url("**/partners/tokyo?asOf=2005-06-01")
    assert "No membership on record on that day." in await networks.inner_text()
    assert await tab.page.locator("#timeline svg .as-of").count() == 1
    await tab.page.get_by_role("link", name="Today, as the record stands now").click()
    await tab.page.wait_for_url("**/partners/tokyo")
    assert await networks.get_by_role("link", name="C40", exact=True).count() == 1
    tab.assert_clean()


async def test_the_keyboard_reaches_the_content_and_the_bars(tab: Tab) -> None:
    await tab.open("/partners/c40")
    await tab.page.keyboard.press("Tab")
    focused = await tab.page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to the content"
    bar = tab.page.locator("#timeline svg a.period").first
    await bar.focus()
    assert await bar.evaluate("element => element === document.activeElement")
    await tab.page.keyboard.press("Enter")
    await tab.page.wait_for_url("**/partners/london")
    tab.assert_clean()


async def test_the_standalone_drawings_render(tab: Tab) -> None:
    for path in ("/timeline/c40.svg", "/members/c40.svg"):
        await tab.open(path)
        title = await tab.page.evaluate(
            "document.documentElement.querySelector('title').textContent"
        )
        assert "C40" in title
    tab.assert_clean()


async def test_the_events_and_sources_pages(tab: Tab) -> None:
    # (The search is tried in test_programs.py, where it finds programs and activities too.)
    await tab.open("/partners/tokyo")
    await tab.page.locator("section[aria-labelledby=memberships] .origin a.event").first.click()
    await tab.page.wait_for_url("**/events/*")
    assert "MembershipStarted" in await tab.page.get_by_role("heading", level=1).inner_text()
    await tab.open("/sources")
    assert await tab.page.locator("#tmg-international-cooperation").count() == 1
    tab.assert_clean()


async def test_the_record_position_control_shows_the_record_as_it_stood(tab: Tab) -> None:
    await tab.open("/partners/tokyo")
    await tab.page.get_by_label("or at log position").fill("1")
    await tab.page.get_by_role("button", name="Show").click()
    await tab.page.wait_for_url("**/partners/tokyo?atPosition=1")
    # At position 1 only the source was registered: Tokyo is not on record yet.
    assert (
        "no partner 'tokyo' is on record at position 1"
        in await tab.page.get_by_role("alert").inner_text()
    )
    await tab.open("/?atPosition=1")
    assert "No partner matches." in await tab.page.locator("main").inner_text()
    assert tab.elsewhere() == []
    # The refusal is a page with status 404: the browser logs that, and nothing else.
    assert all("404" in error for error in tab.errors), tab.errors


async def test_the_pages_read_and_answer_without_javascript(chromium: Browser, site: Coop) -> None:
    context = await chromium.new_context(java_script_enabled=False)
    try:
        page = await context.new_page()
        await page.goto(f"{site.base_url}/partners/tokyo")
        assert await page.locator("#timeline svg a.period").count() == 4
        await page.get_by_label("As of (a day in the world)").fill("2005-06-01")
        await page.get_by_role("button", name="Show").click()
        await page.wait_for_url("**/partners/tokyo?asOf=2005-06-01*")
        networks = page.locator("section[aria-labelledby=memberships]")
        assert "No membership on record on that day." in await networks.inner_text()
        await page.screenshot(path=ARTIFACTS / "without_javascript.png", full_page=True)
    finally:
        await context.close()
