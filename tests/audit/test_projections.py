"""`coop projections status` and `coop projections rebuild [NAME]`."""

from __future__ import annotations

import io
import logging
import sys

import pytest
from sqlalchemy import inspect, text

from domain.events import cooperation_events
from events.database import create_engine
from events.store import EventStore
from service.cli.common import ProgressLine
from service.services import Services, build_services
from service.settings import Settings
from tests.audit.conftest import HEAD, Coop, record_audit_sample
from tests.audit.test_transfer import Terminal


async def test_status_lists_each_checkpoint_and_its_lag(sampled_url: str, coop: Coop) -> None:
    ran = await coop(sampled_url, "projections", "status")
    assert ran.code == 0, ran.err
    rows = [line.split() for line in ran.out.splitlines()[1:-1]]
    assert [row[0] for row in rows] == sorted(row[0] for row in rows)
    assert {(row[1], row[2]) for row in rows} == {(str(HEAD), "0")}
    assert len(rows) == 7
    assert ran.out.splitlines()[-1].startswith(f"log head: position {HEAD}, hash ")


async def test_rebuild_shows_a_rate_and_keeps_every_digest(
    sampled: Services, database_url: str, coop: Coop
) -> None:
    before = await sampled.projections.digests()
    one = await coop(database_url, "projections", "rebuild", "memberships")
    assert one.code == 0, one.err
    assert f"rebuild memberships: {HEAD}/{HEAD} events, " in one.err
    assert one.err.rstrip().endswith("events/s")
    every = await coop(database_url, "projections", "rebuild")
    assert every.code == 0
    assert every.err.count("events/s") == 1  # all seven in one pass over the log
    assert f"rebuild all: {HEAD}/{HEAD} events, 100%, took " in every.err
    assert f"up to position {HEAD}" in every.out
    assert await sampled.projections.digests() == before
    unknown = await coop(database_url, "projections", "rebuild", "nope")
    assert unknown.code == 2
    assert "no projection named 'nope'" in unknown.err


async def test_a_dry_run_shows_what_differs_and_switches_nothing(
    sampled: Services, database_url: str, coop: Coop
) -> None:
    before = await sampled.projections.digests()
    same = await coop(database_url, "projections", "rebuild", "--dry-run")
    assert same.code == 0, same.err
    assert "they are the same; dry run" in same.out
    rows = {line.split()[0]: line.split()[1:] for line in same.out.splitlines()[1:11]}
    assert rows["memberships"][0] == rows["memberships"][1] != "0"
    assert {cell for row in rows.values() for cell in row[2:5]} == {"0"}

    # The live table drifts from the log (a hand edit): the rebuild from the log differs.
    async with sampled.engine.begin() as connection:
        await connection.execute(
            text("UPDATE memberships SET notes = '[\"edited\"]' WHERE key = 'city-2@c40#1'")
        )
    drifted = await sampled.projections.digests()
    dry = await coop(database_url, "projections", "rebuild", "memberships", "--dry-run")
    assert dry.code == 1, dry.err
    assert dry.out.splitlines()[0].split()[5:] == ["changed", "only", "live", "only", "rebuilt"]
    assert dry.out.splitlines()[1].split() == ["memberships", "7", "7", "1", "0", "0"]
    shown = dry.out.splitlines()[2:5]
    assert shown[0] == "memberships key city-2@c40#1:"
    assert shown[1].startswith("  live:")
    assert '"notes": "[\\"edited\\"]"' in shown[1]
    assert shown[2].startswith("  rebuilt:")
    assert '"notes": "[\\"n2\\"]"' in shown[2]
    assert "dry run, the live tables are untouched" in dry.out
    assert await sampled.projections.digests() == drifted
    assert await _tables_named("rebuild", sampled) == []

    # A row gone from the live table too: its key is on the rebuilt side only.
    async with sampled.engine.begin() as connection:
        gone = await connection.scalar(text("SELECT max(key) FROM memberships"))
        deleted = await connection.execute(
            text("DELETE FROM memberships WHERE key = :k"), {"k": gone}
        )
    left = str(7 - deleted.rowcount)
    switched = await coop(database_url, "projections", "rebuild", "memberships", "--diff")
    assert switched.code == 0, switched.err
    assert switched.out.splitlines()[1].split() == [
        *("memberships", left, "7", "1", "0", str(deleted.rowcount))
    ]
    assert f"rebuilt memberships up to position {HEAD}, compared with the live tables" in (
        switched.out
    )
    assert "(they differ)" in switched.out
    assert await sampled.projections.digests() == before


async def _tables_named(part: str, services: Services) -> list[str]:
    async with services.engine.connect() as connection:
        names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    return [name for name in names if part in name]


def test_the_progress_line_shows_a_bar_a_share_and_the_time_left(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for stream, live in ((io.StringIO(), False), (Terminal(), True)):
        monkeypatch.setattr(sys, "stderr", stream)
        line = ProgressLine("rebuild all")
        line.done, line.total = 250, 1000
        text = line.text(elapsed=10.0)  # 25 events/s: 750 left take 30 s
        plain = "rebuild all: 250/1,000 events, 25%, ETA 0:30, 25 events/s"
        if live:
            bar = "[" + "#" * 6 + "." * 18 + "] "
            assert text == "\r" + plain.replace("25%", bar + "25%") + "\x1b[K"
        else:
            assert text == plain
        line.done = 1000
        assert line.text(elapsed=3725.0).endswith(
            "100%, took 1:02:05, 0 events/s" + "\x1b[K" * live
        )


def test_off_a_terminal_a_finished_count_is_said_once_at_the_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A count complete before the work is (a rebuild's switch after its fold): one line at
    the end, with the whole time, not one at the count and another at the end."""
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    line = ProgressLine("rebuild all")
    line.interval = 0.0
    line(500, 1000)
    line(1000, 1000)
    line(1000, 1000)
    line.finish()
    lines = stream.getvalue().splitlines()
    assert [text.split(", ")[1] for text in lines] == ["50%", "100%"]


async def test_a_service_logs_how_far_its_projections_have_caught_up(
    empty_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A log written with no projection folding it (as by a copy of the database's events
    table): the service's start catches every projection up, and says so in its log."""
    engine = create_engine(empty_url)
    try:
        await record_audit_sample(EventStore(engine, cooperation_events))
    finally:
        await engine.dispose()
    services = build_services(Settings(database_url=empty_url))
    try:
        with caplog.at_level(logging.INFO, logger="coop.projections"):
            await services.start()
        assert {status.lag for status in await services.projections.status()} == {0}
    finally:
        await services.close()
    said = [record.getMessage() for record in caplog.records if record.name == "coop.projections"]
    assert len(said) == 1, said
    assert said[0].startswith(f"catching up the projections: {HEAD}/{HEAD} events, 100%, took ")
