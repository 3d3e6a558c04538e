"""What a subscription group hands out (see service/fanout.py), and how it reaches sockets.

`Answer` is a group's answer to one event, as text and as bytes; `Round` holds what the
members of one delivery round share (the WebSocket frames made once per message prefix, who
may read, the lag written); `Outlet` is how a subscriber's socket is spoken to.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import msgspec
from graphql import GraphQLError
from strawberry.types import ExecutionResult

from schema.access import Principal
from schema.context import check_principal_may_read
from service.observability import observe_many

if TYPE_CHECKING:
    from service.fanout import Fanout

encode = msgspec.json.Encoder().encode


class Outlet(Protocol):
    """How one subscriber's socket is spoken to, in its protocol."""

    prefix: bytes  # a message carrying an answer, up to the answer; `}` closes it

    def frame(self, payload: str) -> str:
        """The whole message carrying one answer (`payload`, as JSON text)."""

    async def send(self, message: str) -> None: ...

    async def refuse(self, errors: list[GraphQLError]) -> None:
        """The subscription is refused before its first answer."""

    def writable(self) -> bool:
        """Whether `write` may be called now: the socket is open, its buffer not full, and
        the subscription not complete."""

    def write(self, frames: bytes) -> None:
        """Put whole WebSocket frames on the socket, without waiting."""


def text_frame(message: bytes) -> bytes:
    """`message` as one unmasked WebSocket text frame (RFC 6455 5.2), as a server sends it."""
    size = len(message)
    if size < 126:
        return b"\x81" + size.to_bytes(1, "big") + message
    if size < 1 << 16:
        return b"\x81\x7e" + size.to_bytes(2, "big") + message
    return b"\x81\x7f" + size.to_bytes(8, "big") + message


@dataclass(frozen=True, slots=True)
class Answer:
    """A group's answer to one event: its text, as queued and as written to sockets."""

    position: int
    text: str
    data: bytes
    recorded_at: datetime | None
    type: str | None = None  # the event's, for subscribers' filters
    stream_id: str | None = None


def payload_text(result: ExecutionResult) -> str:
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [error.formatted for error in result.errors]
    if result.extensions:
        payload["extensions"] = result.extensions
    return encode(payload).decode()


class Round:
    """What the members of a round share: the frames made for a group's answers (by message
    prefix, and positions where a member takes only some), who may read, and how many
    answers went straight onto sockets."""

    def __init__(self, fanout: Fanout) -> None:
        self.fanout = fanout
        self.answers: list[Answer] = []  # the group's, now being handed out
        self.frames: dict[object, bytes] = {}
        self.readable: dict[Principal, bool] = {}
        self.whole = 0  # members written all of `answers`
        self.written: dict[int, tuple[datetime | None, int]] = {}  # some: by position

    def of(self, answers: list[Answer]) -> Round:
        """This round, handing out `answers` (a group's) from now on."""
        if answers is not self.answers:
            self.observe()
            self.answers, self.frames = answers, {}
        return self

    def frames_of(self, prefix: bytes, mine: list[Answer]) -> bytes:
        key: object = prefix if mine is self.answers else (prefix, tuple(a.position for a in mine))
        data = self.frames.get(key)
        if data is None:
            data = self.frames[key] = b"".join(text_frame(prefix + a.data + b"}") for a in mine)
        return data

    def may_read(self, principal: Principal) -> bool:
        readable = self.readable.get(principal)
        if readable is None:
            try:
                check_principal_may_read(principal, self.fanout.services.settings)
                readable = True
            except GraphQLError:
                readable = False  # the queue's path sends the error and ends the subscription
            self.readable[principal] = readable
        return readable

    def wrote(self, mine: list[Answer]) -> None:
        if mine is self.answers:
            self.whole += 1
            return
        written = self.written
        for answer in mine:
            _, count = written.get(answer.position, (None, 0))
            written[answer.position] = (answer.recorded_at, count + 1)

    def observe(self) -> None:
        """The lag of what was written so far (commit to now), in the metrics."""
        written = self.written
        for answer in self.answers if self.whole else ():
            _, count = written.get(answer.position, (None, 0))
            written[answer.position] = (answer.recorded_at, count + self.whole)
        now, lag, total = time.time(), self.fanout.live_lag, 0
        for recorded_at, count in written.values():
            total += count
            if recorded_at is not None:
                observe_many(lag, now - recorded_at.timestamp(), count)
        written.clear()
        self.whole = 0
        if total:
            self.fanout.metrics.written_directly.inc(total)
