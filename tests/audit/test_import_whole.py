"""`coop import` into an empty database: one pass, one transaction, the events table's
indexes made after its rows; whatever goes wrong, nothing is imported and the schema is as
the migrations made it."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from sqlalchemy import func, select, text

from domain.events import PartnerRegistered, PartnerUpdated, cooperation_events
from events.chain import recompute_hash
from events.database import create_engine
from events.kept import kept_subtrees
from events.merkle import Frontier
from events.model import RecordedEvent
from events.tables import events, idempotency_keys
from service.operations.checks import Chunk
from service.operations.export_lines import Trailer, export_line, parse_line, trailer_line
from service.operations.import_check import checking, chunks_of
from service.operations.transfer import import_file
from service.services import build_services
from service.settings import Settings
from tests.audit.conftest import HEAD, Coop, head_and_digests
from tests.audit.test_transfer import export, root_hex

Change = Callable[[RecordedEvent], RecordedEvent]


def keyed(event: RecordedEvent) -> RecordedEvent:
    """Each event its own append with an idempotency key, so each carries one."""
    metadata = {**event.metadata, "idempotency_key": f"key-{event.position}"}
    return msgspec.structs.replace(event, metadata=metadata)


def recorded_back(at: int) -> Callable[[int, RecordedEvent], RecordedEvent]:
    """A change for `rechained`: position `at` recorded 20 years before it was, so before
    the position before it."""

    def change(position: int, event: RecordedEvent) -> RecordedEvent:
        if position != at:
            return event
        return msgspec.structs.replace(event, recorded_at=event.recorded_at - YEARS)

    return change


YEARS = timedelta(days=7305)


def rechained(path: Path, out: Path, change: Callable[[int, RecordedEvent], RecordedEvent]) -> Path:
    """The export at `path` with each event changed by `change` (given its position) and
    the chain and trailer made again to match: a file every check passes."""
    *lines, _ = path.read_bytes().splitlines(keepends=True)
    written, hashes, prev_hash = [], [], "0" * 64
    for number, line in enumerate(lines, start=1):
        event = msgspec.structs.replace(
            change(number, parse_line(line, number)), prev_hash=prev_hash
        )
        event = msgspec.structs.replace(event, hash=recompute_hash(event))
        written.append(export_line(event))
        hashes.append(prev_hash := event.hash)
    written.append(trailer_line(Trailer(len(hashes), hashes[-1], root_hex(hashes))))
    out.write_text("".join(written))
    return out


async def schema_of(url: str) -> list[tuple[Any, ...]]:
    """The events table's indexes and constraints as the database holds them."""
    if url.startswith("sqlite"):
        query = "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'events'"
    else:
        query = (
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'events' UNION ALL"
            " SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = 'events'::regclass"
        )
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return sorted(tuple(row) for row in await connection.execute(text(query)))
    finally:
        await engine.dispose()


async def counts(url: str) -> tuple[int, int]:
    """Events and idempotency keys held."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            held = await connection.scalar(select(func.count()).select_from(events))
            keys = await connection.scalar(select(func.count()).select_from(idempotency_keys))
            return int(held or 0), int(keys or 0)
    finally:
        await engine.dispose()


async def test_the_schema_is_the_migrations_after_an_import(
    sampled_url: str, empty_url: str, coop: Coop, tmp_path: Path
) -> None:
    migrated = await schema_of(empty_url)
    names = {row[1] if empty_url.startswith("sqlite") else row[0] for row in migrated}
    assert {"ix_events_stream_version", "ix_events_type_position", "ix_events_recorded_at"} <= (
        names
    )
    ran = await coop(empty_url, "import", str(await export(coop, sampled_url, tmp_path)))
    assert ran.code == 0, ran.err
    assert await schema_of(empty_url) == migrated
    assert await head_and_digests(empty_url) == await head_and_digests(sampled_url)


async def stored_rows(url: str) -> list[tuple[Any, ...]]:
    """Every row of the events table as the driver gives it, with no type of SQLAlchemy's
    read in between (on SQLite: each id and time as the text it was written as)."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            found = await connection.exec_driver_sql("SELECT * FROM events ORDER BY position")
            return [tuple(row) for row in found]
    finally:
        await engine.dispose()


