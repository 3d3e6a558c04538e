"""Clients that trickle their headers or body are dropped; the others are served meanwhile.
Raw sockets against a real uvicorn server, with short configured timeouts."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest

from service.app import create_app
from service.services import Services
from tests.servers import serving

PATIENCE = 20  # seconds a test waits for the server to act before calling it a failure


@pytest.fixture
async def base_url(services: Services) -> AsyncIterator[str]:
    services.settings = replace(services.settings, header_timeout=1.0, body_timeout=1.0)
    async with serving(create_app(services.settings, services)) as url:
        yield url


async def open_socket(base_url: str) -> socket.socket:
    host, port = base_url.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
    return sock


async def trickle(sock: socket.socket, pieces: list[bytes]) -> None:
    """Send one piece every 0.3 s for as long as the server keeps the connection."""
    loop = asyncio.get_running_loop()
    with contextlib.suppress(ConnectionError):
        for piece in pieces:
            await loop.sock_sendall(sock, piece)
            await asyncio.sleep(0.3)


async def closed_with(sock: socket.socket) -> bytes:
    """All the server sent before it closed the connection.

    Read from the socket itself, not through an asyncio stream: a piece trickled after the
    server closed draws a reset, and a stream whose write then fails drops what it had
    received; the kernel keeps those bytes readable before it reports the reset."""
    loop = asyncio.get_running_loop()
    sent = bytearray()

    async def read_to_the_end() -> None:
        with contextlib.suppress(ConnectionResetError):
            while chunk := await loop.sock_recv(sock, 65536):
                sent.extend(chunk)

    await asyncio.wait_for(read_to_the_end(), PATIENCE)
    return bytes(sent)


async def test_trickled_headers_are_cut_off_and_others_are_served(base_url: str) -> None:
    sock = await open_socket(base_url)
    headers = [b"POST /graphql HTTP/1.1\r\n"] + [b"x-slow: %d\r\n" % n for n in range(200)]
    sender = asyncio.create_task(trickle(sock, headers))
    async with httpx.AsyncClient(base_url=base_url) as http:
        for _ in range(3):
            answer = await http.post("/graphql", json={"query": "{ __typename }"})
            assert answer.json()["data"] == {"__typename": "Query"}
    sent = await closed_with(sock)
    assert sent.startswith(b"HTTP/1.1 408")
    assert not sender.done() or sender.exception() is None
    sender.cancel()
    await asyncio.gather(sender, return_exceptions=True)
    sock.close()


async def test_a_connection_that_sends_nothing_is_closed(base_url: str) -> None:
    sock = await open_socket(base_url)
    assert (await closed_with(sock)).startswith(b"HTTP/1.1 408")
    sock.close()


async def test_a_trickled_body_is_cut_off_with_a_graphql_shaped_408(base_url: str) -> None:
    sock = await open_socket(base_url)
    body = b'{"query": "{ __typename }"}'
    head = (
        b"POST /graphql HTTP/1.1\r\nhost: coop\r\ncontent-type: application/json\r\n"
        b"content-length: %d\r\n\r\n" % len(body)
    )
    await asyncio.get_running_loop().sock_sendall(sock, head)
    sender = asyncio.create_task(trickle(sock, [body[n : n + 1] for n in range(len(body))]))
    sent = await closed_with(sock)
    assert sent.startswith(b"HTTP/1.1 408")
    assert b'"code":"TIMEOUT"' in sent
    assert b"did not arrive within 1 s" in sent
    sender.cancel()
    await asyncio.gather(sender, return_exceptions=True)
    sock.close()


async def test_a_prompt_client_keeps_its_connection_between_requests(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url) as http:
        for _ in range(2):
            answer = await http.post("/graphql", json={"query": "{ __typename }"})
            assert answer.status_code == 200
            await asyncio.sleep(1.5)  # idle past the header timeout, within keep-alive
