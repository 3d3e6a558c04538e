"""The record browser over HTTP, on each engine: pages and drawings read as the API does,
on the day and record time asked, and refuse what they cannot show with a page saying why."""

from __future__ import annotations

import itertools
import re
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

from schema.access import ANONYMOUS
from schema.root import build_schema
from service.app import create_app
from service.browser import documents
from service.browser.pages import Browser
from service.browser.reading import Moment
from service.services import build_services
from service.settings import Settings
from tests.api.conftest import BEARER, Client

MEMBERSHIPS = """{ partner(key: "tokyo") {
  memberships { nodes { id membershipId network { key } } } } }"""


async def page(client: Client, path: str, status: int = 200) -> str:
    response = await client.http.get(path)
    assert response.status_code == status, response.text
    return response.text


def section(html: str, heading_id: str) -> str:
    """The HTML of the page's section whose heading has this id."""
    start = html.index(f'id="{heading_id}"')
    return html[start : html.find("</section>", start)]


async def membership_id(client: Client, network: str) -> tuple[str, str]:
    data = await client.data(MEMBERSHIPS)
    found = [m for m in data["partner"]["memberships"]["nodes"] if m["network"]["key"] == network]
    return found[0]["id"], found[0]["membershipId"]


async def correct_and_end_icap(client: Client) -> int:
    """Correct Tokyo's ICAP membership to a day, then end it; the head before both."""
    global_id, _ = await membership_id(client, "icap")
    before = (await client.data("{ audit { head { position } } }", role="auditor"))["audit"]
    mutation = """mutation($id: ID!) {
      correctMembership(input: {id: $id, since: "2009-05-12", reason: "the day is known"}) { position }
    }"""
    await client.data(mutation, {"id": global_id}, role="editor")
    ended = 'mutation($id: ID!) { endMembership(input: {id: $id, until: "2024"}) { position } }'
    await client.data(ended, {"id": global_id}, role="editor")
    return int(before["head"]["position"])


async def test_home_lists_partners_by_kind_and_searches(client: Client) -> None:
    response = await client.http.get("/")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    html = response.text
    assert '<a href="/partners/tokyo">Tokyo Metropolitan Government</a>' in html
    assert '<a href="/partners/c40">C40</a>' in html
    assert "<h3>Network</h3>" in html
    found = await page(client, "/?q=carbon")
    assert "International Carbon Action Partnership" in found
    assert "/partners/tokyo" not in found
    assert "No partner matches." in await page(client, "/?q=atlantis")


async def test_partner_page_shows_memberships_with_source_and_events(client: Client) -> None:
    html = await page(client, "/partners/tokyo")
    networks = section(html, "memberships")
    assert '<a href="/partners/c40">C40</a></strong>: since 2006' in networks
    assert "International Carbon Action Partnership" in networks
    assert '<a href="/sources#tmg-international-cooperation">' in networks
    assert "Cooperation with C40" in networks
    assert re.search(r'<a href="/events/\d+" class="event"[^>]*>#\d+ MembershipStarted</a>', html)
    roles = section(html, "roles")
    assert "vice chair" in roles
    assert "Governor of Tokyo" in roles


async def test_the_page_answers_as_the_api_does(client: Client) -> None:
    data = await client.data('{ partner(key: "c40") { members { nodes { member { key } } } } }')
    api = {node["member"]["key"] for node in data["partner"]["members"]["nodes"]}
    members = section(await page(client, "/partners/c40"), "members")
    shown = set(re.findall(r'<strong><a href="/partners/([\w-]+)">', members))
    assert shown == api
    assert len(api) == 5


async def test_as_of_a_day_shows_what_held_then(client: Client) -> None:
    before = section(await page(client, "/partners/tokyo?asOf=2005-06-01"), "memberships")
    assert "No membership on record on that day." in before
    in_2008 = section(await page(client, "/partners/tokyo?asOf=2008-01-01"), "memberships")
    assert "/partners/c40?asOf=2008-01-01" in in_2008
    assert "International Carbon Action Partnership" not in in_2008  # joined in May 2009
    in_2006 = section(await page(client, "/partners/tokyo?asOf=2006-03-01"), "memberships")
    assert "uncertain on that day" in in_2006  # "2006" cannot say whether by March


