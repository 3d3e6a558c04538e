"""Checkpoints, catch-up, rebuild and digests."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from events.database import create_engine
from projections.framework import checkpoints
from service.migrate import upgrade
from service.services import Services, build_services
from service.settings import Settings
from tests.conftest import POSTGRES_URL, create_postgres_database, drop_postgres_database
from tests.projections.sample import record_sample


async def test_live_projections_follow_every_append(services: Services) -> None:
    await record_sample(services.store)
    head = (await services.store.head()).position
    assert {s.name: s.lag for s in await services.projections.status()} == dict.fromkeys(
        services.projections.projectors, 0
    )
    assert all(s.position == head for s in await services.projections.status())


async def test_rebuild_gives_the_live_digest_and_swaps_tables(services: Services) -> None:
    await record_sample(services.store)
    live = await services.projections.digests()
    seen: list[tuple[int, int]] = []
    for name in services.projections.projectors:
        await services.projections.rebuild(
            name, lambda done, total, _rate: seen.append((done, total)), page=7
        )
    assert await services.projections.digests() == live
    assert seen
    assert seen[-1][0] == seen[-1][1]
    # The rebuilt tables keep taking appends as the live ones did.
    await record_sample(services.store, cities=0)
    again = await services.projections.digests()
    assert again != live


async def test_a_projector_behind_is_caught_up_in_pages(services: Services) -> None:
    await record_sample(services.store)
    live = await services.projections.digest("memberships")
    async with services.engine.begin() as connection:
        await connection.execute(text("DELETE FROM memberships"))
        await connection.execute(
            update(checkpoints).where(checkpoints.c.name == "memberships").values(position=0)
        )
    # While it is behind, appends leave it alone rather than fold out of order.
    await record_sample(services.store, cities=0)
    async with services.engine.connect() as connection:
        behind = await connection.scalar(
            select(checkpoints.c.position).where(checkpoints.c.name == "memberships")
        )
    assert behind == 0
    folded = await services.projections.catch_up(page=5)
    assert folded == (await services.store.head()).position
    # The second sample added no memberships: caught up, the model is as it was.
    assert await services.projections.digest("memberships") == live


async def test_a_digest_spells_every_row_in_key_order_with_its_times_in_full(
    services: Services,
) -> None:
    """The digest's documented spelling, the same on both engines: a line `table NAME`, then
    each row in primary key order as canonical JSON, times to the microsecond with their
    offset, dates as YYYY-MM-DD (a digest kept from before still compares)."""
    await record_sample(services.store)
    tables = services.projections.get("memberships").TABLES
    expected = hashlib.sha256()
    async with services.engine.connect() as connection:
        for table in tables:
            expected.update(f"table {table.name}\n".encode())
            ordered = select(table).order_by(*table.primary_key.columns)
            for row in await connection.execute(ordered):
                values = [
                    value.isoformat(timespec="microseconds")
                    if isinstance(value, datetime)
                    else value.isoformat()
                    if isinstance(value, date)
                    else value
                    for value in row
                ]
                expected.update(
                    json.dumps(
                        values, sort_keys=True, separators=(",", ":"), ensure_ascii=False
                    ).encode()
                )
                expected.update(b"\n")
            assert any(isinstance(value, datetime) for value in row)
            assert any(isinstance(value, date) and not isinstance(value, datetime) for value in row)
    assert await services.projections.digest("memberships") == expected.hexdigest()


async def _fresh_services(tmp_path: Path, engine: str) -> AsyncIterator[Services]:
    url = (
        f"sqlite:///{tmp_path / 'copy.db'}"
        if engine == "sqlite"
        else await create_postgres_database()
    )
    migrating = create_engine(url)
    await upgrade(migrating)
    await migrating.dispose()
    copy = build_services(Settings(database_url=url))
    await copy.start()
    try:
        yield copy
    finally:
        await copy.close()
        if engine == "postgres":
            await drop_postgres_database(url)


async def test_replaying_the_same_log_elsewhere_gives_the_same_digests(
    services: Services, tmp_path: Path
) -> None:
    """The log copied event by event (same times, same hashes) into another database, on the
    other engine when PostgreSQL is available, folds into identical read models."""
    await record_sample(services.store)
    other = "postgres" if POSTGRES_URL and services.engine.dialect.name == "sqlite" else "sqlite"
    async for copy in _fresh_services(tmp_path, other):
        page = await services.store.read_all(limit=10_000)
        await copy.store.import_events(page[:10])
        await copy.store.import_events(page[10:])
        assert (await copy.store.head()) == (await services.store.head())
        assert await copy.projections.digests() == await services.projections.digests()


async def test_a_failing_projector_fails_the_append_and_leaves_nothing(services: Services) -> None:
    """Rows, checkpoint and event commit together or not at all."""
    from domain.events import PartnerRegistered
    from projections.framework import Projector

    class Broken(Projector):
        name = "broken"
        TABLES = ()
        handles = frozenset({PartnerRegistered})

        def touches(self, decoded):  # type: ignore[no-untyped-def]
            return []

        def fold(self, rows, event, decoded):  # type: ignore[no-untyped-def]
            raise RuntimeError("projector bug")

    await record_sample(services.store)
    before = await services.projections.digests()
    head = (await services.store.head()).position
    services.projections.projectors["broken"] = Broken()
    await services.projections.ensure_checkpoints()
    async with services.engine.begin() as connection:
        await connection.execute(update(checkpoints).values(position=head))
    with pytest.raises(RuntimeError, match="projector bug"):
        await services.store.append(
            "partner:x", [PartnerRegistered(key="x", name="X", kind="city")]
        )
    assert (await services.store.head()).position == head
    del services.projections.projectors["broken"]
    assert await services.projections.digests() == before


async def test_a_rebuild_leaves_the_tables_named_as_the_migrations_made_them(
    services: Services,
) -> None:
    """Every read model's indexes, by name and definition, as the migrations made them,
    after rebuilds of all of them at once (folded in the database, several at a time, each
    indexed as soon as it is folded on PostgreSQL) and of one alone."""
    await record_sample(services.store)
    tables = sorted(
        table.name
        for projector in services.projections.projectors.values()
        for table in projector.TABLES
    )
    before = await _indexes(services, tables)
    names = sorted(services.projections.projectors)
    for _ in range(2):  # twice: a second rebuild must not meet names the first left behind
        await services.projections.rebuild_many(names)
    await services.projections.rebuild("memberships")
    after = await _indexes(services, tables)
    assert {table for table, _, _ in before} == set(tables)
    assert after == before
    assert not [name for _, name, _ in after if "rebuild" in name], after


async def _indexes(services: Services, tables: list[str]) -> list[tuple[str, str, str]]:
    """(table, index name, definition) of every index of `tables`, the primary keys' too."""
    async with services.engine.connect() as connection:
        if services.engine.dialect.name == "postgresql":
            query = (
                "SELECT tablename, indexname, indexdef FROM pg_indexes"
                " WHERE tablename = ANY(:tables) ORDER BY tablename, indexname"
            )
        else:
            query = (
                "SELECT tbl_name, name, coalesce(sql, '') FROM sqlite_master"
                " WHERE type = 'index' AND tbl_name IN (SELECT value FROM json_each(:tables))"
                " ORDER BY tbl_name, name"
            )
            tables = json.dumps(tables)  # type: ignore[assignment]
        found = await connection.execute(text(query), {"tables": tables})
        return [(table, name, definition) for table, name, definition in found]


