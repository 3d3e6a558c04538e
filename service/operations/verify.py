"""Verify the log, its guards, its projections and its Merkle tree.

Nothing here trusts the running service's tables: the chain is recomputed from the stored
events, and projections are refolded from the log into a fresh SQLite file and compared
with the live ones digest by digest.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from events.guards import guard_names, guard_problems
from events.model import Head
from events.store import EventStore
from events.tables import events
from events.tree import TreeIncomplete, log_roots, root_at
from events.verify import verify_chain
from service.operations.database import Refused, check_within
from service.operations.progress import Progress, silent
from service.operations.replay import ChainBroken, CopyRefused, copy_log, fresh_sqlite
from service.services import Services


class Status(StrEnum):
    OK = "ok"
    FAILED = "FAILED"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Check:
    """One verification: its status, what was found, and where the log first broke."""

    name: str
    status: Status
    message: str
    first_bad_position: int | None = None


@dataclass(frozen=True)
class VerifyReport:
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(check.status is not Status.FAILED for check in self.checks)

    @property
    def first_failure(self) -> Check | None:
        return next((check for check in self.checks if check.status is Status.FAILED), None)


# A phase's progress by its name: told (done, total) as it goes. "chain" (a range's, or
# where the replay did not read the whole log), "replay" (its copy, which checks the chain)
# and "fold" count events, as "tree" does (the root recomputed from every event's hash,
# told as one step, where the replay's copy did not grow it); "digests" and "replay digests"
# count rows.
Phases = Callable[[str], Progress]


def _unwatched(_phase: str) -> Progress:
    return silent


async def verify_log(
    services: Services,
    after: int = 0,
    until: int | None = None,
    phases: Phases = _unwatched,
    *,
    in_database: bool = True,
) -> VerifyReport:
    """The chain over a range (all by default), the guards, and, over the whole log only
    (from position 1, `until` None or the head), a replay of every projection compared with
    the live tables (folded as a rebuild folds, `in_database` or all in Python)."""
    guards = await check_guards(services.engine)
    # A range to the head from position 1 is the whole log.
    if after or (until is not None and until != (await services.store.head()).position):
        chain = await check_chain(services.store, after, until, phases("chain"))
        replay = Check("projections", Status.SKIPPED, "compared only when verifying the whole log")
        tree = Check("tree", Status.SKIPPED, "compared only when verifying the whole log")
        return VerifyReport((chain, guards, replay, tree))
    # Over the whole log the replay's copy checks the chain as it reads each event: the log
    # is read once. A copy that stopped short of the head leaves the chain to its own pass.
    try:
        replay, read, grown = await check_replay(services, phases, in_database=in_database)
    except (Refused, SQLAlchemyError):
        # A log that would not hold still, tables that could not be read: a broken chain is
        # still what to say first.
        broken = await check_chain(services.store, after, until, phases("chain"))
        if broken.status is Status.OK:
            raise
        replay, read, grown = Check("projections", Status.SKIPPED, "not replayed"), broken, None
    chain = read or await check_chain(services.store, after, until, phases("chain"))
    if chain.status is Status.FAILED:
        replay = Check("projections", Status.SKIPPED, "not replayed: the chain is broken")
        tree = Check("tree", Status.SKIPPED, "not compared: the chain is broken")
    else:
        tree = await check_tree(services, phases("tree"), grown)
    return VerifyReport((chain, guards, replay, tree))


async def check_chain(
    store: EventStore, after: int, until: int | None, progress: Progress = silent
) -> Check:
    """The chain from `after` to `until` (the head when None); Refused where the range
    reaches past the head, as a replay to a position the log does not have is."""
    head = await store.head()
    check_within(head.position, after, until)
    report = await verify_chain(store, after, until, progress)
    if not report.ok:
        return Check("chain", Status.FAILED, report.message, report.first_bad_position)
    last = after + report.checked
    if last == head.position or report.last_hash is None:
        return _chain_verified(report.checked, after, last, head.hash)
    return _chain_verified(report.checked, after, last, report.last_hash, head=False)


def _chain_verified(
    checked: int, after: int, last: int, last_hash: str, *, head: bool = True
) -> Check:
    """The chain found whole over `checked` events after `after`; `last_hash`, that of
    position `last`, the log's head (or not)."""
    events = f"{checked} event{'' if checked == 1 else 's'}"
    if not checked:
        return Check("chain", Status.OK, f"{events} verified (no events)")
    ends = f"head {last_hash}" if head else f"position {last}'s hash {last_hash}"
    return Check("chain", Status.OK, f"{events} verified (positions {after + 1}-{last}); {ends}")


async def check_guards(engine: AsyncEngine) -> Check:
    problems = await guard_problems(engine)
    if problems:
        return Check("guards", Status.FAILED, "; ".join(problems))
    names = ", ".join(guard_names(engine))
    return Check("guards", Status.OK, f"the database refuses edits of the log ({names})")


class Grown(NamedTuple):
    """The tree a replay's copy grew from the log's hashes: how many events it holds, its
    root, and the first position whose kept subtrees differ from the log's (None: none)."""

    size: int
    root: bytes
    altered: int | None = None


class Replayed(NamedTuple):
    """A replay's comparison of the projections; the chain's check where its copy read the
    whole log; and the Merkle tree the copy grew from the log's own hashes as it read them
    (None where the copy did not read them all)."""

    projections: Check
    chain: Check | None = None
    tree: Grown | None = None


