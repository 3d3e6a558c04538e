"""One subscriber of a subscription group (see service/fanout.py).

`Member` catches up from its own `after` with an execution of its own, joins its group at
the seam, then takes the group's answers: straight onto its socket while it keeps up, else
through a bounded queue; when the queue fills it leaves the group and catches up again.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from contextlib import aclosing
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from graphql import GraphQLError
from strawberry.types.execution import PreExecutionError

from schema.context import Context, FeedWindow, check_principal_may_read
from service.fanout_answers import Answer, Outlet, Round, encode, payload_text

if TYPE_CHECKING:
    from service.fanout import Fanout, Group
    from service.fanout_operations import Operation


def _lag(recorded_at: datetime | None) -> float | None:
    return None if recorded_at is None else time.time() - recorded_at.timestamp()


class Member:
    """One subscriber: its own catch-up, then its group's answers, straight onto its socket
    while it keeps up, else through a bounded queue."""

    def __init__(
        self, fanout: Fanout, operation: Operation, context: Context, outlet: Outlet
    ) -> None:
        self.fanout = fanout
        self.operation = operation
        self.context = context
        self.outlet = outlet
        self.queue: deque[tuple[str, datetime | None]] = deque()
        self.ready = asyncio.Event()
        self.after = 0  # every answer up to this position is sent or queued
        self.group: Group | None = None
        self.behind = False
        self.ended = False
        self.joined = False  # the latest catch-up reached its seam and joined the group
        self.live = False  # waiting for its group's answers, with nothing queued or sending

    def take(self, answers: list[Answer], round: Round) -> None:
        """A round of the group's answers: written to the socket in one write when it can
        take them now, else queued. `round` keeps the bytes made for earlier members."""
        after, wanted = self.after, self.operation.filter
        if wanted is not None:
            mine = [a for a in answers if a.position > after and wanted.wants(a)]
        elif answers[0].position > after:
            mine = answers
        else:
            mine = [a for a in answers if a.position > after]
        if not mine:
            return
        outlet = self.outlet
        if (
            self.live
            and not self.queue
            and outlet.writable()
            and round.may_read(self.context.principal)
        ):
            outlet.write(round.frames_of(outlet.prefix, mine))
            self.after = mine[-1].position
            round.wrote(mine)
            return
        for answer in mine:
            self.offer(answer.position, answer.text, answer.recorded_at)

    def offer(self, position: int, text: str, recorded_at: datetime | None) -> None:
        """Queue one answer, or leave the group when the queue is full."""
        if position <= self.after or self.group is None:
            return
        if len(self.queue) >= self.fanout.queue_limit:
            self.behind = True
            self.fanout.leave(self)
            self.fanout.metrics.moved_to_catch_up.inc()
        else:
            self.queue.append((text, recorded_at))
            self.after = position
        self.ready.set()

    def end(self) -> None:
        self.ended = True
        self.ready.set()

    async def join(self, after: int) -> int:
        """Join the group (from `after`); the last position the catch-up must read."""
        group = await self.fanout.group_for(self.operation, self.context.principal.role)
        group.members.add(self)
        self.group, self.joined = group, True
        self.after = max(after, group.through)
        return group.through

    async def run(self) -> None:
        """Deliver until the feed ends; returns when the subscription is complete."""
        first: bool | None = True
        after: int | None = None  # None: where the client asked
        while not self.ended:
            window = FeedWindow(after=after, join=self.join)
            self.joined = False
            first = await self._catch_up(replace(self.context, window=window), bool(first))
            if first is None or not self.joined:
                return  # refused, or the feed ended before the catch-up joined
            if not await self._live():
                return
            after, self.behind = self.after, False

    async def _catch_up(self, context: Context, first: bool) -> bool | None:
        """Answers up to the seam, executed for this subscriber alone; None if refused."""
        operation = self.operation
        stream = await self.fanout.schema.subscribe(
            operation.query,
            variable_values=operation.variables,
            context_value=context,
            operation_name=operation.operation_name,
        )
        async with aclosing(stream):
            async for result in stream:
                if first and result.data is None and result.errors:
                    await self.outlet.refuse(result.errors)
                    return None
                if isinstance(result, PreExecutionError):
                    return None
                first = False
                await self._send(payload_text(result), context.window.recorded_at, "catch_up")
        return first

    async def _live(self) -> bool:
        """Send the group's answers; False when the subscription is over, True to catch up."""
        try:
            while True:
                if self.queue:
                    self.live = False  # nothing goes straight onto the socket past a send
                    text, recorded_at = self.queue.popleft()
                    await self._send(text, recorded_at, "live")
                elif self.ended:
                    return False
                elif self.behind:
                    return True
                else:
                    self.ready.clear()
                    self.live = True
                    await self.ready.wait()
        finally:
            self.live = False

    async def _send(self, text: str, recorded_at: datetime | None, phase: str) -> None:
        settings = self.fanout.services.settings
        try:
            check_principal_may_read(self.context.principal, settings)
        except GraphQLError as error:
            payload = {"data": None, "errors": [error.formatted]}
            await self.outlet.send(self.outlet.frame(encode(payload).decode()))
            self.end()
            self.queue.clear()
            return
        await self.outlet.send(self.outlet.frame(text))
        lag = _lag(recorded_at)
        if lag is not None:
            self.fanout.metrics.delivery.labels(phase).observe(lag)