def test_every_event_type_is_folded_by_a_projector() -> None:
    """A new event with no projector step would otherwise pass every read model by."""
    from domain.events import cooperation_events
    from projections.models import built_in_projectors

    folded = set().union(*(p.handled for p in built_in_projectors()))
    assert sorted(set(cooperation_events.names()) - folded) == []


def test_an_event_a_projector_declares_but_does_not_fold_is_named() -> None:
    from domain.events import PartnerRegistered, SourceRegistered
    from projections.models.sources import SourcesProjector

    class Forgetful(SourcesProjector):
        handles = frozenset({SourceRegistered, PartnerRegistered})

    assert Forgetful.handled == {"SourceRegistered", "PartnerRegistered"}
    stray = PartnerRegistered(key="kyoto", name="Kyoto", kind="city")
    with pytest.raises(TypeError, match="sources projector has no fold for PartnerRegistered"):
        Forgetful().fold({}, None, stray)  # type: ignore[arg-type]


@pytest.mark.parametrize("in_database", [False, True])
async def test_a_rebuild_that_fails_leaves_no_fresh_tables_and_the_live_ones_whole(
    services: Services, monkeypatch: pytest.MonkeyPatch, in_database: bool
) -> None:
    """A rebuild stopped before its switch (here a fold that fails, in Python or in the
    database, where the failure is raised as itself, not in a group with the other fold's
    cancellation; Ctrl-C cancels it likewise) drops the fresh tables it made beside the live
    ones, which stay as they were."""
    await record_sample(services.store)
    before = await services.projections.digests()

    def failing(*_: object) -> None:
        raise RuntimeError("fold failed")

    async def failing_in_database(*_: object) -> bool:
        raise RuntimeError("fold failed")

    projector = services.projections.get("programs")
    if in_database:
        monkeypatch.setattr(type(projector), "fold_in_database", failing_in_database)
    else:
        monkeypatch.setattr(type(projector), "fold", failing)
    names = sorted(services.projections.projectors)
    with pytest.raises(RuntimeError, match="fold failed"):
        await services.projections.rebuild_many(names, in_database=in_database)
    async with services.engine.connect() as connection:
        if services.engine.dialect.name == "postgresql":
            query = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        else:
            query = "SELECT name FROM sqlite_master WHERE type = 'table'"
        tables = [name for (name,) in await connection.execute(text(query))]
    assert "memberships" in tables
    assert [name for name in tables if "rebuild" in name] == []
    assert await services.projections.digests() == before