async def check_replay(
    services: Services, phases: Phases = _unwatched, *, in_database: bool = True
) -> Replayed:
    """Refold the log into a fresh SQLite file and compare each projection's digest: the
    log copied as `coop replay` copies it (each event checked as it is read: its place in
    the chain and its hash too), then folded in one pass as a rebuild folds it: by the
    set-based statements where they hold the log (tables the appends folded are so compared
    with a second fold), or (not `in_database`) by the projectors' Python folds, every open
    row version in memory. With it, the chain's check and the Merkle tree the copy grew
    where it read the whole log up to the head the digests belong to."""
    head, live = await _stable_digests(services, phases)
    behind = [s.name for s in await services.projections.status() if s.position != head.position]
    if behind:
        return Replayed(
            Check(
                "projections",
                Status.FAILED,
                f"{', '.join(behind)} behind the log head (position {head.position}): catch"
                " up with `coop projections rebuild NAME`, then verify again",
            )
        )
    with tempfile.TemporaryDirectory() as folder:
        async with fresh_sqlite(Path(folder) / "replay.db", services.store.types) as copy:
            try:
                copied = await copy_log(
                    services.store, copy.store, head.position, phases("replay"), phases("chain")
                )
            except ChainBroken as broken:
                failed = Check("chain", Status.FAILED, broken.problem, broken.position)
                return Replayed(Check("projections", Status.SKIPPED, "the chain is broken"), failed)
            except CopyRefused as error:  # the chain's own pass found no break
                message = f"the log cannot be replayed: {error}"
                whole = None  # events gone from the end of the log: the chain's pass names them
                if error.checked == head.position:
                    whole = _chain_verified(error.checked, 0, head.position, head.hash)
                return Replayed(Check("projections", Status.FAILED, message), whole)
            # Rows gone since the digests were read end the copy short: the chain's own pass.
            chain: Check | None = None
            tree: Grown | None = None
            if copied == head.position:
                chain = _chain_verified(copied, 0, copied, head.hash)
                async with copy.engine.connect() as connection:
                    root = await root_at(connection, copied)
                altered = await _first_kept_difference(services.engine, copy.engine, copied)
                tree = Grown(copied, root, altered)
            folding = phases("fold")
            await copy.projections.rebuild_many(
                sorted(copy.projections.projectors),
                lambda done, total, _: folding(done, total),
                in_database=in_database,
            )
            replayed = await copy.projections.digests(phases("replay digests"))
    return Replayed(_compare(live, replayed, head), chain, tree)


def _compare(live: dict[str, str], replayed: dict[str, str], head: Head) -> Check:
    differ = [name for name in sorted(live) if replayed.get(name) != live[name]]
    if differ:
        first = differ[0]
        return Check(
            "projections",
            Status.FAILED,
            f"{', '.join(differ)} {'differs' if len(differ) == 1 else 'differ'} from a replay"
            f" of the log to position {head.position} ({first}: live digest {live[first][:16]},"
            f" replayed {str(replayed.get(first))[:16]})",
        )
    return Check(
        "projections",
        Status.OK,
        f"{len(live)} projections replayed to position {head.position} match the live tables",
    )


async def _stable_digests(
    services: Services, phases: Phases = _unwatched
) -> tuple[Head, dict[str, str]]:
    """The live digests and the head they belong to (the log must not grow meanwhile)."""
    for _attempt in range(3):
        before = await services.store.head()
        digests = await services.projections.digests(phases("digests"))  # a line an attempt
        if await services.store.head() == before:
            return before, digests
    raise Refused("the log kept growing while it was being verified; verify again later")


async def check_tree(
    services: Services, progress: Progress = silent, grown: Grown | None = None
) -> Check:
    """The tree's stored subtrees give the root the log's own hashes give: `grown` from them
    by a replay's copy (which also compared every kept subtree with its own), or read for
    the head here (`progress` is told when they are, as one step)."""
    head = (await services.store.head()).position if grown is None else grown.size
    if head == 0:
        return Check("tree", Status.OK, "the log is empty")
    if grown is None:
        progress(0, head)
        computed, _ = (await log_roots(services.engine, [head]))[head]
        progress(head, head)
    else:
        computed = grown.root
    try:
        async with services.engine.connect() as connection:
            stored = await root_at(connection, head)
    except TreeIncomplete as problem:
        return Check("tree", Status.FAILED, str(problem))
    if stored != computed:
        return Check(
            "tree",
            Status.FAILED,
            f"the Merkle tree's nodes give the root {stored.hex()} for {head} events, but the"
            f" log's hashes give {computed.hex()}: the subtrees the events hold, or the"
            " events under them, were altered",
        )
    if grown is not None and grown.altered is not None:
        return Check(
            "tree",
            Status.FAILED,
            f"position {grown.altered} keeps Merkle subtrees other than those the log's hashes"
            " give: the kept subtrees were altered (the root still holds; proofs through them"
            " would not)",
        )
    return Check("tree", Status.OK, f"root {computed.hex()} over {head} events")


async def _first_kept_difference(live: AsyncEngine, grown: AsyncEngine, size: int) -> int | None:
    """The first of the first `size` positions whose kept subtrees differ between the two
    logs (the live one, and the copy that grew them from its hashes), or None."""
    sides = []
    for engine in (live, grown):
        query = (
            select(events.c.position, events.c.subtrees)
            .where(events.c.subtrees.is_not(None), events.c.position <= size)
            .order_by(events.c.position)
        )
        async with engine.connect() as connection:
            sides.append(
                {position: bytes(kept) for position, kept in await connection.execute(query)}
            )
    kept, fresh = sides
    differ = [
        position
        for position in kept.keys() | fresh.keys()
        if kept.get(position) != fresh.get(position)
    ]
    return min(differ, default=None)
