"""A graphql-transport-ws subscriber on a bare asyncio protocol, for measuring fan-out.

The `websockets` library costs tens of microseconds of Python per message received; at
1,000 subscribers and 20 events a second (20,000 messages a second, 100,000 at 5,000) the
measuring process, not the server, sets the latency. This client does the least a
subscriber must: the HTTP upgrade, masked frames out, and for frames in, the header split
and one JSON decode per message, to record the position of every `next` it is sent. It
still checks everything the bench checks (each position, once, in order; any `error` or
unexpected `complete`), and answers WebSocket pings and the protocol's `ping`.
"""

from __future__ import annotations

import asyncio
import base64
import os
import time
from dataclasses import dataclass, field
from typing import Any, cast

import msgspec

_decode = msgspec.json.Decoder().decode
_encode = msgspec.json.Encoder().encode
TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A masked frame, as a client must send (the mask need not be secret here)."""
    mask = os.urandom(4)
    size = len(payload)
    if size < 126:
        header = bytes((0x80 | opcode, 0x80 | size))
    elif size < 1 << 16:
        header = bytes((0x80 | opcode, 0x80 | 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x80 | opcode, 0x80 | 127)) + size.to_bytes(8, "big")
    masked = bytes(b ^ mask[n % 4] for n, b in enumerate(payload))
    return header + mask + masked


@dataclass
class Received:
    """What one subscriber was sent: positions with arrival times, and how it ended."""

    positions: list[int] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)
    error: str | None = None


class BareSubscriber(asyncio.Protocol):
    """One socket, one subscription. `acked`, `done` resolve as the protocol goes."""

    def __init__(self, host: str, port: int, subscribe: dict[str, Any]) -> None:
        loop = asyncio.get_running_loop()
        self.host, self.port, self.subscribe = host, port, subscribe
        self.received = Received()
        self.upgraded = False
        self.acked: asyncio.Future[None] = loop.create_future()
        self.done: asyncio.Future[None] = loop.create_future()
        self.buffer = b""
        self.transport: asyncio.Transport | None = None
        self.until: int | None = None  # the last position expected, once known

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write(
            (
                f"GET /graphql HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                "Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
            ).encode()
        )

    def send(self, message: dict[str, Any]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(client_frame(TEXT, _encode(message)))

    def data_received(self, data: bytes) -> None:
        arrived = time.time()
        buffer = self.buffer + data if self.buffer else data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                self.buffer = buffer
                return
            if not buffer.startswith(b"HTTP/1.1 101"):
                self.fail(f"upgrade refused: {buffer[:80]!r}")
                return
            self.upgraded = True
            buffer = buffer[end + 4 :]
            self.send({"type": "connection_init", "payload": {}})
        start, size = 0, len(buffer)
        while size - start >= 2:
            opcode, length = buffer[start] & 0x0F, buffer[start + 1] & 0x7F
            at = start + 2
            if length == 126:
                if size - at < 2:
                    break
                length, at = int.from_bytes(buffer[at : at + 2], "big"), at + 2
            elif length == 127:
                if size - at < 8:
                    break
                length, at = int.from_bytes(buffer[at : at + 8], "big"), at + 8
            if size - at < length:
                break
            start = at + length
            if opcode == TEXT:
                self.message(_decode(buffer[at:start]), arrived)
            elif opcode == PING and self.transport is not None:
                self.transport.write(client_frame(PONG, buffer[at:start]))
            elif opcode == CLOSE:
                self.fail(f"the server closed the socket: {buffer[at + 2 : start]!r}")
        self.buffer = buffer[start:]

    def message(self, message: dict[str, Any], arrived: float) -> None:
        kind = message.get("type")
        if kind == "next":
            payload = message["payload"]
            if payload.get("errors"):
                self.fail(f"error in next: {payload['errors']}")
                return
            self.received.positions.append(payload["data"]["events"]["position"])
            self.received.arrivals.append(arrived)
            self.check_done()
        elif kind == "connection_ack":
            self.send({"id": "1", "type": "subscribe", "payload": self.subscribe})
            if not self.acked.done():
                self.acked.set_result(None)
        elif kind == "ping":
            self.send({"type": "pong"})
        elif kind in ("error", "complete"):
            self.fail(f"the server sent {kind}: {message}")

    def check_done(self) -> None:
        positions = self.received.positions
        if self.until is not None and positions and positions[-1] >= self.until:
            self.finish()

    def finish(self) -> None:
        if self.done.done():
            return
        self.send({"id": "1", "type": "complete"})
        if self.transport is not None:
            self.transport.close()
        self.done.set_result(None)

    def fail(self, error: str) -> None:
        if self.received.error is None:
            self.received.error = error
        if not self.acked.done():
            self.acked.set_exception(RuntimeError(error))
        if self.transport is not None:
            self.transport.close()
        if not self.done.done():
            self.done.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.fail(f"connection lost: {exc}")
