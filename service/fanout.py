"""Fan-out: subscribers of the same operation share one execution per event.

Subscribers whose operation (the document without its root field's `after`, the operation
name, the other variables) and role are the same form a group. The group runs the
subscription once, from the log's head when it formed: each answer is executed and
serialized once, and the same text is queued to every member. A member first catches up
from its own `after` with an execution of its own, up to the last position its group had
delivered when it joined, then takes the group's answers after that position: no gap, no
duplicate. Each member has a bounded queue; one that lets it fill is dropped from the
group, sends what it holds, catches up from the log and joins again, so a slow socket
never stalls its group. Appends never wait for any of this: the change feed only wakes
readers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from contextlib import aclosing
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

import msgspec
from graphql import (
    REMOVE,
    ArgumentNode,
    FieldNode,
    GraphQLError,
    VariableNode,
    print_ast,
    value_from_ast_untyped,
    visit,
)
from graphql.language import Visitor
from strawberry.schema import BaseSchema
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

from events.faults import patiently
from events.model import Head, RecordedEvent
from schema.access import Principal
from schema.context import Context, FeedWindow, check_principal_may_read
from schema.feed_plans import Plan, plan, subscription_of, with_defaults
from service.observability import Metrics, observe_many
from service.services import Services

log = logging.getLogger(__name__)
_encode = msgspec.json.Encoder().encode


@dataclass(frozen=True)
class EventFilter:
    """The `types` and `streamIds` of an `events` subscription, applied by its subscriber
    to its group's answers: the answer to an event does not depend on them, so subscribers
    that differ only there share one execution."""

    types: frozenset[str] | None
    streams: frozenset[str] | None

    @classmethod
    def of(cls, arguments: dict[str, Any]) -> EventFilter | None:
        def wanted(value: Any) -> frozenset[str] | None:
            if isinstance(value, str):  # GraphQL takes one value where a list is expected
                value = [value]
            # As the change feed reads them: absent or empty is no filter.
            return frozenset(value) if isinstance(value, list) and value else None

        found = cls(wanted(arguments.get("types")), wanted(arguments.get("streamIds")))
        return None if found.types is None and found.streams is None else found

    def wants(self, answer: Answer) -> bool:
        return (self.types is None or answer.type in self.types) and (
            self.streams is None or answer.stream_id in self.streams
        )


@dataclass(frozen=True)
class Operation:
    """A subscription as a client sent it, and the group it belongs to."""

    query: str
    variables: dict[str, Any] | None
    operation_name: str | None
    key: tuple[str, str | None, str, str | None]
    filter: EventFilter | None = None  # applied per subscriber (an `events` feed)


def subscription(
    query: str, variables: dict[str, Any] | None, operation_name: str | None, role: str | None
) -> Operation | None:
    """The operation, when it is a subscription that parses; None for anything else."""
    parsed = subscription_of(query, operation_name)
    if parsed is None:
        return None
    document, found = parsed
    shared = dict(variables or {})
    # Where each subscriber starts is its own; what it is sent from then on is the group's.
    # The events feed's filters are each subscriber's own too (EventFilter).
    roots = {
        id(field): OWN_ARGUMENTS.get(field.name.value, {"after"})
        for field in found.selection_set.selections
        if isinstance(field, FieldNode)
    }
    own: dict[str, Any] = {}
    # A variable the client left out takes the default its definition declares, as in
    # execution: a filter given only as a default is still this subscriber's filter.
    given = with_defaults(found, variables)

    class WithoutOwnArguments(Visitor):
        def enter_argument(
            self, node: ArgumentNode, _key: Any, _parent: Any, _path: Any, ancestors: Any
        ) -> object:
            if node.name.value not in roots.get(id(ancestors[-1]), ()):
                return None
            if isinstance(node.value, VariableNode):
                shared.pop(node.value.name.value, None)
            own[node.name.value] = value_from_ast_untyped(node.value, given)
            return REMOVE

    document = visit(document, WithoutOwnArguments())
    key = (print_ast(document), operation_name, json.dumps(shared, sort_keys=True), role)
    return Operation(query, variables, operation_name, key, EventFilter.of(own))


# The root fields' arguments that are each subscriber's own, not its group's.
OWN_ARGUMENTS = {"events": {"after", "types", "streamIds"}}


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
    return _encode(payload).decode()


def _lag(recorded_at: datetime | None) -> float | None:
    return None if recorded_at is None else time.time() - recorded_at.timestamp()


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


class Group:
    """One execution of one subscription, shared by its members.

    Answers are delivered in rounds: a round takes every answer made since the last one,
    and for each member writes their frames to its socket in one write (the bytes made
    once per round for all members with the same message prefix), or queues them where
    the socket cannot take them now. Between chunks of members the round yields, so an
    append never waits for a whole round.
    """

    def __init__(
        self,
        fanout: Fanout,
        operation: Operation,
        role: str | None,
        start: int,
        planned: Plan | None = None,
    ) -> None:
        self.fanout = fanout
        self.operation = operation
        self.plan = planned  # answers made from the events, by the fanout's rounds
        self.members: set[Member] = set()
        # Every answer for an event up to here is made, and reaches every member that was
        # in the group when it was made.
        self.through = start
        self.pending: list[Answer] = []  # made, not yet in a round
        self.round: list[Answer] = []  # the answers of the round under way
        self.serving: list[Member] = []  # the members of the round under way
        self.delivering: asyncio.Task[None] | None = None
        self.window = FeedWindow(after=start, shared=True, unfiltered=True)
        self.context = Context(
            services=fanout.services,
            request=None,
            principal=Principal(role, None),
            window=self.window,
        )
        self.task = None if planned is not None else asyncio.create_task(self._run())

    def made(self, events: list[RecordedEvent]) -> None:
        """The plan's answers to the events after `through` (a planned group)."""
        assert self.plan is not None
        answers, through = self.plan, self.through
        for event in events:
            if event.position > through and answers.answers(event):
                data = answers.answer(event)
                self.pending.append(
                    Answer(
                        event.position,
                        data.decode(),
                        data,
                        event.recorded_at,
                        event.type,
                        event.stream_id,
                    )
                )
        if events:
            self.through = max(through, events[-1].position)

    def deliver(self, round: Round, start: int = 0) -> int:
        """Hand this round's answers to every member from `start` on; returns how many
        members were served, stopping after the fanout's chunk."""
        if not start:
            self.serving = list(self.members)
        members, answers, round = self.serving, self.round, round.of(self.round)
        end = min(start + self.fanout.chunk, len(members))
        for member in members[start:end]:
            if member.group is self:
                member.take(answers, round)
        return end - start

    def end(self) -> None:
        """Complete every member, after what was made and not yet delivered (a member that
        has an answer already skips it)."""
        self.fanout.stopped(self)
        answers = self.round + self.pending
        for member in list(self.members):
            if answers:
                member.take(answers, Round(self.fanout).of(answers))
            member.end()

    async def _run(self) -> None:
        operation = self.operation
        try:
            stream = await self.fanout.schema.subscribe(
                operation.query,
                variable_values=operation.variables,
                context_value=self.context,
                operation_name=operation.operation_name,
            )
            async with aclosing(stream):
                async for result in stream:
                    text = payload_text(result)
                    window = self.window
                    answer = Answer(
                        window.position,
                        text,
                        text.encode(),
                        window.recorded_at,
                        window.event_type,
                        window.stream_id,
                    )
                    self.through = answer.position
                    self.pending.append(answer)
                    if self.delivering is None:
                        self.delivering = asyncio.create_task(self._deliver())
        except Exception:
            log.exception("a subscription group failed; its members are completed")
        finally:
            if self.delivering is not None:
                self.delivering.cancel()
            self.end()

    async def _deliver(self) -> None:
        feed = self.fanout.services.feed
        appending = feed.store.appending
        try:
            while self.pending:
                await appending.quiet(feed.writers_first)  # writers first: a round waits
                self.round, self.pending = self.pending, []
                round, served = Round(self.fanout), 0
                while True:
                    count = self.deliver(round, served)
                    served += count
                    if served >= len(self.serving):
                        break
                    round.observe()
                    await asyncio.sleep(0)  # let an append's next step run
                round.observe()
                self.round, self.serving = [], []
        finally:
            self.delivering = None


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
            await self.outlet.send(self.outlet.frame(_encode(payload).decode()))
            self.end()
            self.queue.clear()
            return
        await self.outlet.send(self.outlet.frame(text))
        lag = _lag(recorded_at)
        if lag is not None:
            self.fanout.metrics.delivery.labels(phase).observe(lag)