async def test_an_import_stores_each_row_as_the_appends_stored_it(
    sampled_url: str, empty_url: str, coop: Coop, tmp_path: Path
) -> None:
    """The checks spell the rows for the engine (SQLite: ids and times as text); what they
    spell is what SQLAlchemy spells for an append, byte for byte."""
    ran = await coop(empty_url, "import", str(await export(coop, sampled_url, tmp_path)))
    assert ran.code == 0, ran.err
    imported, appended = await stored_rows(empty_url), await stored_rows(sampled_url)
    assert len(imported) == HEAD
    assert imported == appended


async def test_a_problem_late_in_the_file_imports_nothing(
    sampled_url: str, empty_url: str, coop: Coop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks of 4 events, each carrying idempotency keys, written before the problem is
    read: the one transaction rolls them back, keys and dropped indexes with them."""
    monkeypatch.setattr("service.operations.transfer.IMPORT_BATCH", 4)
    migrated = await schema_of(empty_url)
    path = rechained(
        await export(coop, sampled_url, tmp_path), tmp_path / "keyed.ndjson", lambda _, e: keyed(e)
    )
    *lines, trailer = path.read_text().splitlines(keepends=True)
    late = HEAD - 2
    altered = lines[late - 1].replace('"key-', '"kez-')
    wrong_root = trailer.replace(json.loads(trailer)["trailer"]["root_hash"], "ab" * 32)
    cases = {
        "altered": (
            [*lines[: late - 1], altered, *lines[late:], trailer],
            f"keyed.ndjson, line {late}: position {late} was altered",
        ),
        "trailer": ([*lines, wrong_root], f"is not the Merkle root of positions 1-{HEAD}"),
    }
    for name, (kept, expected) in cases.items():
        path.write_text("".join(kept))
        ran = await coop(empty_url, "import", str(path))
        assert (ran.code, expected in ran.err) == (1, True), (name, ran.err)
        assert "nothing was imported" in ran.err
        assert "fold:" not in ran.err  # no fold shown done after a refusal
        assert await counts(empty_url) == (0, 0), name
        assert await schema_of(empty_url) == migrated, name
    path.write_text("".join([*lines, trailer]))
    assert (await coop(empty_url, "import", str(path))).code == 0
    assert await counts(empty_url) == (HEAD, HEAD)


async def test_an_idempotency_key_that_is_not_text_imports_nothing(
    sampled_url: str, empty_url: str, coop: Coop, tmp_path: Path
) -> None:
    """A file whose chain holds but whose event carries a number as its idempotency key (no
    append writes one): refused at its line, before anything is written."""
    late = HEAD - 1

    def numbered(position: int, event: RecordedEvent) -> RecordedEvent:
        if position != late:
            return event
        return msgspec.structs.replace(event, metadata={**event.metadata, "idempotency_key": 42})

    path = rechained(await export(coop, sampled_url, tmp_path), tmp_path / "n.ndjson", numbered)
    ran = await coop(empty_url, "import", str(path))
    assert ran.code == 1, ran.err
    assert f"n.ndjson, line {late}: position {late}: its idempotency_key 42 is not a text" in (
        ran.err
    )
    assert "nothing was imported" in ran.err
    assert await counts(empty_url) == (0, 0)


async def continued_after_10(
    path: Path, sampled_url: str, empty_url: str, coop: Coop, tmp_path: Path
) -> None:
    """The first 10 events of the sample imported into `empty_url`, and `path` (a whole
    file of the same chain) cut to the rest: the file that continues them."""
    first = await export(coop, sampled_url, tmp_path, "--until", "10")
    assert (await coop(empty_url, "import", str(first))).code == 0
    cut_after_10(path)


def cut_after_10(path: Path) -> None:
    *lines, trailer = path.read_text().splitlines(keepends=True)
    stated = json.loads(trailer)
    stated["trailer"]["count"] = HEAD - 10
    path.write_text("".join(lines[10:]) + json.dumps(stated) + "\n")


@pytest.mark.parametrize("into", ["empty", "continued"])
async def test_a_payload_that_is_not_its_event_imports_nothing(
    sampled_url: str, empty_url: str, coop: Coop, tmp_path: Path, into: str
) -> None:
    """A file whose chain and trailer hold but one of whose events has a payload no fold
    could read (its fields gone): refused, naming its position, with nothing written (an
    event no fold can read would leave every read model unbuildable)."""
    late = HEAD - 2

    def emptied(position: int, event: RecordedEvent) -> RecordedEvent:
        return msgspec.structs.replace(event, data={}) if position == late else event

    path = rechained(await export(coop, sampled_url, tmp_path), tmp_path / "e.ndjson", emptied)
    before = 0
    if into == "continued":
        await continued_after_10(path, sampled_url, empty_url, coop, tmp_path)
        before = 10
    ran = await coop(empty_url, "import", str(path))
    assert ran.code == 1, ran.err
    assert f"e.ndjson, line {late - before}: position {late}: " in ran.err, ran.err
    assert "payload is invalid: Object missing required field" in ran.err
    assert "nothing was imported" in ran.err
    assert "Traceback" not in ran.err
    assert (await counts(empty_url))[0] == before


@pytest.mark.parametrize("into", ["empty", "continued"])
async def test_a_record_time_that_goes_back_imports_nothing(
    sampled_url: str, empty_url: str, coop: Coop, tmp_path: Path, into: str
) -> None:
    """A file whose chain and trailer hold but whose position 11 was recorded before
    position 10 (what was known at a time is read by record time, which the store never
    lets go back): refused, naming it, with nothing written; continuing a log whose head is
    position 10 too."""
    path = rechained(
        await export(coop, sampled_url, tmp_path), tmp_path / "e.ndjson", recorded_back(11)
    )
    line = 11
    if into == "continued":
        await continued_after_10(path, sampled_url, empty_url, coop, tmp_path)
        line = 1
    before = await counts(empty_url)
    ran = await coop(empty_url, "import", str(path))
    assert ran.code == 1, ran.err
    assert f"e.ndjson, line {line}: position 11 was recorded at " in ran.err, ran.err
    assert "before position 10 (" in ran.err
    assert "record time never goes back along the log; nothing was imported" in ran.err
    assert await counts(empty_url) == before


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (
            {"data": {"kind": "region"}},
            "Invalid enum value 'region' - at `$.kind` (one of city, network,",
        ),
        ({"data": {"founded": "1990"}}, "Object contains unknown field `founded`"),
        (
            {"stream_id": "partner:somewhere"},
            "is recorded in stream 'partner:somewhere', but its payload's stream is 'partner:",
        ),
        ({"metadata": {"source": "oops"}}, "its metadata is invalid: Expected `object | null`"),
        ({"metadata": {"reason": {"a": 1}}}, "its metadata is invalid: Expected `str | null`"),
    ],
)
async def test_a_payload_outside_its_type_imports_nothing(
    sampled_url: str,
    empty_url: str,
    coop: Coop,
    tmp_path: Path,
    change: dict[str, Any],
    said: str,
) -> None:
    """A partner of a kind outside the vocabulary (which the API could not answer with), a
    field its event does not have (which no Coop of this version writes), a partner
    recorded in another partner's stream (where a registration of the same key would then
    pass the rules, and the record hold two), or metadata whose source or reason is not as
    Coop writes it (which the history, the API and the browser read): refused at its line,
    with nothing written."""
    found: list[int] = []

    def changed(position: int, event: RecordedEvent) -> RecordedEvent:
        if found or event.type != "PartnerRegistered":
            return event
        found.append(position)
        data = {**event.data, **change.get("data", {})}
        metadata = {**event.metadata, **change.get("metadata", {})}
        stream = change.get("stream_id", event.stream_id)
        return msgspec.structs.replace(event, data=data, metadata=metadata, stream_id=stream)

    path = rechained(await export(coop, sampled_url, tmp_path), tmp_path / "e.ndjson", changed)
    ran = await coop(empty_url, "import", str(path))
    assert ran.code == 1, ran.err
    assert f"e.ndjson, line {found[0]}: position {found[0]}: " in ran.err
    assert said in ran.err, ran.err
    assert "nothing was imported" in ran.err
    assert await counts(empty_url) == (0, 0)


@pytest.mark.parametrize("shared", ["event_id", "stream_version"])
async def test_a_duplicate_the_indexes_refuse_imports_nothing(
    shared: str,
    sampled_url: str,
    empty_url: str,
    coop: Coop,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A file whose chain holds (every hash recomputed) but whose last event repeats an
    earlier one's event_id, or its stream and version: the unique indexes, made after the
    rows, refuse it."""
    monkeypatch.setattr("service.operations.transfer.IMPORT_BATCH", 4)
    migrated = await schema_of(empty_url)
    source = await export(coop, sampled_url, tmp_path)
    original = parse_line(source.read_bytes().splitlines()[0], 1)

    def repeat(position: int, event: RecordedEvent) -> RecordedEvent:
        if position != HEAD:
            return event
        if shared == "event_id":
            return msgspec.structs.replace(event, event_id=original.event_id)
        # The first event again but for its id: its payload names the stream it repeats.
        return msgspec.structs.replace(
            event,
            stream_id=original.stream_id,
            stream_version=original.stream_version,
            type=original.type,
            schema_version=original.schema_version,
            data=original.data,
        )

    path = rechained(source, tmp_path / "duplicate.ndjson", repeat)
    ran = await coop(empty_url, "import", str(path))
    assert ran.code == 1, ran.err
    assert "duplicate.ndjson" in ran.err
    assert "the database refused" in ran.err
    assert "nothing was imported" in ran.err
    assert "Traceback" not in ran.err
    assert await counts(empty_url) == (0, 0)
    assert await schema_of(empty_url) == migrated


