"""`coop verify`: the chain, the database's refusal of edits, and a replay of every projection."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from events.registry import EventTypes
from events.tables import events
from events.verify import verify_chain
from projections.framework import checkpoints
from projections.models.memberships import MembershipsProjector
from service.operations.verify import verify_log
from service.services import Services
from tests.audit.conftest import HEAD, Coop, drop_guards
from tests.projections.sample import record_sample

Forgery = Callable[[AsyncConnection], Awaitable[object]]


def statement(sql: str) -> Forgery:
    return lambda connection: connection.execute(text(sql))


async def swap(connection: AsyncConnection) -> None:
    """Positions 3 and 6 both register a city: their payloads trade places."""
    rows = await connection.execute(
        text("SELECT position, data FROM events WHERE position IN (3, 6)")
    )
    data = {row.position: row.data for row in rows}
    for position, other in ((3, 6), (6, 3)):
        await connection.execute(
            text("UPDATE events SET data = :data WHERE position = :position"),
            {"data": data[other], "position": position},
        )


# Each forgery, the position verify must name, and how to undo it before the next one.
FORGERIES: list[tuple[Forgery, int, Forgery | None]] = [
    (
        statement("UPDATE events SET data = replace(data, '\"n1\"', '\"x\"') WHERE position = 7"),
        7,
        statement("UPDATE events SET data = replace(data, '\"x\"', '\"n1\"') WHERE position = 7"),
    ),
    (swap, 3, swap),
    (statement("DELETE FROM events WHERE position = 5"), 5, None),
]


async def test_an_untouched_log_verifies(sampled_url: str, coop: Coop) -> None:
    """Off a terminal, each phase ends with one plain progress line on stderr: the live
    tables' digests, the replay's copy (which checks the chain: the log is read once), its
    fold in one pass (as `coop replay` folds), and the replayed tables' digests (the Merkle
    root is the copy's, grown from the log's hashes as it read them)."""
    ran = await coop(sampled_url, "verify")
    assert ran.code == 0, ran.out + ran.err
    assert f"chain: ok: {HEAD} events verified (positions 1-{HEAD})" in ran.out
    assert "guards: ok" in ran.out
    assert f"projections: ok: 7 projections replayed to position {HEAD}" in ran.out
    assert ran.out.endswith("coop: verified\n")
    lines = ran.err.splitlines()
    counted = [line.split(", ")[0] for line in lines]
    rows = counted[0].split("/")[-1].split()[0]
    assert int(rows) > HEAD  # every row version of the seven read models
    assert counted == [
        f"verify digests: {rows}/{rows} rows",
        f"verify replay: {HEAD}/{HEAD} events",
        f"verify fold: {HEAD}/{HEAD} events",
        f"verify replay digests: {rows}/{rows} rows",
    ], ran.err
    assert all(
        re.fullmatch(r".* (events|rows), 100%, took \d+:\d\d, [\d,]+ (events|rows)/s", line)
        for line in lines
    )


async def test_the_replay_folds_as_a_rebuild_does_or_in_python_when_asked(
    sampled_url: str, coop: Coop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Memberships' set-based fold broken (it writes nothing): the replay folds by it and
    differs from the tables the appends folded; `--in-python` folds as the appends did."""

    async def folds_nothing(*_args: object) -> bool:
        return True

    monkeypatch.setattr(MembershipsProjector, "fold_in_database", folds_nothing)
    ran = await coop(sampled_url, "verify")
    assert ran.code == 1
    assert "projections: FAILED: memberships differs from a replay of the log" in ran.out
    ran = await coop(sampled_url, "verify", "--in-python")
    assert ran.code == 0, ran.out + ran.err
    assert f"projections: ok: 7 projections replayed to position {HEAD}" in ran.out
    assert f"verify fold: {HEAD}/{HEAD} events" in ran.err


