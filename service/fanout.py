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

Here are the groups (`Group`) and the fanout holding them (`Fanout`); the operation a
subscriber sends and its filter are in service/fanout_operations.py, the answers, the
rounds that hand them out and the outlet they reach a socket through in
service/fanout_answers.py, and one subscriber (`Member`) in service/fanout_members.py.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import aclosing

from strawberry.schema import BaseSchema

from events.faults import patiently
from events.model import Head, RecordedEvent
from schema.access import Principal
from schema.context import Context, FeedWindow
from schema.feed_plans import Plan, plan
from service.fanout_answers import Answer, Outlet, Round, payload_text
from service.fanout_members import Member
from service.fanout_operations import Operation
from service.observability import Metrics
from service.services import Services

log = logging.getLogger(__name__)


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
