"""The write path: load the streams a rule reads, decide, append, return plain data.

`Commands.execute` is the one use-case entry for every command (mutations and the seed
loader both come through it). Store errors are translated here into domain errors.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from domain import rules
from domain.commands import Command
from domain.errors import Conflict, DomainError, ValidationError, VersionConflict
from domain.events import DomainEvent
from domain.facts import Facts, Plan
from domain.vocabulary import ObjectKind
from events.chain import canonical_json
from events.errors import ConcurrencyConflict, IdempotencyKeyReused, InvalidAppend
from events.model import AppendResult, Expect, ExpectedVersion, Metadata, RecordedEvent
from events.registry import EventTypes
from events.store import Check, EventStore

MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Outcome:
    """What a command wrote (or, for a retried idempotent command, had written the first time)."""

    stream_id: str
    stream_version: int
    first_position: int
    last_position: int
    events: tuple[RecordedEvent, ...]
    replayed: bool = False

    @classmethod
    def of(cls, result: AppendResult) -> Outcome:
        return cls(
            stream_id=result.stream_id,
            stream_version=result.stream_version,
            first_position=result.first_position,
            last_position=result.last_position,
            events=result.events,
            replayed=result.replayed,
        )


@dataclass(frozen=True)
class Loaded:
    facts: Facts
    versions: dict[str, int | None]


class References(Protocol):
    """What the record holds now that refers to an object (read from the read models, inside
    the append's transaction, through `connection`)."""

    async def referring(self, connection: Any, kind: ObjectKind, key: str) -> list[str]:
        """A short description of each fact that refers to the object, none if nothing does."""
        ...


class Commands:
    """Executes commands against the log, one consistent decision at a time."""

    def __init__(self, store: EventStore, references: References | None = None) -> None:
        self.store = store
        self.references = references

    async def execute(self, command: Command, actor: str) -> Outcome:
        """Decide and append what `command` adds; raise a DomainError when it is refused."""
        if not actor.strip():
            raise ValidationError("the actor must be named")
        plan = rules.plan(command)
        earlier = await self._earlier_outcome(command, plan, actor)
        if earlier is not None:
            return earlier
        for _attempt in range(MAX_ATTEMPTS):
            loaded = await self._load(plan)
            try:
                _check_expected_version(command, plan.target, loaded.versions[plan.target])
                decided = rules.decide(loaded.facts, command)
            except DomainError:
                # A simultaneous retry of this very request may have landed since the key
                # was looked up: what the rule refuses then is that write, and its result
                # is the answer.
                earlier = await self._earlier_outcome(command, plan, actor)
                if earlier is not None:
                    return earlier
                raise
            try:
                result = await self._append(command, actor, plan, loaded, decided)
            except ConcurrencyConflict as conflict:
                if command.expected_version is not None and conflict.stream_id == plan.target:
                    actual = conflict.actual or 0
                    raise VersionConflict(plan.target, command.expected_version, actual) from None
                continue  # another writer moved a stream we read: decide again on fresh facts
            if result.replayed:  # the same key landed meanwhile, from another attempt
                _check_same_actor(result, command, actor)
            return Outcome.of(result)
        raise Conflict(
            f"the streams this command reads kept changing ({MAX_ATTEMPTS} attempts); try again"
        )

    async def _earlier_outcome(self, command: Command, plan: Plan, actor: str) -> Outcome | None:
        """The first result of a retried command, looked up before its rule runs again.

        The rule would refuse a retry ("already registered"), so the key is checked first.
        """
        key = command.idempotency_key
        if key is None:
            return None
        result = await self.store.result_for_idempotency_key(key)
        if result is None:
            return None
        _check_same_actor(result, command, actor)  # first: another's request is not theirs to see
        try:
            await self.store.result_for_idempotency_key(key, command_digest(command))
        except IdempotencyKeyReused as error:
            raise Conflict(str(error)) from None
        if result.stream_id != plan.target:
            raise Conflict(
                f"idempotency key {key!r} was already used for a different request"
                f" (to stream {result.stream_id!r}); use a new key"
            )
        return Outcome.of(result)

    async def _load(self, plan: Plan) -> Loaded:
        streams = plan.streams()
        events: dict[str, list[Any]] = {stream: [] for stream in streams}
        versions: dict[str, int | None] = dict.fromkeys(streams)
        async for recorded in self.store.iter_all(streams=list(streams)):
            events[recorded.stream_id].append(self.store.types.decode(recorded))
            versions[recorded.stream_id] = recorded.stream_version
        return Loaded(Facts(events), versions)

    async def _append(
        self,
        command: Command,
        actor: str,
        plan: Plan,
        loaded: Loaded,
        decided: Sequence[DomainEvent],
    ) -> AppendResult:
        metadata = Metadata(
            actor=actor,
            reason=command.reason,
            source=command.source,
            idempotency_key=command.idempotency_key,
        )
        others = {s: _expect(v) for s, v in loaded.versions.items() if s != plan.target}
        strays = [type(event).__name__ for event in decided if event.stream != plan.target]
        if strays:  # a rule's bug: what an import, a copy and verify would refuse ever after
            raise RuntimeError(
                f"{type(command).__name__} decided {', '.join(strays)} outside its stream"
                f" {plan.target!r}; nothing was written"
            )
        try:
            return await self.store.append(
                plan.target,
                decided,
                expected_version=_expect(loaded.versions[plan.target]),
                metadata=metadata,
                also_expected=others,
                request_digest=command_digest(command) if command.idempotency_key else None,
                check=self._unreferenced(command),
            )
        except IdempotencyKeyReused as error:
            raise Conflict(str(error)) from None
        except InvalidAppend as error:
            raise ValidationError(str(error)) from None

    def _unreferenced(self, command: Command) -> Check | None:
        """For a command that withdraws something: a check, under the append's lock, that
        nothing the record holds refers to it."""
        unreferenced = rules.rule_for(type(command)).unreferenced
        if unreferenced is None or self.references is None:
            return None
        kind, key = unreferenced(command)
        references = self.references

        async def check(connection: Any) -> None:
            found = await references.referring(connection, kind, key)
            if found:
                raise Conflict(
                    f"{kind} {key!r} cannot be withdrawn while the record refers to it:"
                    f" {', '.join(found)}; retract or correct those first"
                )

        return check


def command_digest(command: Command) -> str:
    """What identifies a request behind its idempotency key: the command and its values."""
    values = EventTypes.payload(command)
    values.pop("idempotency_key", None)
    values.pop("expected_version", None)
    body = canonical_json([type(command).__name__, values])
    return hashlib.sha256(body.encode()).hexdigest()


def _check_same_actor(result: AppendResult, command: Command, actor: str) -> None:
    """A key replays only its own writer's request: another's is not theirs to see."""
    if result.events and result.events[0].metadata.get("actor") != actor:
        raise Conflict(
            f"idempotency key {command.idempotency_key!r} was already used by another writer;"
            " use a new key"
        )


def _expect(version: int | None) -> ExpectedVersion:
    return Expect.NO_STREAM if version is None else version


def _check_expected_version(command: Command, stream: str, actual: int | None) -> None:
    expected = command.expected_version
    if expected is None or expected == (actual or 0):
        return
    raise VersionConflict(stream, expected, actual or 0)
