"""`coop replay`: the record as it stood at a point, in a new SQLite file that answers queries."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import msgspec
import pytest
from sqlalchemy import Table, select, text

from domain.events import PartnerRegistered, PartnerUpdated, cooperation_events
from events.chain import ChainCheck, timestamp_text
from events.database import create_engine
from events.model import RecordedEvent
from events.store import EventStore
from events.tables import events, idempotency_keys
from projections.queries.basis import Basis, Row
from projections.queries.memberships import members_of
from service.operations.checks import Unread
from service.operations.copy_check import copying
from service.operations.export_lines import parse_line
from service.operations.refused import Refused
from service.services import Services, build_services
from service.settings import Settings
from tests.audit.conftest import HEAD, Coop, drop_guards, head_and_digests
from tests.audit.test_import_whole import rechained, recorded_back
from tests.audit.test_transfer import export


def members(rows: dict[str, list[Row]]) -> list[tuple[object, ...]]:
    """What a member list says, leaving out when the record stopped saying it."""
    fields = ("key", "member", "valid_from", "valid_to", "notes", "record_from")
    return sorted(tuple(row[field] for field in fields) for row in rows.get("c40", []))


@asynccontextmanager
async def opened(url: str) -> AsyncIterator[Services]:
    services = build_services(Settings(database_url=url))
    try:
        yield services
    finally:
        await services.close()


async def test_a_replay_answers_as_the_live_record_did_at_that_point(
    sampled_url: str, coop: Coop, tmp_path: Path
) -> None:
    # At 9, city-3 had not joined; at 21, city-1's start was not yet corrected to 2001-04.
    expected = {9: {"city-0", "city-1", "city-2"}, 21: {"city-0", "city-1", "city-2", "city-3"}}
    for position, cities in expected.items():
        into = tmp_path / f"at-{position}.db"
        ran = await coop(sampled_url, "replay", "--until", str(position), "--into", str(into))
        assert ran.code == 0, ran.err
        assert f"replayed positions 1-{position} into {into}" in ran.out
        # Off a terminal, a plain line at the end of each phase: the copy, then the fold.
        phases = [line.split(" events, ")[0] for line in ran.err.splitlines()]
        assert phases == [f"replay: {position}/{position}", f"fold: {position}/{position}"]
        async with opened(sampled_url) as live, live.engine.connect() as connection:
            then = await members_of(connection, ["c40"], Basis(position=position))
            last = (await live.store.read_all(after=position - 1, limit=1))[0]
        async with opened(f"sqlite:///{into}") as copy:
            assert (await copy.store.head()).hash == last.hash
            assert {s.lag for s in await copy.projections.status()} == {0}
            async with copy.engine.connect() as connection:
                replayed = await members_of(connection, ["c40"])
        assert members(replayed) == members(then)
        assert {row[1] for row in members(replayed)} == cities
        assert ("city-1", "2001") in {(row[1], row[2]) for row in members(replayed)}


async def test_a_replay_to_a_time_stops_at_the_last_event_recorded_by_then(
    sampled_url: str, coop: Coop, tmp_path: Path
) -> None:
    async with opened(sampled_url) as live:
        seventh = (await live.store.read_all(after=6, limit=1))[0]
        expected = await live.store.position_at(seventh.recorded_at)
    into = tmp_path / "then.db"
    moment = timestamp_text(seventh.recorded_at)
    ran = await coop(sampled_url, "replay", "--until", moment, "--into", str(into))
    assert ran.code == 0, ran.err
    head, _ = await head_and_digests(f"sqlite:///{into}")
    assert head.position == expected >= 7
    again = await coop(sampled_url, "replay", "--until", "3", "--into", str(into))
    assert again.code == 2
    assert "already exists" in again.err
    beyond = await coop(sampled_url, "replay", "--until", "999", "--into", str(tmp_path / "x.db"))
    assert beyond.code == 2
    assert "the log ends at position 22" in beyond.err
    assert not (tmp_path / "x.db").exists()
    before = timestamp_text(seventh.recorded_at.replace(year=2000))
    for point, said in (("0", "--until 0 is before the first event"), (before, "nothing was")):
        empty = await coop(
            sampled_url, "replay", "--until", point, "--into", str(tmp_path / "x.db")
        )
        assert empty.code == 2, empty.err
        assert said in empty.err
        assert "there is nothing to replay" in empty.err
        assert not (tmp_path / "x.db").exists()


async def held(url: str, table: Table) -> list[tuple[Any, ...]]:
    """Every row of `table` in key order, as the store's types read them (ids as UUIDs,
    times as aware datetimes) on either engine."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            ordered = select(table).order_by(*table.primary_key.columns)
            return [tuple(row) for row in await connection.execute(ordered)]
    finally:
        await engine.dispose()


