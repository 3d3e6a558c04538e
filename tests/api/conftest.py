"""A client for the real ASGI app over a migrated, seeded database, with tokens for each role."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest

from service.app import create_app
from service.seeding import load_seed
from service.services import Services
from service.settings import parse_tokens

TOKENS = "editor:ed:ed-secret,reader:ri:ri-secret,auditor:au:au-secret,admin:ad:ad-secret"
BEARER = {
    role: {"authorization": f"Bearer {short}-secret"}
    for role, short in (("editor", "ed"), ("reader", "ri"), ("auditor", "au"), ("admin", "ad"))
}


class Client:
    """Posts GraphQL documents to /graphql and returns the decoded body."""

    def __init__(self, http: httpx.AsyncClient, services: Services) -> None:
        self.http = http
        self.services = services

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        role: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        headers = BEARER[role] if role else {}
        body = {"query": query, "variables": variables or {}}
        response = await self.http.post("/graphql", json=body, headers=headers, **extra)
        decoded: dict[str, Any] = response.json()
        return decoded

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, role: str | None = None
    ) -> Any:
        body = await self.post(query, variables, role)
        assert "errors" not in body, body["errors"]
        return body["data"]


@pytest.fixture
async def seeded(services: Services) -> Services:
    await load_seed(services.commands)
    return services


@pytest.fixture
async def client(seeded: Services) -> AsyncIterator[Client]:
    settings = replace(seeded.settings, tokens=parse_tokens(TOKENS))
    seeded.settings = settings
    app = create_app(settings, seeded)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://coop") as http:
        yield Client(http, seeded)
