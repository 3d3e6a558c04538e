"""The wall-clock budget: a request past COOP_REQUEST_TIMEOUT is stopped, its SQL with it,
and answered with a coded TIMEOUT; the service goes on answering."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import httpx
from sqlalchemy import literal, select, text

from schema.context import Context, Operation, _operation
from service.app import create_app
from service.services import Services
from tests.api.conftest import Client
from tests.databases import many_partners

SLOW = {
    # Counting to a billion: minutes of work in one statement, unless it is stopped.
    "sqlite": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
    " WHERE i < 1000000000) SELECT count(*) FROM n",
    "postgresql": "SELECT pg_sleep(600)",
}


async def still_running(services: Services) -> int:
    """Statements of the slow kind still running on the server (PostgreSQL only)."""
    if services.engine.dialect.name != "postgresql":
        return 0
    async with services.engine.connect() as connection:
        found = await connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
                " AND query LIKE 'SELECT pg_sleep(600)%'"
            )
        )
    return int(found or 0)


async def test_a_statement_past_the_deadline_is_stopped_on_the_database(
    services: Services,
) -> None:
    context = Context(services=services, request=None)
    operation = Operation(deadline=asyncio.get_running_loop().time() + 0.3)
    token = _operation.set(operation)
    try:
        try:
            async with asyncio.timeout(0.3):
                async with context.db() as connection:
                    await connection.execute(text(SLOW[services.engine.dialect.name]))
            raise AssertionError("the statement was not stopped")
        except TimeoutError:
            pass
        await context.close()
    finally:
        _operation.reset(token)
    assert operation.connection is None
    await asyncio.sleep(0.2)
    assert await still_running(services) == 0
    async with services.engine.connect() as connection:
        assert await connection.scalar(select(literal(1))) == 1


async def test_a_request_past_its_time_is_answered_timeout_and_others_go_on(
    client: Client,
) -> None:
    async with client.services.engine.begin() as connection:
        await many_partners(connection, 200_000)
    settings = replace(client.services.settings, request_timeout=0.05)
    client.services.settings = settings
    app = create_app(settings, client.services)
    heavy = '{ partners(search: "no such text anywhere") { totalCount } }'
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://coop"
    ) as http:
        answers = await asyncio.gather(
            http.post("/graphql", json={"query": heavy}),
            http.post("/graphql", json={"query": heavy}),
        )
        for response in answers:
            assert response.status_code == 200
            body = response.json()
            assert body["data"] is None
            assert body["errors"][0]["extensions"]["code"] == "TIMEOUT"
            assert "0.05 s" in body["errors"][0]["message"]
    # The service answers afterwards, with its usual time.
    client.services.settings = replace(settings, request_timeout=10.0)
    body = await client.post('{ partner(key: "tokyo") { name } }')
    assert body["data"]["partner"]["name"]
