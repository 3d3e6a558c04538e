"""Database faults, named and healed, on a real server with a real WebSocket client: a cut
database is UNAVAILABLE (HTTP 503, Retry-After), /readyz and /metrics say so; the LISTEN
connection comes back by itself, and a subscription open through the outage continues
with what it missed, no gap and no duplicate."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from events.backends.postgresql import LISTEN_APPLICATION_NAME
from events.database import create_engine
from service.app import create_app
from service.migrate import upgrade
from service.services import Services
from service.settings import Settings, parse_tokens
from tests.conftest import POSTGRES_URL, create_postgres_database, drop_postgres_database
from tests.link import link_to
from tests.servers import Subscriber, serving
from tests.wire.test_instances import FEED, TOKENS, register

pytestmark = pytest.mark.skipif(POSTGRES_URL is None, reason="needs COOP_TEST_POSTGRES_URL")

ANSWERED_WITHIN = 3.0  # seconds; the poll is 60 s, so only LISTEN (or its return) delivers
PARTNER_FEED = (
    "subscription($after: Int) { partnerChanges(after: $after) { position partner { key } } }"
)
READ = {"query": '{ partner(key: "nowhere") { key } }'}
WRITE = {
    "query": 'mutation { registerPartner(input: {key: "x", name: "X", kind: CITY}) { position } }'
}


@pytest.fixture
async def postgres() -> AsyncIterator[str]:
    url = await create_postgres_database()
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()
    try:
        yield url
    finally:
        await drop_postgres_database(url)


@asynccontextmanager
async def service(database_url: str) -> AsyncIterator[tuple[str, Services]]:
    """A real uvicorn server on `database_url`; its base URL and services."""
    settings = Settings(
        database_url=database_url, tokens=parse_tokens(TOKENS), feed_poll_seconds=60
    )
    app = create_app(settings)
    async with serving(app) as base_url:
        yield base_url, app.state.services


async def until(condition: Callable[[], bool | Awaitable[bool]], timeout: float = 10) -> None:
    """Wait until `condition()` holds (it may be a coroutine function)."""
    async with asyncio.timeout(timeout):
        while True:
            held = condition()
            if await held if inspect.isawaitable(held) else held:
                return
            await asyncio.sleep(0.05)


async def received(client: Subscriber, within: float) -> list[Any]:
    """What arrives within `within` seconds: only answers (an `events` answer as its
    position), never an error."""
    answers: list[Any] = []
    with contextlib.suppress(TimeoutError):
        while True:
            message = await client.receive(timeout=within)
            assert message["type"] == "next", message
            data = message["payload"]["data"]
            answers.append(data["events"]["position"] if "events" in data else data)
    return answers


async def positions(client: Subscriber, count: int, timeout: float = ANSWERED_WITHIN) -> list[int]:
    return [(await client.next_data(timeout))["events"]["position"] for _ in range(count)]


def metric(text_: str, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", text_, re.MULTILINE)
    assert found, name
    return float(found.group(1))


async def test_the_listen_connection_comes_back_after_the_database_drops_it(
    postgres: str,
) -> None:
    async with service(postgres) as (reader, services), service(postgres) as (writer, _):
        async with Subscriber.connect(reader) as client, httpx.AsyncClient(base_url=reader) as http:
            await client.subscribe(FEED, {"after": 0})
            first = await register(writer, "city-0")
            assert await positions(client, 1) == [first]

            assert await terminate_listeners(postgres) == 2  # both instances'
            await until(lambda: services.feed.reconnections >= 1 and services.feed.listening)

            written = [await register(writer, f"city-{n}") for n in (1, 2)]
            assert await positions(client, 2) == written
            with pytest.raises(TimeoutError):
                await client.receive(timeout=0.3)
            scraped = (await http.get("/metrics")).text
        assert metric(scraped, "coop_feed_listen_reconnections") == 1
        assert metric(scraped, "coop_feed_listening") == 1


async def test_a_cut_database_is_named_and_a_subscription_continues_when_it_returns(
    postgres: str,
) -> None:
    async with (
        link_to(postgres) as link,
        service(link.url) as (reader, services),
        service(postgres) as (writer, _),
        Subscriber.connect(reader) as client,
        httpx.AsyncClient(base_url=reader) as http,
    ):
        await client.subscribe(FEED, {"after": 0})
        before = [await register(writer, f"before-{n}") for n in range(2)]
        assert await positions(client, 2) == before

        await link.cut()
        during = [await register(writer, f"during-{n}") for n in range(3)]
        await during_the_outage(http, services)
        # Opened while the database is away: they give what the feed holds in memory, then
        # wait for the database, without an error, and go on when it returns.
        async with Subscriber.connect(reader) as late, Subscriber.connect(reader) as partners:
            await late.subscribe(FEED, {"after": 0})
            await partners.subscribe(PARTNER_FEED, {"after": 0})
            early = {id(s): await received(s, within=0.5) for s in (late, partners)}
            await link.restore()
            after = [await register(writer, f"after-{n}") for n in range(2)]
            assert await positions(client, 5, timeout=10) == during + after
            every = before + during + after
            got = early[id(late)] + await positions(late, 7 - len(early[id(late)]), timeout=10)
            assert got == every
            changes = [message["partnerChanges"] for message in early[id(partners)]]
            changes += [
                (await partners.next_data(10))["partnerChanges"] for _ in range(7 - len(changes))
            ]
            assert [change["position"] for change in changes] == every
            assert [change["partner"]["key"] for change in changes] == [
                *(f"before-{n}" for n in range(2)),
                *(f"during-{n}" for n in range(3)),
                *(f"after-{n}" for n in range(2)),
            ]
            for subscriber in (client, late, partners):
                with pytest.raises(TimeoutError):
                    await subscriber.receive(timeout=0.3)

        await until(lambda: _ready(http))
        assert (await http.post("/graphql", json=READ)).status_code == 200
        assert metric((await http.get("/metrics")).text, "coop_database_up") == 1


async def during_the_outage(http: httpx.AsyncClient, services: Services) -> None:
    """Every answer names the fault; none carries the driver's words."""
    for body, headers in ((READ, {}), (WRITE, {"authorization": "Bearer ed-secret"})):
        response = await http.post("/graphql", json=body, headers=headers)
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "1"
        (error,) = response.json()["errors"]
        assert error["extensions"] == {"code": "UNAVAILABLE"}
        assert error["message"] == "The database is unavailable right now; try again shortly."
    ready = await http.get("/readyz")
    assert (ready.status_code, ready.json()) == (
        503,
        {"ready": False, "reason": "database_unavailable"},
    )
    await until(lambda: not services.feed.listening)
    scraped = await http.get("/metrics")
    assert scraped.status_code == 200
    assert metric(scraped.text, "coop_database_up") == 0
    assert metric(scraped.text, "coop_feed_listening") == 0


async def _ready(http: httpx.AsyncClient) -> bool:
    return (await http.get("/readyz")).status_code == 200


async def terminate_listeners(database_url: str) -> int:
    """pg_terminate_backend for every LISTEN connection of Coop on this database."""
    assert POSTGRES_URL is not None
    engine = create_engine(POSTGRES_URL)
    try:
        async with engine.connect() as connection:
            killed = await connection.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE application_name = :name AND datname = :database"
                ),
                {"name": LISTEN_APPLICATION_NAME, "database": database_url.rsplit("/", 1)[1]},
            )
    finally:
        await engine.dispose()
    return int(killed or 0)
