"""Real clients against a real server: Python's `gql` (both of its subprotocols) and, from
npm, `graphql-ws` (graphql-transport-ws) and `subscriptions-transport-ws` (Apollo's legacy
graphql-ws). Each runs a query, a mutation and a subscription over one socket."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import websockets
from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import TransportError, TransportQueryError
from gql.transport.websockets import WebsocketsTransport

from service.app import create_app
from service.seeding import load_seed
from service.services import Services
from service.settings import parse_tokens
from tests.servers import serving

NODE_FOLDER = Path(__file__).resolve().parents[1] / ".node"  # ignored by git
NODE_PACKAGES = [
    "graphql-ws@6.4.2",
    "ws@8.23.0",
    "graphql@16.11.0",
    "subscriptions-transport-ws@0.11.0",
]
QUERY = '{ partner(key: "tokyo") { name } }'
MUTATION = """mutation { registerPartner(input: {key: "pycity", name: "Py City", kind: CITY})
  { partner { key } } }"""
FEED = "subscription($after: Int) { partnerChanges(after: $after) { position type } }"
LEGACY = [WebsocketsTransport.APOLLO_SUBPROTOCOL]


@pytest.fixture
async def server(services: Services) -> AsyncIterator[str]:
    await load_seed(services.commands)
    services.settings = replace(
        services.settings,
        tokens=parse_tokens("reader:ri:ri-secret,editor:ed:ed-secret"),
        require_auth_for_reads=True,
    )
    async with serving(create_app(services.settings, services)) as url:
        yield url.replace("http://", "ws://") + "/graphql"


def transport(url: str, token: str, subprotocols: list[str] | None = None) -> WebsocketsTransport:
    payload = {"authorization": f"Bearer {token}"}
    return WebsocketsTransport(url=url, init_payload=payload, subprotocols=subprotocols)


async def partner_changes(session: Any, count: int) -> list[dict[str, Any]]:
    seen = []
    async for answer in session.subscribe(GraphQLRequest(FEED, variable_values={"after": 0})):
        seen.append(answer["partnerChanges"])
        if len(seen) == count:
            break
    return seen


@pytest.mark.parametrize("subprotocols", [None, LEGACY], ids=["default", "legacy"])
async def test_gql_runs_queries_mutations_and_subscriptions(
    server: str, subprotocols: list[str] | None
) -> None:
    link = transport(server, "ed-secret", subprotocols)
    async with Client(transport=link) as session:
        answer = await session.execute(gql(QUERY))
        written = await session.execute(gql(MUTATION))
        changes = await partner_changes(session, 3)
        with pytest.raises(TransportQueryError) as refused:
            await session.execute(gql('{ partner(key: "tokyo", atPosition: -1) { name } }'))
    # Offered both, the server speaks graphql-transport-ws; offered only the legacy one, that.
    expected = "graphql-ws" if subprotocols else "graphql-transport-ws"
    assert link.subprotocol == expected
    assert answer == {"partner": {"name": "Tokyo Metropolitan Government"}} or answer["partner"]
    assert written == {"registerPartner": {"partner": {"key": "pycity"}}}
    assert [c["type"] for c in changes] == ["PartnerRegistered"] * 3
    assert [c["position"] for c in changes] == sorted(c["position"] for c in changes)
    assert refused.value.errors is not None
    assert refused.value.errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize("subprotocols", [None, LEGACY], ids=["default", "legacy"])
async def test_gql_with_a_bad_token_is_told_why(
    server: str, subprotocols: list[str] | None
) -> None:
    with pytest.raises((TransportError, websockets.ConnectionClosed)) as refused:
        async with Client(transport=transport(server, "nope", subprotocols)) as session:
            await session.execute(gql(QUERY))
    told = [str(refused.value), str(refused.value.__cause__), str(refused.value.__context__)]
    assert any("token" in line for line in told), told


async def test_legacy_connection_error_carries_a_message(server: str) -> None:
    async with websockets.connect(
        server, subprotocols=[websockets.Subprotocol("graphql-ws")]
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        refused = json.loads(await asyncio.wait_for(ws.recv(), 5))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
    assert refused["type"] == "connection_error"
    assert "bearer token" in refused["payload"]["message"]
    assert refused["payload"]["extensions"]["code"] == "UNAUTHENTICATED"
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403


@pytest.fixture(scope="session")
def node_clients() -> Path:
    """The npm clients, installed once into tests/.node (skipped only without npm)."""
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        pytest.skip("npm and node are needed to run the JavaScript clients")
    wanted = NODE_FOLDER / "installed.json"
    if not wanted.exists() or json.loads(wanted.read_text()) != NODE_PACKAGES:
        NODE_FOLDER.mkdir(exist_ok=True)
        subprocess.run(
            [
                npm,
                "install",
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--prefix",
                NODE_FOLDER,
                *NODE_PACKAGES,
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
        wanted.write_text(json.dumps(NODE_PACKAGES))
    script = NODE_FOLDER / "node_client.mjs"
    shutil.copyfile(Path(__file__).parent / "clients" / "node_client.mjs", script)
    return script


@pytest.mark.parametrize("library", ["graphql-ws", "subscriptions-transport-ws"])
async def test_javascript_clients(server: str, node_clients: Path, library: str) -> None:
    node = shutil.which("node")
    assert node is not None
    process = await asyncio.create_subprocess_exec(
        node,
        str(node_clients),
        library,
        server,
        "ed-secret",
        "3",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    lines = [json.loads(line) for line in out.decode().splitlines()]
    assert process.returncode == 0, (lines, err.decode())
    query, mutation, *changes = lines
    assert query["data"]["partner"]["name"]
    assert "errors" not in mutation, mutation
    assert mutation["data"]["registerPartner"]["partner"]["key"] == "nodecity"
    assert [c["data"]["partnerChanges"]["type"] for c in changes] == ["PartnerRegistered"] * 3
    positions = [c["data"]["partnerChanges"]["position"] for c in changes]
    assert positions == sorted(set(positions)), positions  # each once, in log order