async def test_a_record_position_shows_the_record_as_it_stood(client: Client) -> None:
    _, membership = await membership_id(client, "c40")
    history = await client.data(
        '{ history(key: "%s") { nodes { version { position } } } }' % membership
    )
    recorded = history["history"]["nodes"][0]["version"]["position"]
    before = await page(client, f"/partners/tokyo?atPosition={recorded - 1}")
    assert "/partners/c40?atPosition" not in section(before, "memberships")
    assert f"as the record stood at <strong>log position {recorded - 1}</strong>" in before
    after = await page(client, f"/partners/tokyo?atPosition={recorded}")
    assert f"/partners/c40?atPosition={recorded}" in section(after, "memberships")


async def test_bad_controls_and_unknown_partners_get_a_page_saying_why(client: Client) -> None:
    html = await page(client, "/partners/tokyo?asOf=2005-13-01", 400)
    assert "asOf: &#39;2005-13-01&#39; is not a day, YYYY-MM-DD" in html
    both = await page(client, "/partners/tokyo?knownAt=2020-01-01T00:00&atPosition=3", 400)
    assert "give knownAt or atPosition, not both" in both
    beyond = await page(client, "/partners/tokyo?atPosition=999999", 400)
    assert "atPosition 999999 is not in the log" in beyond
    assert "no partner &#39;atlantis&#39; is on record" in await page(
        client, "/partners/atlantis", 404
    )
    await page(client, "/timeline/atlantis.svg", 404)


async def test_the_timeline_is_an_svg_at_a_stable_address(client: Client) -> None:
    response = await client.http.get("/timeline/c40.svg")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    svg = response.text
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert '<title id="tl-title">Timeline of C40</title>' in svg
    assert (
        "<title>Tokyo Metropolitan Government in C40: since 2006 (a day in that year the"
        " source does not give); no end on record</title>"
    ) in svg
    assert svg.count('class="period member"') == 5
    inline = await page(client, "/partners/c40")
    assert svg in inline  # the page draws the very same timeline


async def test_corrections_and_ends_are_drawn_and_earlier_positions_keep_their_picture(
    client: Client,
) -> None:
    earlier = await correct_and_end_icap(client)
    now = await page(client, "/timeline/tokyo.svg")
    assert "International Carbon Action Partnership: since 2009-05-12; until 2024" in now
    assert "corrected since first recorded" in now
    then = await page(client, f"/timeline/tokyo.svg?atPosition={earlier}")
    assert "since 2009-05 (a day in that month" in then
    assert "corrected" not in then.split('<g class="legend"')[0]
    html = await page(client, "/partners/tokyo")
    assert "MembershipCorrected" in section(html, "memberships")


async def test_the_members_chart_counts_each_year(client: Client) -> None:
    response = await client.http.get("/members/c40.svg")
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert "<title>2006: 1 certainly a member at some time in the year, 4 more possibly" in (
        response.text
    )
    html = await page(client, "/partners/c40")
    assert '<tr><th scope="row">2006</th><td>1</td><td>4</td></tr>' in html
    assert 'id="members-chart"' not in await page(client, "/partners/tokyo")


async def test_sources_and_events_pages(client: Client) -> None:
    sources = await page(client, "/sources")
    assert 'id="tmg-international-cooperation"' in sources
    section_id = "tmg-international-cooperation--cooperation-with-c40"
    assert f'<li id="{section_id}">Cooperation with C40</li>' in sources
    tokyo = await page(client, "/partners/tokyo")
    assert f'<a href="/sources#{section_id}">“Cooperation with C40”</a>' in tokyo
    event = await page(client, "/events/1")
    assert "Event #1: SourceRegistered" in event
    await page(client, "/events/999999", 404)


