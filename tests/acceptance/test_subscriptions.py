"""graphql-transport-ws subscriptions: replay then live, filters, resume, auth, protocol."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import websockets

from service.app import create_app
from service.server import server_for
from service.services import build_services
from service.settings import Settings, parse_tokens
from tests.acceptance.support import TOKENS, Coop, Subscriber
from tests.servers import free_port

EVENTS = """
subscription($after: Int, $streamIds: [String!], $types: [String!]) {
  events(after: $after, streamIds: $streamIds, types: $types) { position streamId type data }
}
"""
MEMBERSHIPS = """
subscription($network: String, $after: Int) {
  membershipChanges(network: $network, after: $after) {
    position type membership { member { key } network { key } since until }
  }
}
"""
PARTNERS = """
subscription($key: String, $after: Int) {
  partnerChanges(key: $key, after: $after) { position type partner { key name } }
}
"""
LIVE = 4.0  # seconds a live event may take: less than the 5 s re-read interval


async def rename(coop: Coop, key: str, name: str) -> int:
    input = {"id": await coop.id_of("partner", key), "name": name, "effective": "2021"}
    payload = await coop.ok("updatePartner", input)
    position: int = payload["position"]
    return position


async def test_events_replays_after_a_position_then_continues_live(coop: Coop) -> None:
    async with Subscriber.connect(coop.base_url) as client:
        await client.subscribe(EVENTS, {"after": 30})
        replayed = [(await client.next())["events"] for _ in range(7)]
        assert [e["position"] for e in replayed] == list(range(31, 38))
        assert all(e["streamId"] and e["type"] and isinstance(e["data"], dict) for e in replayed)
        position = await rename(coop, "tokyo", "Tokyo live")
        live = (await client.next(LIVE))["events"]
        assert live["position"] == position == 38
        assert (live["streamId"], live["type"]) == ("partner:tokyo", "PartnerUpdated")
        assert live["data"]["name"] == "Tokyo live"


async def test_without_after_a_feed_starts_from_now(coop: Coop) -> None:
    async with Subscriber.connect(coop.base_url) as client:
        await client.subscribe(EVENTS)
        await client.nothing_within(0.5)
        position = await rename(coop, "beijing", "Beijing now")
        event = (await client.next(LIVE))["events"]
        assert event["position"] == position


async def test_replay_then_live_with_writes_during_the_replay(coop: Coop) -> None:
    async def write() -> int:
        last = 0
        for number in range(8):
            last = await rename(coop, "paris", f"Paris {number}")
        return last

    async with Subscriber.connect(coop.base_url) as client:
        await client.subscribe(EVENTS, {"after": 0})
        writer = asyncio.create_task(write())
        positions: list[int] = []
        while len(positions) < 45:
            positions.append((await client.next(LIVE))["events"]["position"])
        assert await writer == 45
        assert positions == list(range(1, 46)), "no gap and no duplicate at the seam"
        await client.nothing_within(0.3)


async def test_filtered_by_stream_and_type(coop: Coop) -> None:
    async with Subscriber.connect(coop.base_url) as client:
        await client.subscribe(
            EVENTS, {"after": 37, "streamIds": ["partner:tokyo"], "types": ["PartnerUpdated"]}
        )
        await client.nothing_within(0.3)
        await coop.ok("registerPartner", {"key": "seoul", "name": "Seoul", "kind": "CITY"})
        await rename(coop, "beijing", "Beijing filtered")
        await coop.ok("startMembership", {"member": "paris", "network": "icap", "since": "2012"})
        wanted = await rename(coop, "tokyo", "Tokyo filtered")
        event = (await client.next(LIVE))["events"]
        assert (event["position"], event["streamId"], event["type"]) == (
            wanted,
            "partner:tokyo",
            "PartnerUpdated",
        )
        await rename(coop, "seoul", "Seoul again")
        again = await rename(coop, "tokyo", "Tokyo again")
        assert (await client.next(LIVE))["events"]["position"] == again


async def test_resume_after_a_disconnect_gets_exactly_what_was_missed(coop: Coop) -> None:
    async with Subscriber.connect(coop.base_url) as client:
        await client.subscribe(EVENTS, {"after": 37})
        first = await rename(coop, "tokyo", "Tokyo 1")
        last_seen = (await client.next(LIVE))["events"]["position"]
        assert last_seen == first
    missed = [await rename(coop, "tokyo", f"Tokyo {n}") for n in (2, 3, 4)]
    async with Subscriber.connect(coop.base_url) as client:
        await client.subscribe(EVENTS, {"after": last_seen})
        got = [(await client.next(LIVE))["events"] for _ in missed]
        assert [e["position"] for e in got] == missed
        assert [e["data"]["name"] for e in got] == ["Tokyo 2", "Tokyo 3", "Tokyo 4"]
        following = await rename(coop, "tokyo", "Tokyo 5")
        assert (await client.next(LIVE))["events"]["position"] == following


async def test_membership_changes_of_one_network(coop: Coop) -> None:
    await coop.ok("registerPartner", {"key": "seoul", "name": "Seoul", "kind": "CITY"})
    async with Subscriber.connect(coop.base_url) as client:
        await client.subscribe(MEMBERSHIPS, {"network": "c40", "after": 0})
        replayed = [(await client.next())["membershipChanges"] for _ in range(5)]
        assert {c["membership"]["member"]["key"] for c in replayed} == {
            "tokyo",
            "london",
            "paris",
            "new-york",
            "los-angeles",
        }
        assert all(c["membership"]["network"]["key"] == "c40" for c in replayed)
        positions = [c["position"] for c in replayed]
        assert positions == sorted(positions)
        assert len(set(positions)) == 5
        await client.nothing_within(0.3)

        await coop.ok("startMembership", {"member": "seoul", "network": "icap", "since": "2011"})
        joined = await coop.ok(
            "startMembership",
            {"member": "seoul", "network": "c40", "since": "2010"},
            "position membership { id }",
        )
        change = (await client.next(LIVE))["membershipChanges"]
        assert change["position"] == joined["position"]
        assert change["membership"]["member"]["key"] == "seoul"
        assert change["membership"]["since"] == "2010"

        ended = await coop.ok("endMembership", {"id": joined["membership"]["id"], "until": "2020"})
        change = (await client.next(LIVE))["membershipChanges"]
        assert change["position"] == ended["position"]
        assert change["membership"]["until"] == "2020"
    async with Subscriber.connect(coop.base_url) as client:
        await client.subscribe(MEMBERSHIPS, {"network": "c40", "after": joined["position"]})
        change = (await client.next(LIVE))["membershipChanges"]
        assert change["position"] == ended["position"], "resumed after the last position seen"


async def test_partner_changes_carry_the_state_each_change_made(coop: Coop) -> None:
    async with Subscriber.connect(coop.base_url) as client:
        await client.subscribe(PARTNERS, {"key": "tokyo"})
        await client.nothing_within(0.5)
        await rename(coop, "beijing", "Beijing B")
        first = await rename(coop, "tokyo", "Tokyo A")
        change = (await client.next(LIVE))["partnerChanges"]
        assert change["position"] == first
        assert change["partner"] == {"key": "tokyo", "name": "Tokyo A"}
    second = await rename(coop, "tokyo", "Tokyo B")
    third = await rename(coop, "tokyo", "Tokyo C")
    async with Subscriber.connect(coop.base_url) as client:
        await client.subscribe(PARTNERS, {"key": "tokyo", "after": first})
        got = [(await client.next(LIVE))["partnerChanges"] for _ in range(2)]
        assert [c["position"] for c in got] == [second, third]
        assert [c["partner"]["name"] for c in got] == ["Tokyo B", "Tokyo C"], (
            "each change delivers the partner as that change left it"
        )


async def test_a_bad_token_in_connection_init_closes_with_4403(coop: Coop) -> None:
    async with Subscriber.open(coop.base_url) as client:
        await client.send(
            {"type": "connection_init", "payload": {"authorization": "Bearer not-a-token"}}
        )
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await client.receive(5)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4403
    for role in (None, "reader", "editor", "auditor"):
        async with Subscriber.connect(coop.base_url, role):
            pass


async def test_connection_init_decides_what_the_subscriber_may_see(coop: Coop) -> None:
    query = "subscription { events(after: 1) { position metadata } }"
    async with Subscriber.connect(coop.base_url, "auditor") as client:
        await client.subscribe(query)
        event = (await client.next())["events"]
        assert event["position"] == 2
        assert event["metadata"]["actor"] == "seed"
    for role in (None, "reader"):
        async with Subscriber.connect(coop.base_url, role) as client:
            await client.subscribe(query)
            message = await client.receive(5)
            assert message["type"] in ("error", "next"), message
            if message["type"] == "next":
                assert message["payload"].get("errors"), message
            assert '"actor": "seed"' not in json.dumps(message), (role, message)


async def first_reply(client: Subscriber) -> dict[str, Any]:
    """The next message, or {"close": code} when the server closes the socket."""
    try:
        return await client.receive(5)
    except websockets.ConnectionClosed as closed:
        return {"close": closed.rcvd.code if closed.rcvd else None}


async def test_reads_that_need_a_token_need_one_on_the_socket_too(start: Any) -> None:
    async with start(require_auth_for_reads=True) as coop:
        async with Subscriber.open(coop.base_url) as client:
            await client.send({"type": "connection_init", "payload": {}})
            reply = await first_reply(client)
            if reply.get("type") == "connection_ack":
                await client.subscribe("subscription { events(after: 0) { position } }")
                reply = await first_reply(client)
            refused = reply.get("close") in (4401, 4403) or reply.get("type") == "error"
            assert refused or reply["payload"].get("errors"), reply
        async with Subscriber.connect(coop.base_url, "reader") as client:
            await client.subscribe("subscription { events(after: 36) { position } }")
            assert (await client.next())["events"]["position"] == 37


async def test_protocol_basics(coop: Coop) -> None:
    async with Subscriber.open(coop.base_url) as client:
        assert client.socket.subprotocol == "graphql-transport-ws"
        await client.subscribe("subscription { events { position } }")
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await client.receive(5)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4401
    async with Subscriber.connect(coop.base_url) as client:
        await client.subscribe("subscription { events { noSuchField } }", id="bad")
        message = await client.receive(5)
        assert (message["type"], message["id"]) == ("error", "bad"), message
        await client.subscribe("subscription { events(after: 36) { position } }", id="a")
        assert (await client.receive(5)) == {
            "id": "a",
            "type": "next",
            "payload": {"data": {"events": {"position": 37}}},
        }
        await client.send({"id": "a", "type": "complete"})
        await rename(coop, "tokyo", "After complete")
        await client.nothing_within(0.5)


async def test_keep_alive_pings(start: Any) -> None:
    async with start(ws_ping_seconds=0.2) as coop, Subscriber.connect(coop.base_url) as client:
        message = json.loads(await asyncio.wait_for(client.socket.recv(), 3))
        assert message["type"] == "ping"
        await client.send({"type": "pong"})


async def test_shutdown_completes_every_subscription(seeded_url: str) -> None:
    settings = Settings(database_url=seeded_url, tokens=parse_tokens(TOKENS))
    services = build_services(settings)
    await services.start()
    port = free_port()
    server = server_for(create_app(settings, services), "127.0.0.1", port, log_level="warning")
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started:
                break
            await asyncio.sleep(0.02)
        async with Subscriber.connect(f"http://127.0.0.1:{port}") as client:
            await client.subscribe("subscription { events { position } }", id="live")
            await client.subscribe(PARTNERS, {"key": "tokyo"}, id="tokyo")
            await asyncio.sleep(0.3)
            server.should_exit = True
            messages = [await client.receive(10) for _ in range(2)]
            assert sorted(messages, key=lambda m: m["id"]) == [
                {"id": "live", "type": "complete"},
                {"id": "tokyo", "type": "complete"},
            ]
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)
        await services.close()
