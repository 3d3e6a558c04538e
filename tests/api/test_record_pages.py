"""The record browser's pages of programs, activities and commitments over HTTP, on each
engine: what they show, how they link, and the day and record time they answer for."""

from __future__ import annotations

import re

from tests.api.conftest import Client
from tests.api.test_record_browser import page, section

MEETING = "c40-steering-committee-meeting-2020-12"
COMMITMENT = "tokyo-climate-action-worldwide-movement"
RECORD_WORKSHOP = """mutation($input: RecordActivityInput!) {
  recordActivity(input: $input) { position } }"""


async def test_a_program_page_shows_its_lead_partners_source_and_events(client: Client) -> None:
    html = await page(client, "/programs/beijing-air-quality-technology-exchange")
    assert "<h1>Technology exchange with Beijing on air quality</h1>" in html
    assert '<dt>Led by</dt><dd><a href="/partners/tokyo">Tokyo Metropolitan Government</a>' in html
    assert "PM2.5, VOCs" in html
    partners = section(html, "partners")
    assert '<a href="/partners/beijing">Beijing</a>' in partners
    assert '<a href="/sources#tmg-international-cooperation">' in partners
    assert re.search(r'<a href="/events/\d+" class="event"[^>]*>#\d+ ProgramLaunched</a>', html)
    assert "No activity of this program is on record." in section(html, "activities")


async def test_an_activity_recorded_in_a_program_is_linked_both_ways(client: Client) -> None:
    workshop = {
        "key": "yangon-landfill-workshop",
        "name": "Landfill workshop in Yangon",
        "kind": "WORKSHOP",
        "on": "2021-03",
        "program": "waste-management-bilateral-programs",
        "participants": ["tokyo", "yangon"],
    }
    await client.data(RECORD_WORKSHOP, {"input": workshop}, role="editor")
    program = await page(client, "/programs/waste-management-bilateral-programs")
    activities = section(program, "activities")
    assert '<a href="/activities/yangon-landfill-workshop">Landfill workshop in Yangon</a>' in (
        activities
    )
    assert "in 2021-03" in activities
    activity = await page(client, "/activities/yangon-landfill-workshop")
    assert '<a href="/programs/waste-management-bilateral-programs">' in activity
    assert '<a href="/partners/yangon">' in activity
    found = await page(client, "/?q=landfill")
    assert '<a href="/activities/yangon-landfill-workshop">' in section(found, "activities")
    yangon = section(await page(client, "/partners/yangon"), "activities")
    assert '<a href="/activities/yangon-landfill-workshop">' in yangon
    assert '<a href="/programs/waste-management-bilateral-programs">' in yangon


async def test_an_activity_page_shows_who_met_and_what_was_announced(client: Client) -> None:
    html = await page(client, f"/activities/{MEETING}")
    assert "<h1>C40 Steering Committee meeting</h1>" in html
    assert '<dt>Organised by</dt><dd><a href="/partners/c40">C40</a>' in html
    assert "Steering Committee" in html
    assert "Governor of Tokyo" in html
    announced = section(html, "commitments")
    assert f'<a href="/commitments/{COMMITMENT}">Announced in 2020-12</a>' in announced
    assert "sustainable buildings, green hydrogen" in announced
    assert "businesses" in announced
    assert re.search(r">#\d+ CommitmentAnnounced</a>", announced)


async def test_a_commitment_page_links_its_author_and_its_activity(client: Client) -> None:
    html = await page(client, f"/commitments/{COMMITMENT}")
    assert '<a href="/partners/tokyo">Tokyo Metropolitan Government</a>, the Governor' in html
    assert f'<a href="/activities/{MEETING}">C40 Steering Committee meeting</a>' in html
    assert "green hydrogen" in html
    before = await page(client, f"/commitments/{COMMITMENT}?asOf=2019-01-01")
    assert "This commitment did not hold on 2019-01-01" in before


async def test_partner_and_network_pages_link_their_programs_activities_and_commitments(
    client: Client,
) -> None:
    c40 = await page(client, "/partners/c40")
    assert '<a href="/programs/c40-waste-to-resources">Waste to Resources</a>' in section(
        c40, "programs"
    )
    assert f'<a href="/activities/{MEETING}">' in section(c40, "activities")
    tokyo = await page(client, "/partners/tokyo?asOf=2021-01-01")
    assert f'<a href="/commitments/{COMMITMENT}?asOf=2021-01-01">' in section(tokyo, "commitments")


async def test_search_finds_programs_and_activities(client: Client) -> None:
    html = await page(client, "/?q=air+quality")
    programs = section(html, "programs")
    assert '<a href="/programs/beijing-air-quality-technology-exchange">' in programs
    assert '<a href="/programs/c40-waste-to-resources">' not in programs
    workshops = section(await page(client, "/?q=workshop"), "activities")
    assert '<a href="/activities/online-international-waste-management-workshop">' in workshops


async def test_the_day_asked_changes_what_the_pages_say(client: Client) -> None:
    icap = "/programs/icap-cap-and-trade-knowledge-sharing"
    before = await page(client, f"{icap}?asOf=2005-06-01")
    assert "This program did not hold on 2005-06-01" in before
    assert "since 2009-05" in before
    during = await page(client, f"{icap}?asOf=2010-01-01")
    assert "did not hold" not in during
    assert re.search(r"· active\s+· key", during)
    not_yet = await page(client, f"/activities/{MEETING}?asOf=2020-06-01")
    assert "On 2020-06-01 this had not yet taken place." in not_yet
    unsure = await page(client, f"/activities/{MEETING}?asOf=2020-12-15")
    assert "cannot tell whether this had taken place by 2020-12-15" in unsure
    home = await page(client, "/?asOf=2020-06-01")
    assert MEETING not in section(home, "activities")
    assert MEETING in section(await page(client, "/?asOf=2021-01-01"), "activities")


async def test_the_record_time_asked_and_unknown_keys(client: Client) -> None:
    html = await page(client, f"/activities/{MEETING}?atPosition=1", 404)
    assert f"no activity &#39;{MEETING}&#39; is on record at position 1" in html
    await page(client, "/programs/nothing", 404)
    await page(client, "/commitments/nothing?asOf=2020-01-01", 404)
