"""COOP_CHECKPOINT_EVERY: the service checkpoints after so many events, or seconds."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from events.checkpoints import stored_checkpoints
from service.checkpointing import Checkpointer
from service.services import Services
from service.settings import Every
from service.signing import create_key_pair
from tests.audit.conftest import CORRECTION


async def checkpoints_made(services: Services) -> list[int]:
    async with services.engine.connect() as connection:
        return [made.tree_size for _, made in await stored_checkpoints(connection)]


async def wait_for(services: Services, count: int) -> list[int]:
    for _ in range(200):
        sizes = await checkpoints_made(services)
        if len(sizes) >= count:
            return sizes
        await asyncio.sleep(0.05)
    return await checkpoints_made(services)


def signing(services: Services, tmp_path: Path) -> None:
    key, _ = create_key_pair(tmp_path / "keys")
    services.settings = dataclasses.replace(services.settings, signing_key=str(key))


async def test_a_checkpoint_follows_every_so_many_events(sampled: Services, tmp_path: Path) -> None:
    signing(sampled, tmp_path)
    head = (await sampled.store.head()).position
    checkpointer = Checkpointer(sampled, Every(events=3))
    checkpointer.start()
    try:
        assert await wait_for(sampled, 1) == [head]  # the log was already 3 past none
        for _ in range(2):
            await sampled.store.append("membership:city-1@c40", [CORRECTION])
        await asyncio.sleep(0.3)
        assert await checkpoints_made(sampled) == [head]  # 2 events: not yet
        await sampled.store.append("membership:city-1@c40", [CORRECTION])
        assert await wait_for(sampled, 2) == [head, head + 3]
    finally:
        await checkpointer.stop()


async def test_a_timed_checkpoint_is_made_only_when_the_log_grew(
    sampled: Services, tmp_path: Path
) -> None:
    signing(sampled, tmp_path)
    checkpointer = Checkpointer(sampled, Every(seconds=1))
    assert (await checkpointer.if_due()) is not None
    assert (await checkpointer.if_due()) is None  # nothing new, and not a second later
    await sampled.store.append("membership:city-1@c40", [CORRECTION])
    await asyncio.sleep(1.1)
    made = await checkpointer.if_due()
    assert made is not None
    assert made.tree_size == (await sampled.store.head()).position
