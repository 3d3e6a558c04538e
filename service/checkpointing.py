"""Checkpoints made by the running service on a schedule (COOP_CHECKPOINT_EVERY).

Every so many seconds, a checkpoint when the log grew since the last one; or one as soon as
so many events were appended since the last one. Appends through this instance wake it at
once; those made through another instance are seen within COOP_FEED_POLL_SECONDS.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from events.checkpoints import Checkpoint, latest_checkpoint
from service.operations.checkpoints import make_checkpoint
from service.services import Services
from service.settings import Every

log = logging.getLogger("coop.checkpoints")


class Checkpointer:
    def __init__(self, services: Services, every: Every) -> None:
        self.services = services
        self.every = every
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        if every.events is not None:
            services.store.on_commit(lambda _result: self._wake.set())

    @property
    def interval(self) -> float:
        return self.every.seconds or self.services.settings.feed_poll_seconds

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="coop-checkpoints")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval)
            self._wake.clear()
            try:
                await self.if_due()
            except Exception:
                log.exception("a scheduled checkpoint failed")

    async def if_due(self) -> Checkpoint | None:
        """Make a checkpoint if the schedule calls for one now."""
        head = (await self.services.store.head()).position
        async with self.services.engine.connect() as connection:
            latest = await latest_checkpoint(connection)
        if not self._due(head, latest):
            return None
        made = await make_checkpoint(self.services)
        log.info("checkpoint", extra={"tree_size": made.tree_size, "root_hash": made.root_hash})
        return made

    def _due(self, head: int, latest: Checkpoint | None) -> bool:
        covered = 0 if latest is None else latest.tree_size
        if self.every.events is not None:
            return head - covered >= self.every.events
        if latest is None:
            return head > 0
        made = datetime.fromisoformat(latest.timestamp)
        elapsed = (datetime.now(UTC) - made).total_seconds()
        # Another instance may have made one meanwhile; the timestamp has whole seconds.
        return head > covered and elapsed >= (self.every.seconds or 0) - 1