async def test_an_import_counts_its_events_as_appended(
    sampled_url: str, empty_url: str, coop: Coop, tmp_path: Path
) -> None:
    """An import into an empty log is announced as one append without its events (too
    many to hold): the appended-events counter still counts every one."""
    path = await export(coop, sampled_url, tmp_path)
    services = build_services(Settings(database_url=empty_url))
    try:
        done = await import_file(services, path, "log")
        counted = services.metrics.registry.get_sample_value("coop_appended_events_total")
    finally:
        await services.close()
    assert done.count > 0
    assert counted == done.count


# After a first chunk of real rows, half a frame and an exit with a message (as a process
# that ran out of memory would).
DIES = """
import json, sys
from pathlib import Path
import msgspec
from service.operations.checks import write_frame
from service.operations.import_check import chunks_of
path, label, versions, _, worker, workers, engine = sys.argv[1:]
first = next(
    chunks_of(Path(path), label, json.loads(versions), 4, int(worker), int(workers), engine)
)
write_frame(sys.stdout.buffer, msgspec.msgpack.encode(first))
sys.stdout.buffer.write(b"\\0\\0")
sys.exit("out of memory")
"""
STOPS = {
    "dies": (DIES, "stopped (out of memory)"),
    # Killed with nothing said, as the kernel kills a process when memory runs out.
    "is killed": (
        "import os, signal; os.kill(os.getpid(), signal.SIGKILL)",
        "stopped (killed by SIGKILL)",
    ),
    # A whole frame that is no message.
    "garbles": (
        "import sys; sys.stdout.buffer.write(bytes(7) + b'\\2no'); sys.exit(3)",
        "sent what is not a chunk of rows (",
    ),
}


