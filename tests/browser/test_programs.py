"""Programs, activities and commitments in a real browser: reached from the partner and
network pages and from the search, linked to each other, answering for the day asked, read
from the keyboard and without JavaScript, with nothing fetched from another host and a
clean console."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser

from tests.acceptance.support import Coop
from tests.browser.conftest import ARTIFACTS, Tab

pytestmark = pytest.mark.asyncio(loop_scope="module")

MEETING = "C40 Steering Committee meeting"


async def test_from_tokyo_to_a_program_and_its_partner(tab: Tab) -> None:
    await tab.open("/partners/tokyo")
    programs = tab.page.locator("section[aria-labelledby=programs]")
    await programs.get_by_role(
        "link", name="Technology exchange with Beijing on air quality"
    ).click()
    await tab.page.wait_for_url("**/programs/beijing-air-quality-technology-exchange")
    assert await tab.page.get_by_role("heading", level=1).inner_text() == (
        "Technology exchange with Beijing on air quality"
    )
    about = tab.page.locator("dl.about")
    assert "Tokyo Metropolitan Government" in await about.inner_text()
    assert "PM2.5, VOCs" in await about.inner_text()
    partners = tab.page.locator("section[aria-labelledby=partners]")
    assert "tmg-international-cooperation" in await partners.locator(".origin").inner_text()
    await partners.get_by_role("link", name="Beijing", exact=True).click()
    await tab.page.wait_for_url("**/partners/beijing")
    tab.assert_clean()


async def test_from_c40_to_its_meeting_and_what_was_announced_there(tab: Tab) -> None:
    await tab.open("/partners/c40")
    activities = tab.page.locator("section[aria-labelledby=activities]")
    await activities.get_by_role("link", name=MEETING).click()
    await tab.page.wait_for_url("**/activities/c40-steering-committee-meeting-2020-12")
    assert await tab.page.get_by_role("heading", level=1).inner_text() == MEETING
    announced = tab.page.locator("section[aria-labelledby=commitments]")
    assert "green hydrogen" in await announced.inner_text()
    await announced.get_by_role("link", name="Announced in 2020-12").click()
    await tab.page.wait_for_url("**/commitments/tokyo-climate-action-worldwide-movement")
    assert "businesses" in await tab.page.locator("dl.about").inner_text()
    await tab.page.locator("dl.about").get_by_role("link", name=MEETING).click()
    await tab.page.wait_for_url("**/activities/c40-steering-committee-meeting-2020-12")
    await tab.page.locator(".origin a.event").first.click()
    await tab.page.wait_for_url("**/events/*")
    assert "ActivityRecorded" in await tab.page.get_by_role("heading", level=1).inner_text()
    tab.assert_clean()


async def test_search_finds_programs_and_activities(tab: Tab) -> None:
    await tab.open("/")
    await tab.page.get_by_label("Find a partner, a program or an activity").fill("waste")
    await tab.page.get_by_role("button", name="Search").click()
    await tab.page.wait_for_url("**/?q=waste")
    programs = tab.page.locator("section[aria-labelledby=programs]")
    assert await programs.get_by_role("link", name="Waste to Resources").count() == 1
    activities = tab.page.locator("section[aria-labelledby=activities]")
    workshop = activities.get_by_role("link", name="Online International Waste Management Workshop")
    await workshop.click()
    await tab.page.wait_for_url("**/activities/online-international-waste-management-workshop")
    assert "online" in await tab.page.locator(".lede").inner_text()
    tab.assert_clean()


async def test_the_as_of_control_changes_what_a_program_page_says(tab: Tab) -> None:
    await tab.open("/programs/icap-cap-and-trade-knowledge-sharing")
    status = tab.page.get_by_role("status")
    assert await status.count() == 0
    await tab.page.get_by_label("As of (a day in the world)").focus()
    await tab.page.keyboard.type("06012005")  # in the field's own order (en-US), as typed
    await tab.page.keyboard.press("Enter")
    await tab.page.wait_for_url("**/programs/icap-cap-and-trade-knowledge-sharing?asOf=2005-06-01")
    assert "did not hold on 2005-06-01" in await status.inner_text()
    # Links carry the day on: the lead's page answers for it too.
    await (
        tab.page.locator("dl.about")
        .get_by_role("link", name="Tokyo Metropolitan Government")
        .click()
    )
    await tab.page.wait_for_url("**/partners/tokyo?asOf=2005-06-01")
    networks = tab.page.locator("section[aria-labelledby=memberships]")
    assert "No membership on record on that day." in await networks.inner_text()
    tab.assert_clean()


async def test_the_keyboard_reaches_an_activity_from_a_program(tab: Tab) -> None:
    await tab.open("/partners/c40")
    link = tab.page.locator("section[aria-labelledby=programs]").get_by_role(
        "link", name="Waste to Resources"
    )
    await link.focus()
    await tab.page.keyboard.press("Enter")
    await tab.page.wait_for_url("**/programs/c40-waste-to-resources")
    await tab.page.keyboard.press("Tab")
    assert await tab.page.evaluate("document.activeElement.textContent") == "Skip to the content"
    tab.assert_clean()


async def test_an_activity_page_reads_without_javascript(chromium: Browser, site: Coop) -> None:
    context = await chromium.new_context(java_script_enabled=False)
    try:
        page = await context.new_page()
        await page.goto(f"{site.base_url}/activities/c40-steering-committee-meeting-2020-12")
        await page.get_by_label("As of (a day in the world)").fill("2020-06-01")
        await page.get_by_role("button", name="Show").click()
        await page.wait_for_url(
            "**/activities/c40-steering-committee-meeting-2020-12?asOf=2020-06-01*"
        )
        assert "had not yet taken place" in await page.get_by_role("status").inner_text()
        await page.screenshot(path=ARTIFACTS / "activity_without_javascript.png", full_page=True)
    finally:
        await context.close()
