"""Domain feeds, authentication on the socket, pings and a clean shutdown, over a real server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
import websockets

from domain.commands import EndMembership, RegisterPartner, StartMembership
from events.dates import PartialDate
from service.app import create_app
from service.seeding import load_seed
from service.services import Services
from service.settings import parse_tokens
from tests.servers import Subscriber, serving

SOURCE = {"document": "tmg-international-cooperation", "section": "INTERNATIONAL COOPERATION"}
CHANGES = """subscription($network: String, $after: Int) {
  membershipChanges(network: $network, after: $after) {
    position type membership { member { key } network { key } since until }
  }
}"""


@pytest.fixture
async def server(services: Services) -> AsyncIterator[str]:
    await load_seed(services.commands)
    services.settings = replace(
        services.settings, tokens=parse_tokens("reader:ri:ri-secret"), ws_ping_seconds=0.3
    )
    async with serving(create_app(services.settings, services)) as url:
        yield url


def source() -> object:
    from events.model import SourceRef

    return SourceRef(**SOURCE)


async def join_osaka(services: Services) -> str:
    """Register Osaka and record it joining C40; the membership's id."""
    await services.commands.execute(
        RegisterPartner(key="osaka", name="Osaka", kind="city", source=source()),
        "test",  # type: ignore[arg-type]
    )
    started = await services.commands.execute(
        StartMembership(member="osaka", network="c40", since=PartialDate(2015), source=source()),  # type: ignore[arg-type]
        "test",
    )
    return str(started.events[0].data["membership_id"])


async def test_membership_changes_replay_then_live_with_state(
    services: Services, server: str
) -> None:
    async with Subscriber.connect(server) as client:
        await client.subscribe(CHANGES, {"network": "c40", "after": 0})
        replayed = [(await client.next_data())["membershipChanges"] for _ in range(5)]
        assert {c["membership"]["network"]["key"] for c in replayed} == {"c40"}
        membership_id = await join_osaka(services)
        live = (await client.next_data())["membershipChanges"]
        assert live["membership"]["member"]["key"] == "osaka"
        assert live["membership"]["since"] == "2015"
        await services.commands.execute(
            EndMembership(membership_id=membership_id, until=PartialDate(2020), source=source()),  # type: ignore[arg-type]
            "test",
        )
        ended = (await client.next_data())["membershipChanges"]
    assert ended["type"] == "MembershipEnded"
    assert ended["membership"]["until"] == "2020"
    assert ended["position"] > live["position"] > replayed[-1]["position"]


async def test_partner_changes_for_one_key(services: Services, server: str) -> None:
    before = (await services.store.head()).position
    await join_osaka(services)
    query = (
        'subscription($after: Int) { partnerChanges(key: "osaka", after: $after) {'
        " position partner { name } } }"
    )
    async with Subscriber.connect(server) as client:
        await client.subscribe(query, {"after": before})
        change = (await client.next_data())["partnerChanges"]
    assert change["partner"]["name"] == "Osaka"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ('partnerChanges(key: "nope") { position }', "key: no partner with the key 'nope'"),
        ('membershipChanges(network: "nope") { position }', "network: no partner with the key"),
        (
            'membershipChanges(network: "c40", member: "atlantis") { position }',
            "member: no partner with the key 'atlantis'",
        ),
        ("membershipChanges(after: 100000) { position }", "beyond the log's head"),
    ],
)
async def test_keys_not_on_record_are_refused_with_a_message(
    server: str, query: str, message: str
) -> None:
    async with Subscriber.connect(server) as client:
        await client.subscribe(f"subscription {{ {query} }}")
        answer = await client.receive()
    assert answer["type"] == "error", answer
    assert answer["payload"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert message in answer["payload"][0]["message"]


async def test_each_operation_on_a_socket_echoes_only_its_own_basis(
    services: Services, server: str
) -> None:
    asked = '{ partner(key: "tokyo", asOf: "1999-01-01") { name } }'
    async with Subscriber.connect(server) as client:
        await client.subscribe(asked, id="query")
        answer = await client.receive()
        assert answer["payload"]["extensions"]["basis"]["partner"]["asOf"] == "1999-01-01"
        assert (await client.receive())["type"] == "complete"
        await client.subscribe("{ partners(first: 1) { totalCount } }", id="other")
        other = await client.receive()
        assert list(other["payload"]["extensions"]["basis"]) == ["partners"]
        await client.receive()  # complete
        query = "subscription { partnerChanges { position partner { name } } }"
        await client.subscribe(query, id="changes")
        await asyncio.sleep(0.2)
        await join_osaka(services)
        change = await client.receive()
    assert change["id"] == "changes"
    assert change["payload"]["data"]["partnerChanges"]["partner"]["name"] == "Osaka"
    assert "basis" not in (change["payload"].get("extensions") or {})


async def test_operations_at_once_on_one_socket_each_get_their_answer(
    services: Services, server: str
) -> None:
    query = """{ partners(first: 50) { totalCount nodes { key
                 memberships { nodes { since network { key } } } } } }"""
    async with Subscriber.connect(server) as client:
        for n in range(30):
            await client.subscribe(query, id=f"q{n}")
        answers: dict[str, dict[str, object]] = {}
        while len(answers) < 30:
            message = await client.receive()
            if message["type"] == "next":
                answers[message["id"]] = message["payload"]
    assert all("errors" not in payload for payload in answers.values()), answers
    names = {str(payload["data"]) for payload in answers.values()}
    assert len(names) == 1
    # The pool is whole afterwards: a new socket is answered.
    async with Subscriber.connect(server) as client:
        await client.subscribe(query, id="after")
        assert (await client.next_data())["partners"]["totalCount"]


async def test_each_operation_on_a_socket_sees_the_log_as_it_then_is(
    services: Services, server: str
) -> None:
    at = "query($at: Int) { partners(atPosition: $at) { totalCount } }"
    async with Subscriber.connect(server) as client:
        await client.subscribe("{ partners { totalCount } }", id="before")
        before = await client.receive()
        await client.receive()  # complete
        await join_osaka(services)
        head = (await services.store.head()).position
        await client.subscribe(at, {"at": head}, id="after")
        after = await client.receive()
    assert "errors" not in after["payload"], after
    counted = after["payload"]["data"]["partners"]["totalCount"]
    assert counted == before["payload"]["data"]["partners"]["totalCount"] + 1
    assert after["payload"]["extensions"]["basis"]["partners"]["position"] == head


async def test_errors_over_a_socket_are_coded(server: str) -> None:
    async with Subscriber.connect(server) as client:
        await client.subscribe("{ partners(atPosition: -1) { totalCount } }", id="bad")
        message = await client.receive()
    errors = message["payload"]["errors"]
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_bad_token_closes_the_socket_with_4403(server: str) -> None:
    url = server.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as socket:
        await socket.send(
            '{"type": "connection_init", "payload": {"authorization": "Bearer nope"}}'
        )
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), 5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403


async def test_a_good_token_is_accepted_and_the_server_pings(server: str) -> None:
    async with Subscriber.connect(server, {"authorization": "Bearer ri-secret"}) as client:
        message = await client.socket.recv()
    assert '"ping"' in str(message)


async def test_shutdown_completes_subscriptions(services: Services) -> None:
    await load_seed(services.commands)
    app = create_app(services.settings, services)
    async with serving(app) as url, Subscriber.connect(url) as client:
        await client.subscribe(CHANGES, {"after": 0})
        await client.next_data()
        await services.feed.close()  # what the server does first when it stops
        while True:
            message = await client.receive()
            if message["type"] != "next":
                break
    assert message == {"id": "1", "type": "complete"}
