"""Black-box helpers: a real HTTP client and a real graphql-transport-ws client."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import websockets

TOKENS = "editor:ed:ed-secret,reader:ri:ri-secret,auditor:au:au-secret,admin:ad:ad-secret"
SECRETS = {
    "editor": "ed-secret",
    "reader": "ri-secret",
    "auditor": "au-secret",
    "admin": "ad-secret",
}
GQL_RESPONSE = "application/graphql-response+json"
SEED_DOCUMENT = "tmg-international-cooperation"


# For each kind of object: a query that finds it (from its owner's key, where it has one),
# the path to it (or to the list holding it) in the answer, and the field that tells it
# apart in that list.
ID_QUERIES: dict[str, tuple[str, tuple[str, ...], str | None]] = {
    "partner": ("query($key: String!) { partner(key: $key) { id } }", ("partner",), None),
    "program": ("query($key: String!) { program(key: $key) { id } }", ("program",), None),
    "membership": (
        "query($key: String!) { partner(key: $key) { memberships(first: 100) {"
        " nodes { id membershipId } } } }",
        ("partner", "memberships"),
        "membershipId",
    ),
    "role": (
        "query($key: String!) { partner(key: $key) { roles(first: 100) { nodes { id roleId } } } }",
        ("partner", "roles"),
        "roleId",
    ),
    "participation": (
        "query($key: String!) { program(key: $key) { partners(first: 100) {"
        " nodes { id participationId } } } }",
        ("program", "partners"),
        "participationId",
    ),
    "activity": (
        "{ activities(first: 100) { nodes { id key } } }",
        ("activities",),
        "key",
    ),
    "commitment": (
        "{ commitments(first: 100) { nodes { id key } } }",
        ("commitments",),
        "key",
    ),
}


def absent_id(type_name: str, key: str) -> str:
    """An id for an object the record does not hold, which no query can give a client: made
    the way the API makes ids (base64url of "Type:key")."""
    return base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode()


def bearer(role: str | None) -> dict[str, str]:
    return {"authorization": f"Bearer {SECRETS[role]}"} if role else {}


def codes(body: dict[str, Any]) -> list[str | None]:
    return [(error.get("extensions") or {}).get("code") for error in body.get("errors") or []]


class Coop:
    """One running service: its base URL and an httpx client on it."""

    def __init__(self, base_url: str, http: httpx.AsyncClient, services: Any) -> None:
        self.base_url = base_url
        self.http = http
        self.services = services

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        role: str | None = None,
        headers: dict[str, str] | None = None,
        **body_extra: Any,
    ) -> httpx.Response:
        body: dict[str, Any] = {"query": query, **body_extra}
        if variables is not None:
            body["variables"] = variables
        return await self.http.post(
            "/graphql", json=body, headers={**bearer(role), **(headers or {})}
        )

    async def gql(
        self, query: str, variables: dict[str, Any] | None = None, role: str | None = None
    ) -> dict[str, Any]:
        response = await self.post(query, variables, role)
        body: dict[str, Any] = response.json()
        return body

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, role: str | None = None
    ) -> Any:
        body = await self.gql(query, variables, role)
        assert not body.get("errors"), body["errors"]
        return body["data"]

    async def head(self) -> int:
        """The last log position, read from the open raw log (no metadata)."""
        data = await self.data("{ events(after: 0, first: 1) { totalCount } }")
        count: int = data["events"]["totalCount"]
        return count

    async def last_event(self) -> dict[str, Any]:
        head = await self.head()
        data = await self.data(
            "query($a: Int!) { events(after: $a, first: 1) { nodes { position recordedAt hash } } }",
            {"a": head - 1},
        )
        event: dict[str, Any] = data["events"]["nodes"][0]
        return event

    async def id_of(self, kind: str, key: str) -> str:
        """The global id of a recorded object, found as a client finds it: by asking for the
        object (or the list it is in) and reading its `id`. `key` is the object's key or
        its own id (`tokyo@c40#1`, `tokyo@c40#role-1`, `program/partner#1`)."""
        owner = key.split("@")[0].split("/")[0]
        query, path, own = ID_QUERIES[kind]
        answer: Any = await self.data(query, {"key": owner} if "$key" in query else None)
        for step in path:
            answer = answer[step]
        if own is None:
            return str(answer["id"])
        (found,) = [node["id"] for node in answer["nodes"] if node[own] == key]
        return str(found)

    async def mutate(
        self, name: str, input: dict[str, Any], selection: str, role: str | None = "editor"
    ) -> dict[str, Any]:
        """Run one mutation with `input` as a variable; returns the whole decoded body."""
        type_name = name[0].upper() + name[1:] + "Input"
        query = f"mutation($input: {type_name}!) {{ {name}(input: $input) {{ {selection} }} }}"
        return await self.gql(query, {"input": input}, role)

    async def ok(
        self,
        name: str,
        input: dict[str, Any],
        selection: str = "position streamVersion streamId replayed",
        role: str = "editor",
    ) -> dict[str, Any]:
        body = await self.mutate(name, input, selection, role)
        assert not body.get("errors"), (name, body.get("errors"))
        payload: dict[str, Any] = body["data"][name]
        return payload


class Subscriber:
    """A graphql-transport-ws client that also exposes the raw socket and close codes."""

    def __init__(self, socket: websockets.ClientConnection) -> None:
        self.socket = socket

    @classmethod
    @asynccontextmanager
    async def open(cls, base_url: str) -> AsyncIterator[Subscriber]:
        url = base_url.replace("http://", "ws://") + "/graphql"
        async with websockets.connect(
            url, subprotocols=["graphql-transport-ws"], max_queue=None
        ) as socket:
            yield cls(socket)

    @classmethod
    @asynccontextmanager
    async def connect(cls, base_url: str, role: str | None = None) -> AsyncIterator[Subscriber]:
        async with cls.open(base_url) as client:
            await client.init(role)
            yield client

    async def init(self, role: str | None = None, token: str | None = None) -> dict[str, Any]:
        payload: dict[str, Any] = {}
        if role:
            payload["authorization"] = f"Bearer {SECRETS[role]}"
        if token:
            payload["authorization"] = f"Bearer {token}"
        await self.send({"type": "connection_init", "payload": payload})
        ack = await self.receive()
        assert ack["type"] == "connection_ack", ack
        return ack

    async def send(self, message: dict[str, Any]) -> None:
        await self.socket.send(json.dumps(message))

    async def receive(self, timeout: float = 10) -> dict[str, Any]:
        while True:
            message: dict[str, Any] = json.loads(
                await asyncio.wait_for(self.socket.recv(), timeout)
            )
            if message["type"] == "ping":
                await self.send({"type": "pong"})
                continue
            return message

    async def subscribe(
        self, query: str, variables: dict[str, Any] | None = None, id: str = "1"
    ) -> None:
        await self.send(
            {
                "id": id,
                "type": "subscribe",
                "payload": {"query": query, "variables": variables or {}},
            }
        )

    async def next(self, timeout: float = 10) -> dict[str, Any]:
        message = await self.receive(timeout)
        assert message["type"] == "next", message
        assert not message["payload"].get("errors"), message
        data: dict[str, Any] = message["payload"]["data"]
        return data

    async def nothing_within(self, seconds: float) -> None:
        """Assert that no data message arrives within `seconds`."""
        try:
            message = await self.receive(seconds)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected message {message}")
