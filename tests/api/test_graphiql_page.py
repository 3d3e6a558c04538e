"""GraphiQL's page and files over HTTP: served by Coop, to anyone, token or not."""

from __future__ import annotations

from dataclasses import replace

import httpx

from service.app import create_app
from service.browser.graphiql import SCRIPTS, STATIC, STYLESHEETS
from tests.api.conftest import Client


async def test_the_page_and_its_files_are_served_without_a_token(client: Client) -> None:
    settings = client.services.settings
    assert settings.tokens, "the client's service has tokens configured"
    page = await client.http.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    for asset in (*STYLESHEETS, *SCRIPTS):
        response = await client.http.get("/" + asset.href)
        assert response.status_code == 200, asset.path
        assert response.content == (STATIC / asset.path).read_bytes()


async def test_the_page_is_served_where_reads_need_a_token(client: Client) -> None:
    settings = replace(client.services.settings, require_auth_for_reads=True)
    app = create_app(settings, client.services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://coop") as http:
        page = await http.get("/graphql", headers={"accept": "text/html"})
        query = await http.get("/graphql", params={"query": "{ __typename }"})
    assert page.status_code == 200
    assert "graphiql" in page.text
    assert query.status_code == 401