def in_pairs(position: int, event: RecordedEvent) -> RecordedEvent:
    """Events 2 and 3, 4 and 5, ... each pair a partner's registration and its renaming, in
    the partner's stream, an append of two with one key (the first and the last event alone,
    each with a key of its own; `HEAD` is even)."""
    metadata = {**event.metadata, "idempotency_key": f"key-{position // 2}"}
    if position == 1:
        return msgspec.structs.replace(event, metadata=metadata)
    key = f"pair-{position // 2}"
    renamed = position % 2 == 1
    made: PartnerRegistered | PartnerUpdated = (
        PartnerUpdated(key=key, name=f"{key} renamed", kind="city", changed_fields=["name"])
        if renamed
        else PartnerRegistered(key=key, name=key, kind="city")
    )
    return msgspec.structs.replace(
        event,
        metadata=metadata,
        stream_id=made.stream,
        stream_version=2 if renamed else 1,
        type=type(made).__name__,
        schema_version=1,
        data=cooperation_events.payload(made),
    )


async def test_a_replay_holds_the_log_row_for_row_with_its_tree_and_keys(
    sampled_url: str, empty_url: str, coop: Coop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The copy writes the log as an import into an empty database does (one transaction,
    the indexes after): every column of every event, the Merkle tree's `subtrees` grown
    from the hashes, and the idempotency keys the appends carry, as the source holds them,
    the checks' chunks of 4 events cutting appends of 2 (each part of a key, sent by
    another check, joined again)."""
    monkeypatch.setattr("service.operations.replay.CHUNK", 4)
    path = rechained(await export(coop, sampled_url, tmp_path), tmp_path / "keyed.ndjson", in_pairs)
    assert (await coop(empty_url, "import", str(path))).code == 0
    into = tmp_path / "whole.db"
    ran = await coop(empty_url, "replay", "--until", str(HEAD), "--into", str(into))
    assert ran.code == 0, ran.err
    for table in (events, idempotency_keys):
        source, replayed = await held(empty_url, table), await held(f"sqlite:///{into}", table)
        assert len(source) == (HEAD if table is events else HEAD // 2 + 1)
        assert replayed == source, table.name
    assert await head_and_digests(f"sqlite:///{into}") == await head_and_digests(empty_url)


async def test_a_replay_of_an_altered_log_is_refused_and_leaves_no_file(
    sampled: Services, database_url: str, coop: Coop, tmp_path: Path
) -> None:
    await drop_guards(sampled.engine)
    async with sampled.engine.begin() as connection:
        await connection.execute(
            text("""UPDATE events SET data = replace(data, '"n1"', '"x"') WHERE position = 7""")
        )
    folder = tmp_path / "replays"
    folder.mkdir()
    into = folder / "altered.db"
    ran = await coop(database_url, "replay", "--until", str(HEAD), "--into", str(into))
    assert ran.code == 1
    assert f"the log cannot be replayed to position {HEAD}: position 7 was" in ran.err
    # The copy's checks refused it; the chain's own pass, which named it, got as far as 6.
    assert f"chain: 6/{HEAD} events" in ran.err.splitlines()[-2]
    assert list(folder.iterdir()) == []  # nor anything written beside it


async def test_a_copy_whose_check_stops_is_refused_and_leaves_no_file(
    sampled_url: str, coop: Coop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A check process that ends before its chunks are sent: what it said last is the
    reason given, and nothing is written."""
    stops = "import sys; sys.stderr.write('no memory left\\n'); sys.exit(3)"
    monkeypatch.setattr("service.operations.copy_check.COPIER", (sys.executable, "-c", stops))
    into = tmp_path / "replays" / "stopped.db"
    into.parent.mkdir()
    ran = await coop(sampled_url, "replay", "--until", str(HEAD), "--into", str(into))
    assert ran.code == 1
    assert (
        f"the log cannot be replayed to position {HEAD}: the copy: the check of the log"
        " stopped (no memory left); nothing was copied"
    ) in ran.err, ran.err
    assert list(into.parent.iterdir()) == []


async def test_a_check_that_cannot_reach_the_database_says_so_and_reads_no_further() -> None:
    """A check process that cannot connect says what the verbs say of a database that
    cannot be reached (no password in it), not that the log is refused."""

    async def read(source: str) -> None:
        async with copying(source, {}, HEAD, "sqlite") as chunks:
            async for _ in chunks:
                pass

    with pytest.raises(Unread) as raised:
        await read("postgresql://coop:s3cret@127.0.0.1:1/gone")
    assert raised.value.unavailable
    said = str(raised.value)
    assert said.startswith("the database at postgresql://coop:***@127.0.0.1:1/gone cannot be")
    assert "s3cret" not in said


