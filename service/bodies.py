"""A request's body, read within its size limit and its time."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.types import Message


class BodyTooLarge(Exception):
    """The body is over the configured limit (COOP_MAX_BODY_BYTES)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the request body is over the limit of {limit} bytes")
        self.limit = limit


class BodyTooSlow(Exception):
    """The body did not arrive in time (COOP_BODY_TIMEOUT)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the request body did not arrive within {seconds:g} s")


async def read_body(request: Request, limit: int, seconds: float) -> bytes:
    """The whole body, refused as soon as it is known to be over `limit` (by its declared
    length, or while it streams in), or once it has taken longer than `seconds`."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(seconds):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise BodyTooLarge(limit)
                chunks.append(chunk)
    except TimeoutError:
        raise BodyTooSlow(seconds) from None
    return b"".join(chunks)


def with_body(request: Request, body: bytes) -> Request:
    """The same request, its body already read: the view reads it from here."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:  # the view reads the body once; after that the client can only go away
            return await request.receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(request.scope, receive)
