"""`coop export` and `coop import`: NDJSON with every field, checked line by line on the way in."""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from events.merkle import root_of
from events.model import RecordedEvent
from events.tree import leaf_of, load_frontier
from service.cli.common import ProgressLine
from service.operations.database import Refused
from service.operations.export_lines import (
    ExportedEvent,
    export_line,
    parse_line,
    stated_count,
)
from service.operations.transfer import _write_batches, check_file, import_file, write_export
from service.services import build_services
from service.settings import Settings
from tests.audit.conftest import HEAD, Coop, head_and_digests

FIELDS = [
    "position",
    "stream_id",
    "stream_version",
    "event_id",
    "type",
    "schema_version",
    "data",
    "metadata",
    "recorded_at",
    "prev_hash",
    "hash",
]


async def export(coop: Coop, url: str, tmp_path: Path, *args: str) -> Path:
    ran = await coop(url, "export", *args)
    assert ran.code == 0, ran.err
    assert ran.err == ""  # progress is shown only on a terminal
    path = tmp_path / f"log{'-'.join(args)}.ndjson"
    path.write_text(ran.out)
    return path


async def test_an_export_holds_every_field_of_every_event(
    sampled_url: str, coop: Coop, tmp_path: Path
) -> None:
    *lines, trailer = (await export(coop, sampled_url, tmp_path)).read_text().splitlines()
    events = [json.loads(line) for line in lines]
    assert [event["position"] for event in events] == list(range(1, HEAD + 1))
    assert all(list(event) == FIELDS for event in events)
    last = events[-1]
    assert last["metadata"]["source"] == {"document": "doc", "section": "A"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", last["recorded_at"])
    hashes = [event["hash"] for event in events]
    assert json.loads(trailer) == {
        "trailer": {"count": HEAD, "head_hash": hashes[-1], "root_hash": root_hex(hashes)}
    }
    part = (await export(coop, sampled_url, tmp_path, "--after", "5", "--until", "8")).read_text()
    *lines, trailer = part.splitlines()
    assert [json.loads(line)["position"] for line in lines] == [6, 7, 8]
    assert json.loads(trailer)["trailer"] == {
        "count": 3,
        "head_hash": hashes[7],
        "root_hash": root_hex(hashes[:8]),
    }
    at_head = (await coop(sampled_url, "export", "--after", str(HEAD))).out.splitlines()
    assert json.loads(at_head[0])["trailer"]["count"] == 0  # nothing after the head: a trailer
    for beyond in (["--after", str(HEAD + 1)], ["--until", str(HEAD + 1)]):
        past = await coop(sampled_url, "export", *beyond)
        assert (past.code, past.out) == (2, ""), past.err
        assert f"the log ends at position {HEAD}; it has no {HEAD + 1}" in past.err


def root_hex(hashes: list[str]) -> str:
    return root_of(leaf_of(value) for value in hashes).hex()


async def test_a_cut_export_or_a_bad_trailer_is_refused_and_named(
    sampled_url: str, empty_url: str, coop: Coop, tmp_path: Path
) -> None:
    *lines, trailer = (await export(coop, sampled_url, tmp_path)).read_text().splitlines(True)
    wrong_root = trailer.replace(json.loads(trailer)["trailer"]["root_hash"], "ab" * 32)
    cases = {
        "cut on a line": (lines[:-3], "the trailer line is missing: the export was cut short"),
        "cut, trailer kept": (
            [*lines[:-1], trailer],
            f"the trailer counts {HEAD} events but the file holds {HEAD - 1}",
        ),
        "root": ([*lines, wrong_root], f"is not the Merkle root of positions 1-{HEAD}"),
        "after": ([*lines, trailer, lines[0]], f"line {HEAD + 2}: the trailer must be the last"),
        "no trailer": ([*lines, '{"trailer": {"count": 1}}\n'], f"line {HEAD + 1}: not a trailer"),
    }
    for name, (kept, expected) in cases.items():
        bad = tmp_path / "bad.ndjson"
        bad.write_text("".join(kept))
        ran = await coop(empty_url, "import", str(bad))
        assert (ran.code, expected in ran.err) == (1, True), (name, ran.err)
        assert "nothing was imported" in ran.err
    assert (await head_and_digests(empty_url))[0].position == 0


async def test_export_then_import_gives_the_same_head_and_digests(
    sampled_url: str, target_url: str, coop: Coop, tmp_path: Path
) -> None:
    """From each engine into each engine (SQLite to SQLite at least)."""
    path = await export(coop, sampled_url, tmp_path)
    ran = await coop(target_url, "import", str(path))
    assert ran.code == 0, ran.err
    assert f"imported {HEAD} events (positions 1-{HEAD})" in ran.out
    assert await head_and_digests(target_url) == await head_and_digests(sampled_url)


async def test_an_imported_log_holds_the_same_merkle_tree(
    sampled_url: str, empty_url: str, coop: Coop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The subtrees each imported event holds (grown by the check pass, written with the
    events) give the roots the first log gives: exported again, the file is the same, its
    trailer's root read from them. In two parts and small batches, so the tree is grown
    from a frontier read from the database and across batches."""
    monkeypatch.setattr("service.operations.transfer.IMPORT_BATCH", 4)
    whole = (await export(coop, sampled_url, tmp_path)).read_text()
    for part in ("--until", "10"), ("--after", "10"):
        ran = await coop(empty_url, "import", str(await export(coop, sampled_url, tmp_path, *part)))
        assert ran.code == 0, ran.err
    assert (await coop(empty_url, "export")).out == whole
    for until in range(1, HEAD + 1):
        part = (await coop(empty_url, "export", "--until", str(until))).out
        assert part.splitlines()[-1] == trailer_of(whole, until)


def trailer_of(whole: str, until: int) -> str:
    """The trailer of the first `until` events of an export."""
    hashes = [json.loads(line)["hash"] for line in whole.splitlines()[:until]]
    return json.dumps(
        {"trailer": {"count": until, "head_hash": hashes[-1], "root_hash": root_hex(hashes)}},
        separators=(",", ":"),
    )


async def test_an_altered_line_is_refused_and_named(
    sampled_url: str, empty_url: str, coop: Coop, tmp_path: Path
) -> None:
    lines = (await export(coop, sampled_url, tmp_path)).read_text().splitlines(keepends=True)
    lines[8] = lines[8].replace('"city-2"', '"city-9"')
    altered = tmp_path / "altered.ndjson"
    altered.write_text("".join(lines))
    ran = await coop(empty_url, "import", str(altered))
    assert ran.code == 1
    assert "altered.ndjson, line 9: position 9 was altered" in ran.err
    assert "nothing was imported" in ran.err
    assert (await head_and_digests(empty_url))[0].position == 0


async def test_a_line_changed_after_the_check_is_not_written(
    sampled_url: str, empty_url: str, coop: Coop, tmp_path: Path
) -> None:
    """A log continued is checked whole, then written in batches that take only the lines
    the check pass checked: hashes are not recomputed there, so a file changed in between
    (even keeping each line's hash field) is refused before the batch holding the change
    is written."""
    first = await export(coop, sampled_url, tmp_path, "--until", "10")
    assert (await coop(empty_url, "import", str(first))).code == 0
    path = await export(coop, sampled_url, tmp_path, "--after", "10")
    services = build_services(Settings(database_url=empty_url))
    try:
        await services.start()
        head = await services.store.head()
        async with services.engine.connect() as connection:
            frontier = await load_frontier(connection, head.position)
        types = services.store.types
        checked = check_file(
            path, "log", head, types.versions(), frontier, payloads=types.payload_problem
        )
        assert checked.count == HEAD - 10
        lines = path.read_text().splitlines(keepends=True)
        changed = [*lines[:8], lines[8].replace('"city-', '"town-'), *lines[9:]]
        path.write_text("".join(changed))
        with pytest.raises(Refused, match="log, line 9: the file changed after it was checked"):
            await _write_batches(services.store, path, "log", checked, lambda *_: None)
        path.write_text("".join(lines[:-3]))  # cut short: two events and the trailer gone
        with pytest.raises(Refused, match=f"now ends after {HEAD - 12} of the {HEAD - 10} events"):
            await _write_batches(services.store, path, "log", checked, lambda *_: None)
    finally:
        await services.close()
    assert (await head_and_digests(empty_url))[0].position == 10


async def test_malformed_lines_are_refused_and_named(
    sampled_url: str, empty_url: str, coop: Coop, tmp_path: Path
) -> None:
    lines = (await export(coop, sampled_url, tmp_path)).read_text().splitlines(keepends=True)
    cases = {
        "cut": (lines[2][:40] + "\n", "line 3: not valid JSON"),
        "unknown field": (lines[2].replace('{"position"', '{"extra":1,"position"'), "line 3"),
        "no offset": (lines[2].replace('+00:00"', '"'), "line 3: not an exported event"),
    }
    for name, (line, expected) in cases.items():
        bad = tmp_path / "bad.ndjson"
        bad.write_text("".join([*lines[:2], line, *lines[3:]]))
        ran = await coop(empty_url, "import", str(bad))
        assert (ran.code, expected in ran.err) == (1, True), (name, ran.err)
    assert (await head_and_digests(empty_url))[0].position == 0


async def test_an_import_continues_a_log_only_from_its_head(
    sampled_url: str, empty_url: str, coop: Coop, tmp_path: Path
) -> None:
    first = await export(coop, sampled_url, tmp_path, "--until", "10")
    rest = await export(coop, sampled_url, tmp_path, "--after", "10")
    early = await coop(empty_url, "import", str(rest))
    assert early.code == 1
    assert "starts at position 11, but the database is empty" in early.err
    assert (await coop(empty_url, "import", str(first))).code == 0
    again = await coop(empty_url, "import", str(first))
    assert again.code == 1
    assert "already holds positions 1-10" in again.err
    assert "--after 10" in again.err
    assert (await coop(empty_url, "import", str(rest))).code == 0
    assert await head_and_digests(empty_url) == await head_and_digests(sampled_url)


async def test_import_reads_standard_input(
    sampled_url: str, empty_url: str, coop: Coop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = await export(coop, sampled_url, tmp_path)
    with path.open() as stdin:
        monkeypatch.setattr(sys, "stdin", stdin)
        ran = await coop(empty_url, "import", "-")
    assert ran.code == 0, ran.err
    assert "from standard input" in ran.out
    assert await head_and_digests(empty_url) == await head_and_digests(sampled_url)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


async def test_export_shows_progress_on_a_terminal_only(
    sampled_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = build_services(Settings(database_url=sampled_url))
    try:
        for stderr in (io.StringIO(), Terminal()):
            monkeypatch.setattr(sys, "stderr", stderr)
            out, line = io.StringIO(), ProgressLine("export", terminal_only=True)
            assert await write_export(services.store, out, after=2, progress=line) == HEAD - 2
            line.finish()
            assert out.getvalue().count("\n") == HEAD - 2 + 1  # and the trailer
            if stderr.isatty():
                assert stderr.getvalue().startswith("\rexport: 20/20 events, ")
                assert stderr.getvalue().endswith(" events/s\x1b[K\n")
            else:
                assert stderr.getvalue() == ""
    finally:
        await services.close()


async def test_idempotency_keys_travel_with_the_log(
    coop: Coop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A retry after a move to another database replays: `coop seed` writes nothing again.

    Small import batches, so appends of several events meet a batch boundary."""
    monkeypatch.setattr("service.operations.transfer.IMPORT_BATCH", 4)
    empty_url, target_url = (f"sqlite:///{tmp_path}/{name}.db" for name in ("from", "to"))
    for url in (empty_url, target_url):
        assert (await coop(url, "db", "upgrade")).code == 0
    seeded = await coop(empty_url, "seed")
    assert seeded.code == 0, seeded.err
    path = await export(coop, empty_url, tmp_path)
    assert (await coop(target_url, "import", str(path))).code == 0
    again = await coop(target_url, "seed")
    assert again.code == 0, again.err
    assert "0 seed commands written, 32 already present" in again.out
    assert await head_and_digests(target_url) == await head_and_digests(empty_url)


async def test_an_import_into_an_empty_database_writes_the_log_then_folds_it_once(
    sampled_url: str, empty_url: str, coop: Coop, tmp_path: Path
) -> None:
    """The whole log first, then every read model rebuilt in one pass (reported as it
    goes); a log continued is folded batch by batch as it is written."""
    path = await export(coop, sampled_url, tmp_path, "--until", "15")
    rest = await export(coop, sampled_url, tmp_path, "--after", "15")
    services = build_services(Settings(database_url=empty_url))
    try:
        await services.start()
        written: list[tuple[int, int]] = []
        folded: list[tuple[int, int]] = []
        done = await import_file(
            services,
            path,
            "log",
            lambda *seen: written.append(seen),
            lambda *seen: folded.append(seen),
        )
        assert done.count == 15
        assert written[-1] == (15, 15)
        assert folded[-1] == (15, 15)
        assert {status.lag for status in await services.projections.status()} == {0}
        folded.clear()
        await import_file(services, rest, "rest", folding=lambda *seen: folded.append(seen))
        assert folded == []
        assert {status.position for status in await services.projections.status()} == {HEAD}
    finally:
        await services.close()
    assert await head_and_digests(empty_url) == await head_and_digests(sampled_url)


def test_a_line_parses_into_the_event_it_was_exported_from() -> None:
    """A line's fields are read in order into an event (no names looked up): the export's
    fields are the event's, in the same order."""
    assert ExportedEvent.__struct_fields__ == RecordedEvent.__struct_fields__
    event = parse_line(_SAMPLE_LINE, 1)
    assert export_line(event).encode() == _SAMPLE_LINE


_SAMPLE_LINE = (
    b'{"position":7,"stream_id":"partner:tokyo","stream_version":2,'
    b'"event_id":"2f1c4b8e-5d0a-4c3e-9b7a-1e2d3c4b5a69","type":"PartnerUpdated",'
    b'"schema_version":1,"data":{"key":"tokyo"},"metadata":{"actor":"editor"},'
    b'"recorded_at":"2026-12-01T08:00:00.000000+00:00","prev_hash":"' + b"a" * 64 + b'",'
    b'"hash":"' + b"b" * 64 + b'"}\n'
)


async def test_an_import_counts_to_the_count_its_trailer_states(
    sampled_url: str, empty_url: str, coop: Coop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Progress shows the trailer's count as the total from the first chunk on (read from
    the file's end), into an empty log and continuing one, whose check pass reports too."""
    monkeypatch.setattr("service.operations.transfer.IMPORT_BATCH", 4)
    reports: dict[str, list[tuple[int, int]]] = {"check": [], "import": []}

    def into(name: str) -> Callable[[int, int], None]:
        return lambda done, total: reports[name].append((done, total))

    first = await export(coop, sampled_url, tmp_path, "--until", "10")
    rest = await export(coop, sampled_url, tmp_path, "--after", "10")
    services = build_services(Settings(database_url=empty_url))
    try:
        for path, count in (first, 10), (rest, HEAD - 10):
            reports = {"check": [], "import": []}
            await import_file(services, path, path.name, into("import"), checking=into("check"))
            assert {total for _, total in reports["import"]} == {count}, path.name
            assert [done for done, _ in reports["import"]][-1] == count
            assert reports["check"] == ([] if count == 10 else [(count, count)])
    finally:
        await services.close()


async def test_a_trailer_states_a_count_only_as_the_last_line(
    sampled_url: str, coop: Coop, tmp_path: Path
) -> None:
    path = await export(coop, sampled_url, tmp_path)
    assert stated_count(path) == HEAD
    *lines, trailer = path.read_text().splitlines(keepends=True)
    for name, text in {
        "cut": "".join(lines),
        "empty": "",
        "not json": "".join(lines) + trailer[:-20] + "\n",
        "blank lines after": "".join(lines) + trailer + "\n\n",
    }.items():
        path.write_text(text)
        assert stated_count(path) == (HEAD if name == "blank lines after" else None), name


async def test_an_import_shows_plain_progress_lines_off_a_terminal(
    sampled_url: str, empty_url: str, coop: Coop, tmp_path: Path
) -> None:
    """Not on a terminal, each phase ends with one plain line of what it did (and shows one
    every few seconds while it runs): into an empty log the copy and the fold; continuing
    one, the check pass, then the copy, folded as it goes."""
    first = await export(coop, sampled_url, tmp_path, "--until", "10")
    rest = await export(coop, sampled_url, tmp_path, "--after", "10")
    phases = {first: ["import: 10/10", "fold: 10/10"], rest: ["check: 12/12", "import: 12/12"]}
    for path, expected in phases.items():
        ran = await coop(empty_url, "import", str(path))
        assert ran.code == 0, ran.err
        lines = ran.err.splitlines()
        assert [line.split(" events, ")[0] for line in lines] == expected, ran.err
        assert all(
            re.fullmatch(r".* events, 100%, took \d+:\d\d, [\d,]+ events/s", line) for line in lines
        )


async def test_an_export_spells_each_event_as_export_line_does(sampled_url: str) -> None:
    """An export reads rows a page at a time (the id and time as the database keeps them):
    each line is `export_line`'s for the event the store reads at that position."""
    services = build_services(Settings(database_url=sampled_url))
    try:
        out = io.StringIO()
        assert await write_export(services.store, out) == HEAD
        expected = [export_line(event) for event in await services.store.read_all(limit=HEAD)]
        assert out.getvalue().splitlines(keepends=True)[:-1] == expected
    finally:
        await services.close()
