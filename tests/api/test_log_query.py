"""The raw log over GraphQL, through the real ASGI app."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from events.store import EventStore
from service.app import create_app
from service.services import build_services
from service.settings import Settings
from tests.store.kinds import ThingNamed, test_events


@pytest.fixture
def store(engine: AsyncEngine) -> EventStore:
    return EventStore(engine, test_events)


@pytest.fixture
async def client(database_url: str, store: EventStore) -> AsyncIterator[httpx.AsyncClient]:
    services = build_services(Settings(database_url=database_url), store)
    transport = httpx.ASGITransport(app=create_app(services.settings, services))
    async with httpx.AsyncClient(transport=transport, base_url="http://coop") as client:
        yield client


async def test_health(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.json() == {"status": "ok"}


async def test_events_query_pages_and_filters_the_log(
    client: httpx.AsyncClient, store: EventStore
) -> None:
    for n in range(3):
        await store.append(f"thing:{n % 2}", [ThingNamed(f"n{n}", ["t"])])
    query = """query($after: Int, $stream: String) {
      events(after: $after, first: 2, streamId: $stream) {
        nodes { position streamId streamVersion type schemaVersion data prevHash hash }
        pageInfo { hasNextPage endCursor }
        totalCount
      }
    }"""
    page = (await client.post("/graphql", json={"query": query})).json()["data"]["events"]
    assert [n["position"] for n in page["nodes"]] == [1, 2]
    assert page["pageInfo"] == {"hasNextPage": True, "endCursor": "2"}
    assert page["totalCount"] == 3
    assert page["nodes"][0]["data"] == {"name": "n0", "tags": ["t"]}
    assert page["nodes"][1]["prevHash"] == page["nodes"][0]["hash"]

    variables = {"after": 0, "stream": "thing:0"}
    body = {"query": query, "variables": variables}
    filtered = (await client.post("/graphql", json=body)).json()["data"]["events"]
    assert [(n["position"], n["streamVersion"]) for n in filtered["nodes"]] == [(1, 1), (3, 2)]
    assert filtered["totalCount"] == 2