async def test_a_range_checks_only_the_chain(
    sampled: Services, database_url: str, coop: Coop
) -> None:
    sampled_url = database_url
    ran = await coop(sampled_url, "verify", "--after", "5", "--until", "9")
    assert ran.code == 0
    ninth = (await sampled.store.read_all(after=8, limit=1))[0].hash
    # The hash its range ends on, not the head's.
    assert f"4 events verified (positions 6-9); position 9's hash {ninth}" in ran.out
    one = await coop(sampled_url, "verify", "--after", str(HEAD - 1))
    head = await sampled.store.head()
    assert f"chain: ok: 1 event verified (positions {HEAD}-{HEAD}); head {head.hash}" in one.out
    empty = await coop(sampled_url, "verify", "--after", "5", "--until", "5")
    assert "chain: ok: 0 events verified (no events)\n" in empty.out
    for beyond in (["--after", str(HEAD + 1)], ["--until", str(HEAD + 1)]):
        past = await coop(sampled_url, "verify", *beyond)
        assert past.code == 2, past.err
        assert f"the log ends at position {HEAD}; it has no {HEAD + 1}" in past.err
    assert "projections: skipped" in ran.out
    assert [line.split(", ")[0] for line in ran.err.splitlines()] == ["verify chain: 4/4 events"]
    # To the head from the start is the whole log, its projections compared too.
    whole = await coop(sampled_url, "verify", "--until", str(HEAD))
    assert whole.code == 0, whole.out
    assert f"projections: ok: 7 projections replayed to position {HEAD}" in whole.out
    backwards = await coop(sampled_url, "verify", "--after", "9", "--until", "5")
    assert backwards.code == 2
    assert "--until 5 is before --after 9" in backwards.err


