"""One fold, three ways: live (each append in its transaction), caught up in pages of
random sizes, and rebuilt from scratch in memory in pages of random sizes, on both engines.
Every way gives the same digest of every read model."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

from sqlalchemy import text, update

from projections.framework import checkpoints
from service.services import Services
from tests.conftest import POSTGRES_URL
from tests.projections.history import random_history
from tests.projections.test_framework import _fresh_services


async def record(services: Services, seed: int, steps: int) -> None:
    for stream, events in random_history(seed, steps):
        await services.store.append(stream, events)


async def test_live_paged_and_rebuilt_folds_give_one_digest(
    services: Services, tmp_path: Path
) -> None:
    await record(services, seed=15, steps=400)
    live = await services.projections.digests()
    projections = services.projections
    names = sorted(projections.projectors)
    rng = random.Random(15)

    for page in [10_000, 1, *rng.sample(range(2, 120), 3)]:
        rebuilt = await projections.rebuild_many(names, page=page)
        assert rebuilt.switched
        assert rebuilt.head == (await services.store.head()).position
        assert await projections.digests() == live, f"rebuilt in pages of {page}"

    for page in rng.sample(range(1, 90), 3):
        async with services.engine.begin() as connection:
            for projector in projections.projectors.values():
                for table in projector.TABLES:
                    await connection.execute(text(f"DELETE FROM {table.name}"))
            await connection.execute(update(checkpoints).values(position=0))
        await projections.catch_up(page=page)
        assert await projections.digests() == live, f"caught up in pages of {page}"

    # The same log on the other engine (when there is one), imported page by page through
    # the live path, then rebuilt there: the same digests again.
    other = "postgres" if POSTGRES_URL and services.engine.dialect.name == "sqlite" else "sqlite"
    async for copy in _fresh_services(tmp_path, other):
        log = await services.store.read_all(limit=10_000)
        cut = rng.randrange(1, len(log))
        await copy.store.import_events(log[:cut])
        await copy.store.import_events(log[cut:])
        assert await copy.projections.digests() == live
        await copy.projections.rebuild_many(names, page=rng.randrange(1, 200))
        assert await copy.projections.digests() == live


async def test_events_appended_during_a_rebuild_are_folded_before_the_switch(
    services: Services,
) -> None:
    """Events appended while a rebuild reads the log are folded, under the write lock, by
    the live path into the fresh tables before they take the live ones' place; those
    appended after the switch, by the live path into the switched tables."""
    history = random_history(seed=7, steps=300)
    for stream, events in history[:150]:
        await services.store.append(stream, events)
    before = (await services.store.head()).position
    projections = services.projections
    seen: list[tuple[int, int]] = []
    rebuilding = asyncio.ensure_future(
        projections.rebuild_many(
            sorted(projections.projectors), lambda done, total, _: seen.append((done, total)), 7
        )
    )
    for stream, events in history[150:]:
        await services.store.append(stream, events)
        await asyncio.sleep(0)
    rebuilt = await rebuilding
    assert rebuilt.head > before  # it met appends made while it ran
    assert {status.lag for status in await projections.status()} == {0}
    live = await projections.digests()
    await projections.rebuild_many(sorted(projections.projectors))
    assert await projections.digests() == live
    assert seen
    assert seen[-1][0] == seen[-1][1]
