"""Two real service processes on one database: subscribe through one, write through the other."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.servers import Subscriber, free_port

TOKENS = "editor:ed:ed-secret"
FEED = "subscription($after: Int) { events(after: $after) { position streamId } }"
REGISTER = """mutation($key: String!) { registerPartner(input: {key: $key, name: $key, kind: CITY,
  source: {document: "direct-entry"}}) { position } }"""


@contextmanager
def instance(database_url: str, workers: int = 1) -> Iterator[str]:
    """`coop serve` in its own process(es); yields its base URL once it answers /healthz."""
    port = free_port()
    env = {
        **os.environ,
        "COOP_DATABASE_URL": database_url,
        "COOP_API_TOKENS": TOKENS,
        # On PostgreSQL only LISTEN/NOTIFY can deliver within the test's timeouts; SQLite,
        # shared by two processes, falls back to reading the log on a short poll.
        "COOP_FEED_POLL_SECONDS": "60" if database_url.startswith("postgresql") else "0.5",
    }
    command = [sys.executable, "-m", "service.cli", "serve", "--port", str(port)]
    command += ["--workers", str(workers)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None:
                raise RuntimeError(process.stderr.read().decode() if process.stderr else "")
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        if process.stderr:
            process.stderr.close()


async def register(url: str, key: str) -> int:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{url}/graphql",
            json={"query": REGISTER, "variables": {"key": key}},
            headers={"authorization": "Bearer ed-secret"},
        )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    position: int = body["data"]["registerPartner"]["position"]
    return position


async def test_events_written_through_one_instance_reach_subscribers_of_the_other(
    engine: AsyncEngine, database_url: str
) -> None:
    with instance(database_url) as reader, instance(database_url) as writer:
        async with Subscriber.connect(reader) as client:
            await client.subscribe(FEED, {"after": 0})
            written = [await register(writer, f"city-{n}") for n in range(3)]
            got = [(await client.next_data())["events"]["position"] for _ in written]
        assert got == written == sorted(written)

        missed = [await register(writer, f"town-{n}") for n in range(2)]
        async with Subscriber.connect(writer) as client:
            await client.subscribe(FEED, {"after": got[-1]})
            resumed = [(await client.next_data())["events"]["position"] for _ in missed]
            with pytest.raises(TimeoutError):
                await client.receive(timeout=0.5)
        assert resumed == missed


async def test_an_answer_cached_by_one_instance_follows_writes_through_the_other(
    engine: AsyncEngine, database_url: str
) -> None:
    query = {"query": "{ partners(kind: CITY) { totalCount nodes { key } } }"}
    with instance(database_url) as reader, instance(database_url) as writer:
        async with httpx.AsyncClient() as http:
            first = await http.post(f"{reader}/graphql", json=query)
            again = await http.post(f"{reader}/graphql", json=query)
            assert again.headers["etag"] == first.headers["etag"]
            await register(writer, "city-late")
            after = await http.post(f"{reader}/graphql", json=query)
    assert after.headers["etag"] != first.headers["etag"]
    nodes = after.json()["data"]["partners"]["nodes"]
    assert "city-late" in [node["key"] for node in nodes]


def workers_of(url: str) -> set[int]:
    """The process ids that answered, each telling its own through a header."""
    return {int(httpx.get(f"{url}/healthz").headers["x-served-by"]) for _ in range(40)}


async def test_several_workers_serve_one_port_and_deliver_every_write(
    engine: AsyncEngine, database_url: str
) -> None:
    with instance(database_url, workers=2) as url:
        async with Subscriber.connect(url) as client:
            await client.subscribe(FEED, {"after": 0})
            written = [await register(url, f"city-{n}") for n in range(6)]
            got = [(await client.next_data())["events"]["position"] for _ in written]
        assert got == written
        assert len(workers_of(url)) == 2