async def test_chunks_that_do_not_meet_are_named_by_position(
    sampled_url: str, empty_url: str, coop: Coop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the chunks of two checks do not meet (the log changed between their reads:
    here the second check reads another log of the same length), the copy is refused at
    the position where they part, not at a file's line."""
    path = rechained(await export(coop, sampled_url, tmp_path), tmp_path / "other.ndjson", in_pairs)
    assert (await coop(empty_url, "import", str(path))).code == 0
    # The second check reads the other log; the first, the log the copy was asked for.
    swapped = (
        "import os, sys; from service.operations import copy_check as c;"
        f" os.environ[c.SOURCE] = {empty_url!r} if sys.argv[4] == '1' else os.environ[c.SOURCE];"
        " sys.exit(c.main(sys.argv[1:]))"
    )
    monkeypatch.setattr("service.operations.copy_check.COPIER", (sys.executable, "-c", swapped))

    async def read() -> None:
        versions = cooperation_events.versions()
        async with copying(sampled_url, versions, HEAD, "sqlite", events=4) as chunks:
            async for _ in chunks:
                pass

    with pytest.raises(Refused) as raised:
        await read()
    assert str(raised.value) == (
        "the copy: position 5 does not follow the hash of position 4; nothing was copied"
    )


async def test_a_log_holding_a_payload_that_is_not_its_event_is_not_replayed(
    sampled_url: str, empty_url: str, coop: Coop, tmp_path: Path
) -> None:
    """A log whose chain holds but one of whose events has a payload no fold could read
    (written here by the store's bulk path, which takes the caller's word that it checked
    the payloads, as a database altered behind the guards could hold it): the copy refuses
    it at its position and nothing is written."""
    late = HEAD - 2

    def emptied(position: int, event: RecordedEvent) -> RecordedEvent:
        return msgspec.structs.replace(event, data={}) if position == late else event

    path = rechained(await export(coop, sampled_url, tmp_path), tmp_path / "e.ndjson", emptied)
    *lines, _ = path.read_bytes().splitlines()
    engine = create_engine(empty_url)
    try:  # a store with no projections to fold what it writes
        store = EventStore(engine, cooperation_events)
        await store.import_events(
            [parse_line(line, n) for n, line in enumerate(lines, 1)], hashes_checked=True
        )
    finally:
        await engine.dispose()
    into = tmp_path / "replays" / "e.db"
    into.parent.mkdir()
    ran = await coop(empty_url, "replay", "--until", str(HEAD), "--into", str(into))
    assert ran.code == 1, ran.err
    assert f"the log cannot be replayed to position {HEAD}: position {late}: " in ran.err, ran.err
    assert "payload is invalid: Object missing required field" in ran.err
    assert list(into.parent.iterdir()) == []


async def test_a_log_whose_record_time_goes_back_is_named_not_replayed(
    sampled_url: str, empty_url: str, coop: Coop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A log whose chain holds but whose position 11 was recorded before position 10
    (written here by the store's import with that check taken out, as a database altered
    behind the guards, or imported before the check, could hold it): `coop verify` names
    it, a range from position 10 on too, one from 11 does not see it, and the replay's copy
    refuses it with nothing written (a time-travel read at such a log would be wrong)."""
    back = rechained(
        await export(coop, sampled_url, tmp_path), tmp_path / "e.ndjson", recorded_back(11)
    )
    *lines, _ = back.read_bytes().splitlines()
    engine = create_engine(empty_url)
    try:
        with monkeypatch.context() as unchecked:
            unchecked.setattr(ChainCheck, "went_back", lambda *_: None)
            await EventStore(engine, cooperation_events).import_events(
                [parse_line(line, n) for n, line in enumerate(lines, 1)]
            )
    finally:
        await engine.dispose()
    said = "position 11 was recorded at "
    verified = await coop(empty_url, "verify")
    assert verified.code == 1, verified.err
    assert said in verified.out, verified.out
    assert "before position 10 (" in verified.out
    ranged = await coop(empty_url, "verify", "--after", "10", "--until", "12")
    assert ranged.code == 1
    assert said in ranged.out
    later = await coop(empty_url, "verify", "--after", "11", "--until", "12")
    assert later.code == 0, later.out
    into = tmp_path / "replays" / "e.db"
    into.parent.mkdir()
    ran = await coop(empty_url, "replay", "--until", str(HEAD), "--into", str(into))
    assert ran.code == 1, ran.err
    assert said in ran.err, ran.err
    assert list(into.parent.iterdir()) == []