@pytest.mark.parametrize("chunk", [None, 4])
async def test_a_changed_a_swapped_and_a_deleted_event_are_each_named(
    sampled: Services,
    database_url: str,
    coop: Coop,
    chunk: int | None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The replay's copy is checked by two processes, each taking every other chunk of the
    log: in chunks of 4 the swap is in the first process's first chunk, the change in the
    second's, and the deleted event begins a chunk (where two chunks meet)."""
    if chunk is not None:
        monkeypatch.setattr("service.operations.replay.CHUNK", chunk)
    await drop_guards(sampled.engine)
    for forge, position, undo in FORGERIES:
        async with sampled.engine.begin() as connection:
            await forge(connection)
        ran = await coop(database_url, "verify")
        assert ran.code == 1
        assert f"coop: verification failed at position {position}: chain" in ran.out
        assert "guards: FAILED: trigger events_" in ran.out
        assert "projections: skipped: not replayed: the chain is broken" in ran.out
        assert (await verify_log(sampled)).checks[0].first_bad_position == position
        # Said as the chain's own pass says it (the replay's copy checked it here).
        report = await verify_chain(sampled.store)
        assert report.first_bad_position == position
        assert f"chain: FAILED: {report.message}\n" in ran.out
        if undo is not None:
            async with sampled.engine.begin() as connection:
                await undo(connection)
            assert (await verify_log(sampled)).checks[0].status == "ok"


async def test_a_broken_chain_is_named_where_the_replay_does_not_read_the_log(
    sampled: Services, database_url: str, coop: Coop
) -> None:
    """Memberships behind the head, then a read model's table gone: nothing is replayed,
    and the chain's own pass names the altered event."""
    await drop_guards(sampled.engine)
    async with sampled.engine.begin() as connection:
        await connection.execute(
            text("""UPDATE events SET data = replace(data, '"n1"', '"x"') WHERE position = 7""")
        )
        await connection.execute(
            update(checkpoints).where(checkpoints.c.name == "memberships").values(position=3)
        )
    ran = await coop(database_url, "verify")
    assert ran.code == 1
    assert "coop: verification failed at position 7: chain" in ran.out
    assert "projections: skipped: not replayed: the chain is broken" in ran.out
    assert "verify replay" not in ran.err  # no copy: the chain's own pass named it
    # A read model that cannot be read (its table dropped): the chain is still named.
    async with sampled.engine.begin() as connection:
        await connection.execute(text("DROP TABLE roles"))
    ran = await coop(database_url, "verify")
    assert ran.code == 1
    assert "coop: verification failed at position 7: chain" in ran.out, ran.out + ran.err


async def test_an_edited_projection_and_a_disabled_guard_are_named(
    sampled: Services, database_url: str, coop: Coop
) -> None:
    if sampled.engine.dialect.name == "postgresql":
        statements = ["ALTER TABLE idempotency_keys DISABLE TRIGGER idempotency_keys_append_only"]
        guard = "idempotency_keys_append_only"
    else:
        statements = [
            "DROP TRIGGER idempotency_keys_no_update",
            "CREATE TRIGGER idempotency_keys_no_update BEFORE UPDATE ON idempotency_keys"
            " BEGIN SELECT 1; END",
        ]
        guard = "idempotency_keys_no_update"
    statements.append("""UPDATE memberships SET notes = '["forged"]' WHERE member = 'city-2'""")
    async with sampled.engine.begin() as connection:
        for statement in statements:
            await connection.execute(text(statement))
    ran = await coop(database_url, "verify")
    assert ran.code == 1
    assert "chain: ok" in ran.out
    assert f"guards: FAILED: trigger {guard} on idempotency_keys no longer refuses edits" in ran.out
    assert "projections: FAILED: memberships differs from a replay of the log" in ran.out
    assert "coop: verification failed: guards" in ran.out


async def test_a_forged_subtree_is_named_against_the_root_the_copy_grew(
    sampled: Services, database_url: str, coop: Coop
) -> None:
    """The tree is compared at the head the copy read up to: its root grown from the log's
    own hashes as they were read, against the one the kept subtrees give."""
    await drop_guards(sampled.engine)
    async with sampled.engine.begin() as connection:
        position, kept = (
            await connection.execute(
                select(events.c.position, events.c.subtrees)
                .where(events.c.subtrees.is_not(None))
                .order_by(events.c.position.desc())
                .limit(1)
            )
        ).one()
        await connection.execute(
            update(events).where(events.c.position == position).values(subtrees=bytes(len(kept)))
        )
    ran = await coop(database_url, "verify")
    assert ran.code == 1
    assert f"chain: ok: {HEAD} events verified" in ran.out
    assert f"projections: ok: 7 projections replayed to position {HEAD}" in ran.out
    assert "tree: FAILED: the Merkle tree's nodes give the root" in ran.out
    assert f"for {HEAD} events, but the log's hashes give" in ran.out


async def test_a_forged_subtree_off_the_roots_path_is_named_by_its_position(
    services: Services, database_url: str, coop: Coop
) -> None:
    """Over 32 events the root is made from the subtree of the first 32 (kept by event 32):
    the one of the first 16, which event 16 keeps for proofs of earlier positions, is not
    on its path, and is compared with the one the copy grew all the same."""
    await record_sample(services.store, cities=14)
    head = (await services.store.head()).position
    assert 32 < head < 64
    await drop_guards(services.engine)
    async with services.engine.begin() as connection:
        kept = await connection.scalar(select(events.c.subtrees).where(events.c.position == 16))
        await connection.execute(
            update(events).where(events.c.position == 16).values(subtrees=bytes(len(kept)))
        )
    ran = await coop(database_url, "verify")
    assert ran.code == 1
    assert f"chain: ok: {head} events verified" in ran.out
    assert (
        "tree: FAILED: position 16 keeps Merkle subtrees other than those the log's hashes give"
    ) in ran.out


async def test_an_event_the_catalogue_refuses_is_named_after_one_pass_over_the_chain(
    sampled_url: str, coop: Coop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A log holding a type this Coop does not know (as one written by a newer Coop would):
    the copy refuses it, the chain's own pass finds the chain whole, and that pass is the
    chain's check (the log is not read a third time)."""
    known = EventTypes.versions

    def without_ended(types: EventTypes) -> dict[str, int]:
        return {name: v for name, v in known(types).items() if name != "MembershipEnded"}

    monkeypatch.setattr(EventTypes, "versions", without_ended)
    ran = await coop(sampled_url, "verify")
    assert ran.code == 1
    assert f"chain: ok: {HEAD} events verified (positions 1-{HEAD})" in ran.out
    assert re.search(
        r"projections: FAILED: the log cannot be replayed: position \d+ has event"
        r" type 'MembershipEnded', unknown to this Coop",
        ran.out,
    ), ran.out
    chained = [line for line in ran.err.splitlines() if line.startswith("verify chain")]
    assert [line.split(", ")[0] for line in chained] == [f"verify chain: {HEAD}/{HEAD} events"]
