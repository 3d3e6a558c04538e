"""Simultaneous retries of one request with one idempotency key, on one instance and on two
sharing a database: every answer is the one success (one `replayed: false`, the rest
`replayed: true`, all naming the same write), never a refusal of the write that landed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest

from service.app import create_app
from service.services import Services, build_services
from service.settings import Settings, parse_tokens
from tests.api.conftest import BEARER, TOKENS

ROUNDS = 8
AT_ONCE = 8

REGISTER = """mutation($key: String!, $idem: String!) {
  registerPartner(input: {key: $key, name: "Osaka", kind: CITY, idempotencyKey: $idem}) {
    partner { id key } position streamVersion replayed
  }
}"""
START = """mutation($key: String!, $idem: String!) {
  startMembership(input: {member: $key, network: "c40", since: "2015", expectedVersion: 0,
                          idempotencyKey: $idem}) {
    membership { id since } position streamVersion replayed
  }
}"""


async def instance(stack: AsyncExitStack, database_url: str) -> httpx.AsyncClient:
    """One more service instance on the database: its own engine, pool and feed."""
    services = build_services(Settings(database_url=database_url, tokens=parse_tokens(TOKENS)))
    await services.start()
    stack.push_async_callback(services.close)
    transport = httpx.ASGITransport(app=create_app(services.settings, services))
    return await stack.enter_async_context(
        httpx.AsyncClient(transport=transport, base_url="http://coop", headers=BEARER["editor"])
    )


@pytest.fixture(params=[1, 2], ids=["one instance", "two instances"])
async def clients(
    request: pytest.FixtureRequest, seeded: Services
) -> AsyncIterator[list[httpx.AsyncClient]]:
    async with AsyncExitStack() as stack:
        url = seeded.settings.database_url
        yield [await instance(stack, url) for _ in range(request.param)]


async def race(clients: list[httpx.AsyncClient], query: str, **variables: str) -> list[Any]:
    """The same request sent AT_ONCE times at once, spread over the instances."""
    body = {"query": query, "variables": variables}
    sent = [clients[n % len(clients)].post("/graphql", json=body) for n in range(AT_ONCE)]
    return [response.json() for response in await asyncio.gather(*sent)]


def one_success(answers: list[Any], field: str) -> None:
    assert all("errors" not in answer for answer in answers), [
        answer["errors"] for answer in answers if "errors" in answer
    ]
    payloads = [answer["data"][field] for answer in answers]
    assert sorted(p["replayed"] for p in payloads) == [False] + [True] * (AT_ONCE - 1)
    first = payloads[0]
    for payload in payloads:
        assert {**payload, "replayed": None} == {**first, "replayed": None}


async def test_simultaneous_retries_all_get_the_one_success(
    clients: list[httpx.AsyncClient],
) -> None:
    for round in range(ROUNDS):
        key = f"osaka-{round}"
        one_success(await race(clients, REGISTER, key=key, idem=f"reg-{round}"), "registerPartner")
        one_success(await race(clients, START, key=key, idem=f"start-{round}"), "startMembership")