@pytest.mark.parametrize("stop", sorted(STOPS))
async def test_a_check_that_stops_imports_nothing(
    stop: str,
    sampled_url: str,
    empty_url: str,
    coop: Coop,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The file is checked by a process of its own while this one writes: when that process
    stops without a verdict, the import is refused with what it said, and nothing of what
    was written stays."""
    program, said = STOPS[stop]
    path = await export(coop, sampled_url, tmp_path)
    monkeypatch.setattr("service.operations.import_check.CHECKER", (sys.executable, "-c", program))
    migrated = await schema_of(empty_url)
    ran = await coop(empty_url, "import", str(path))
    assert ran.code == 1, ran.err
    assert f"the check of the file {said}" in ran.err
    assert "nothing was imported" in ran.err
    assert "Traceback" not in ran.err
    assert await counts(empty_url) == (0, 0)
    assert await schema_of(empty_url) == migrated


def one_run(keys: Callable[[int], str | None]) -> Callable[[int, RecordedEvent], RecordedEvent]:
    """Every event into one stream, in order (a partner registered, then renamed again and
    again), with `keys(position)` as its idempotency key (None: none): as far as the log
    shows, an append is a run of one key."""

    def change(position: int, event: RecordedEvent) -> RecordedEvent:
        metadata = {
            name: value for name, value in event.metadata.items() if name != "idempotency_key"
        }
        if (key := keys(position)) is not None:
            metadata["idempotency_key"] = key
        made: PartnerRegistered | PartnerUpdated = (
            PartnerRegistered(key="one", name="one", kind="city")
            if position == 1
            else PartnerUpdated(key="one", name=f"one {position}", kind="city", changed_fields=[])
        )
        return msgspec.structs.replace(
            event,
            stream_id=ONE_STREAM,
            stream_version=position,
            metadata=metadata,
            type=type(made).__name__,
            schema_version=1,
            data=cooperation_events.payload(made),
        )

    return change


ONE_STREAM = "partner:one"


RUNS = {  # the key of each run of positions; chunks of 4 end at 4, 8, 12, 16 and 20
    "none": (lambda _: None, []),
    "one": (lambda _: "all", [("all", 1, HEAD)]),
    "several": (
        lambda at: "a" if at <= 6 else "b" if at <= 13 else "c" if at <= 16 else None,
        [("a", 1, 6), ("b", 7, 13), ("c", 14, 16)],
    ),
}


@pytest.mark.parametrize("runs", sorted(RUNS))
async def test_an_append_cut_by_the_chunks_carries_its_key_whole(
    runs: str,
    sampled_url: str,
    empty_url: str,
    coop: Coop,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The checks hand on chunks of 4 events, whatever appends they cut (one stream's run
    may be the whole log); the import joins the parts of each cut append's idempotency key,
    so the table of keys holds each append's whole run once."""
    keys, expected = RUNS[runs]
    path = rechained(
        await export(coop, sampled_url, tmp_path), tmp_path / "run.ndjson", one_run(keys)
    )
    versions = {
        name: 1 << 30
        for name in {parse_line(line, 1).type for line in path.read_bytes().splitlines()[:-1]}
    }
    sizes = [
        [
            len(chunk.rows)
            for chunk in chunks_of(path, "run.ndjson", versions, 4, worker, 2)
            if isinstance(chunk, Chunk)
        ]
        for worker in (0, 1)
    ]
    assert sizes == [
        [4, 4, 4],
        [4, 4, 2],
    ]  # the chunks of positions 1-4, 9-12, 17-20 and the others
    monkeypatch.setattr("service.operations.transfer.IMPORT_BATCH", 4)
    ran = await coop(empty_url, "import", str(path))
    assert ran.code == 0, ran.err
    assert await counts(empty_url) == (HEAD, len(expected))
    engine = create_engine(empty_url)
    try:
        async with engine.connect() as connection:
            held = await connection.execute(
                select(
                    idempotency_keys.c.key,
                    idempotency_keys.c.stream_id,
                    idempotency_keys.c.first_position,
                    idempotency_keys.c.last_position,
                ).order_by(idempotency_keys.c.first_position)
            )
            assert [tuple(row) for row in held] == [
                (key, ONE_STREAM, first, last) for key, first, last in expected
            ]
    finally:
        await engine.dispose()


async def test_a_file_is_refused_alike_however_the_checks_share_it(
    sampled_url: str, empty_url: str, coop: Coop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two checks share the file by chunks; with chunks of 4 events each problem falls to
    one or the other, or where two chunks meet: the refusal names the same line and the
    same problem as with the whole file in one chunk, and nothing is imported."""
    source = await export(coop, sampled_url, tmp_path)
    *lines, trailer = source.read_text().splitlines(True)

    def back(at: int) -> list[str]:
        return (
            rechained(source, tmp_path / "back.ndjson", recorded_back(at))
            .read_text()
            .splitlines(True)
        )

    cases = {
        "recorded back within a chunk": back(6),
        "recorded back as a chunk's first": back(9),
        "altered in the first check's": [
            *lines[:8],
            lines[8].replace('"city-2"', '"city-9"'),
            *lines[9:],
        ],
        "altered in the second's": [*lines[:5], lines[5].replace('"city', '"town'), *lines[6:]],
        "missing where chunks meet": [*lines[:8], *lines[9:]],
        "missing within a chunk": [*lines[:5], *lines[6:]],
        "repeated within a chunk": [*lines[:6], *lines[5:]],
        "repeated where chunks meet": [*lines[:8], *lines[7:]],
        "malformed": [*lines[:6], lines[6][:40] + "\n", *lines[7:]],
        # A chunk's first event out of place, and a later line of that chunk altered.
        "missing, then altered": [
            *lines[:4],
            *lines[5:6],
            lines[6].replace('"city', '"town'),
            *lines[7:],
        ],
        "not following, as a chunk's first": [
            *lines[:8],
            lines[8].replace(json.loads(lines[8])["prev_hash"], json.loads(lines[6])["hash"]),
            *lines[9:],
        ],
        "malformed after the trailer": [*lines, trailer, lines[0][:40] + "\n"],
        "cut": lines[:-3],
        "cut, trailer kept": [*lines[:-1], trailer],
        "after the trailer": [*lines, trailer, lines[0]],
        "event after the trailer": [*lines[:-2], trailer, lines[-2], lines[-1]],
    }
    said = {}
    for batch in (5000, 4):
        monkeypatch.setattr("service.operations.transfer.IMPORT_BATCH", batch)
        for name, kept in cases.items():
            bad = tmp_path / "bad.ndjson"
            bad.write_text("".join(kept))
            ran = await coop(empty_url, "import", str(bad))
            assert ran.code == 1, (name, ran.err)
            refusal = ran.err.splitlines()[-1]
            assert refusal.endswith("; nothing was imported"), (name, ran.err)
            assert said.setdefault(name, refusal) == refusal, (name, batch)
            assert await counts(empty_url) == (0, 0), name
    assert "bad.ndjson, line 9: position 9 is missing" in said["missing where chunks meet"]
    assert "bad.ndjson, line 5: position 5 is missing" in said["missing, then altered"]
    assert "line 9: position 9 does not follow" in said["not following, as a chunk's first"]
    assert f"line {HEAD + 2}: not valid JSON" in said["malformed after the trailer"]
    assert "bad.ndjson, line 6: position 6 is missing" in said["missing within a chunk"]
    again = "comes again (or out of order) after position {0}: position {1} was expected next"
    assert f"line 7: position 6 {again.format(6, 7)}" in said["repeated within a chunk"]
    assert f"line 9: position 8 {again.format(8, 9)}" in said["repeated where chunks meet"]
    for name, at in (("within a chunk", 6), ("as a chunk's first", 9)):
        refusal = said[f"recorded back {name}"]
        assert f"bad.ndjson, line {at}: position {at} was recorded at " in refusal
        assert f", before position {at - 1} (" in refusal
        assert "): record time never goes back along the log; nothing was imported" in refusal


async def test_the_checks_give_each_event_the_subtrees_an_append_gives(
    sampled_url: str, coop: Coop, tmp_path: Path
) -> None:
    """However the checks cut a file of 300 events into chunks, each row holds the Merkle
    subtrees an append of the same events would have it hold (those larger than a chunk
    added as the chunks are read in order)."""
    *lines, _ = (await export(coop, sampled_url, tmp_path)).read_bytes().splitlines(True)
    repeated = tmp_path / "repeated.ndjson"
    repeated.write_bytes(b"".join(lines[n % len(lines)] for n in range(300)) + b"\n")

    first = parse_line(lines[0], 1).recorded_at

    def renumbered(position: int, event: RecordedEvent) -> RecordedEvent:
        moment = first + timedelta(seconds=position)  # as the log's own, never going back
        return msgspec.structs.replace(
            event, position=position, event_id=uuid.UUID(int=position), recorded_at=moment
        )

    path = rechained(repeated, tmp_path / "many.ndjson", renumbered)
    versions = {name: 1 << 30 for name in {parse_line(line, 1).type for line in lines}}
    for size in (4, 16, 100, 5000):
        async with checking(path, "many", versions, size) as chunks:
            rows = [row async for chunk in chunks for row in chunk.rows]
        assert [row.position for row in rows] == list(range(1, 301))
        expected = kept_subtrees(Frontier(), [row.hash for row in rows])
        assert [row.subtrees for row in rows] == expected, size
        assert sum(1 for held in expected if held) == 300 // 16  # 16, 32, ... 288


# The first check finds a problem after a second; the second has written far more than
# is read from it meanwhile (20 MiB without a frame) and waits for its output to be read.
AHEAD = """
import sys, time
import msgspec
from service.operations.checks import Problem, write_frame
if sys.argv[5] == "0":
    time.sleep(1)  # the other is read meanwhile, as far as the reader's buffer takes
    write_frame(sys.stdout.buffer, msgspec.msgpack.encode(Problem("log: found")))
else:
    sys.stdout.buffer.write(bytes(20 << 20))
sys.stdout.buffer.flush()
"""


async def test_a_refusal_stops_a_check_that_is_ahead(
    sampled_url: str,
    empty_url: str,
    coop: Coop,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A check that has written more than the import has read from it is stopped when the
    import is refused: its output is read to its end, so the import is not left waiting
    for it."""
    path = await export(coop, sampled_url, tmp_path)
    monkeypatch.setattr("service.operations.import_check.CHECKER", (sys.executable, "-c", AHEAD))
    ran = await asyncio.wait_for(coop(empty_url, "import", str(path)), 60)
    assert ran.code == 1, ran.err
    assert ran.err.splitlines()[-1] == "coop: log: found"
    assert await counts(empty_url) == (0, 0)