class Fanout:
    """The groups of one service instance."""

    def __init__(self, services: Services, schema: BaseSchema, queue_limit: int) -> None:
        self.services = services
        self.schema = schema
        self.queue_limit = queue_limit
        self.chunk = 64  # members a round serves between yields to the rest of the loop
        self.metrics: Metrics = services.metrics
        self.live_lag = self.metrics.delivery.labels("live")
        self.groups: dict[tuple[str, str | None, str, str | None], Group] = {}
        self.members: set[Member] = set()
        self._reading_head: asyncio.Future[Head] | None = None
        # The planned groups' answers are made and delivered by one task for all: one round
        # per batch of new events, the batch holding whatever came during the last round.
        self.planned: set[Group] = set()
        self._rounds: asyncio.Task[None] | None = None
        self._dispatched = 0  # every event up to here was handed to the planned groups
        self.metrics.watch_fanout(self)

    async def group_for(self, operation: Operation, role: str | None) -> Group:
        group = self.groups.get(operation.key)
        if group is None:
            start = await self._head()
            group = self.groups.get(operation.key)  # another member may have formed it
            if group is None:
                group = self.groups[operation.key] = self._form(operation, role, start)
        return group

    def _form(self, operation: Operation, role: str | None, start: int) -> Group:
        planned = plan(operation.query, operation.variables, operation.operation_name)
        if planned is None:
            return Group(self, operation, role, start)
        if self._rounds is None:
            self._dispatched = start
            self._rounds = asyncio.create_task(self._run_rounds(start))
        # The rounds may have handed on events past the head just read: the group starts
        # after them, and its members catch up to there.
        group = Group(self, operation, role, max(start, self._dispatched), planned)
        self.planned.add(group)
        return group

    async def _run_rounds(self, after: int) -> None:
        feed = self.services.feed
        try:
            async with aclosing(feed.batches(after)) as batches:
                async for batch in batches:
                    for group in list(self.planned):
                        group.made(batch)
                    self._dispatched = batch[-1].position
                    await self._round()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the rounds of planned groups failed; their members are completed")
        # The feed ended (the service is stopping) or failed: every planned group's members
        # are completed, after what was made for them.
        self._rounds = None
        for group in list(self.planned):
            group.end()

    async def _round(self) -> None:
        """Every planned group's new answers to its members, after any append under way."""
        groups = [group for group in self.planned if group.pending]
        if not groups:
            return
        feed = self.services.feed
        appending, clock = feed.store.appending, asyncio.get_running_loop().time
        await appending.quiet(feed.writers_first)
        for group in groups:
            group.round, group.pending = group.pending, []
        round = Round(self)
        # Writers first: an append begun during the round runs to its end before the next
        # chunk (its statements would each wait for one otherwise), for at most
        # `writers_first` seconds in all per round, so that a busy writer cannot hold a
        # round of thousands of subscribers back by a pause every chunk.
        patience = feed.writers_first
        for group in groups:
            served = 0
            while True:
                served += group.deliver(round, served)
                if served >= len(group.serving):
                    break
                round.observe()
                if appending.count and patience > 0:
                    started = clock()
                    await appending.quiet(patience)
                    patience -= clock() - started
                else:
                    await asyncio.sleep(0)
            group.round, group.serving = [], []
        round.observe()

    async def _head(self) -> int:
        """The log's head, one read shared by every group forming while it is under way
        (a thousand subscribers arriving at once would otherwise each wait for a connection)."""
        if self._reading_head is None or self._reading_head.done():
            # Waits out an outage: the subscription begins when the database is back.
            self._reading_head = asyncio.ensure_future(patiently(self.services.store.head))
        return (await asyncio.shield(self._reading_head)).position

    def leave(self, member: Member) -> None:
        group, member.group = member.group, None
        if group is None:
            return
        group.members.discard(member)
        if not group.members:
            self.stopped(group)
            if group.task is not None:
                group.task.cancel()

    def stopped(self, group: Group) -> None:
        if self.groups.get(group.operation.key) is group:
            del self.groups[group.operation.key]
        self.planned.discard(group)
        if not self.planned and self._rounds is not None:
            self._rounds.cancel()  # no follower is left reading the log for nobody
            self._rounds = None

    async def serve(self, operation: Operation, context: Context, outlet: Outlet) -> None:
        """Run one subscriber until its subscription is complete (or it is cancelled)."""
        member = Member(self, operation, context, outlet)
        self.members.add(member)
        try:
            await member.run()
        finally:
            self.members.discard(member)
            self.leave(member)