async def test_where_reads_need_a_token_so_do_the_pages(client: Client) -> None:
    settings = replace(client.services.settings, require_auth_for_reads=True)
    app = create_app(settings, client.services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://coop") as http:
        for path in ("/", "/partners/tokyo", "/timeline/c40.svg"):
            refused = await http.get(path)
            assert refused.status_code == 401, path
            assert refused.headers["www-authenticate"] == "Bearer"
            assert (await http.get(path, headers=BEARER["reader"])).status_code == 200
        assert (await http.get("/", headers={"authorization": "Bearer nope"})).status_code == 401


async def test_a_database_that_cannot_answer_gets_a_page_saying_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no-such-folder' / 'coop.db'}"
    settings = Settings(database_url=url)
    services = build_services(settings)
    try:
        transport = httpx.ASGITransport(app=create_app(settings, services))
        async with httpx.AsyncClient(transport=transport, base_url="http://coop") as http:
            for path in ("/", "/partners/tokyo", "/timeline/c40.svg"):
                response = await http.get(path)
                assert response.status_code == 503, path
                assert response.headers["retry-after"] == "1"
                assert "cannot answer just now" in response.text
    finally:
        await services.engine.dispose()


async def test_long_lists_continue_page_by_page(client: Client) -> None:
    settings = replace(client.services.settings, max_page_size=2)
    app = create_app(settings, client.services)
    transport = httpx.ASGITransport(app=app)
    shown: list[str] = []
    async with httpx.AsyncClient(transport=transport, base_url="http://coop") as http:
        html = (await http.get("/partners/c40")).text
        path: str | None = None
        while True:
            members = section(html, "members")
            shown += re.findall(r'<strong><a href="/partners/([\w-]+)">', members)
            found = re.search(
                r'<a href="(/partners/c40/members\?after=[^"]+)" rel="next">', members
            )
            if found is None:
                break
            path = found.group(1).replace("&amp;", "&")
            html = (await http.get(path)).text
        assert path is not None, "the first page links to the next"
        assert (await http.get("/partners/c40/nonsense")).status_code == 404
    assert sorted(shown) == ["london", "los-angeles", "new-york", "paris", "tokyo"]


async def test_a_page_is_kept_for_its_record_position_and_made_anew_after_a_write(
    client: Client,
) -> None:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    first = await page(client, "/partners/tokyo")
    event.listen(client.services.engine.sync_engine, "before_cursor_execute", count)
    try:
        again = await page(client, "/partners/tokyo")
        kept = len(statements)
        global_id, _ = await membership_id(client, "icap")
        ended = 'mutation($id: ID!) { endMembership(input: {id: $id, until: "2024"}) { position } }'
        await client.data(ended, {"id": global_id}, role="editor")
        statements.clear()
        after = await page(client, "/partners/tokyo")
    finally:
        event.remove(client.services.engine.sync_engine, "before_cursor_execute", count)
    assert again == first
    assert kept <= 2, "only the log's head is read for a kept page"
    assert "until 2024" in section(after, "memberships")
    assert len(statements) > 5


async def test_the_partner_page_reads_in_parts_what_the_api_answers_in_one(
    client: Client,
) -> None:
    """The page asks its facts in parts (most of them compiled to one statement, the
    origins of those read at once): the answer must be the API's to the page's whole
    question, on every day and record time, corrections and ends included."""
    earlier = await correct_and_end_icap(client)
    services = client.services
    browser = Browser(services.settings, services, build_schema())
    moments = [Moment(), Moment(as_of=date(2008, 1, 1)), Moment(at_position=earlier)]
    moments.append(Moment(as_of=date(2025, 1, 1), at_position=earlier + 1))
    for key, moment in itertools.product(("tokyo", "c40", "icap", "beijing"), moments):
        position = await browser.timelines.position(moment)
        whole = await browser._ask(documents.PARTNER, {"key": key}, ANONYMOUS, moment, position)
        parts = await browser._partner_facts(ANONYMOUS, moment, key, position)
        assert parts == whole["partner"], (key, moment)
        for name, document in documents.RELATION.items():
            variables = {"key": key, "after": None}
            one = await browser._ask(document, variables, ANONYMOUS, moment, position)
            paged = await browser._relation_facts(ANONYMOUS, moment, key, name, None, position)
            assert paged == one["partner"], (key, moment, name)
    shown = await browser._partner_facts(ANONYMOUS, Moment(), "tokyo", earlier + 2)
    icap = [m for m in shown["memberships"]["nodes"] if m["network"]["key"] == "icap"]
    types = [made["type"] for made in icap[0]["provenance"]["nodes"]]
    assert types == ["MembershipStarted", "MembershipCorrected", "MembershipEnded"]
