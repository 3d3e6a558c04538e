"""The composition root: one place that wires the database, the log and what reads it."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from domain.events import cooperation_events
from domain.handling import Commands
from events.database import create_engine
from events.feed import ChangeFeed
from events.store import EventStore
from projections.framework import Projections
from projections.models import built_in_projectors
from projections.queries.references import ReadModelReferences
from service.observability import Metrics
from service.operations.progress import LoggedProgress
from service.settings import Settings

log = logging.getLogger("coop.projections")


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    store: EventStore
    feed: ChangeFeed
    projections: Projections
    commands: Commands
    metrics: Metrics

    async def start(self) -> None:
        """Catch up any projection that is behind (how far, logged every few seconds and at
        the end), then listen for appends."""
        progress = LoggedProgress(log, "catching up the projections")
        await self.projections.catch_up(progress=progress)
        progress.finish()
        await self.feed.start()

    async def close(self) -> None:
        await self.feed.close()
        await self.engine.dispose()


def build_services(settings: Settings, store: EventStore | None = None) -> Services:
    """Everything a request or a command needs; pass `store` to use another event catalogue."""
    if store is None:
        store = EventStore(create_engine(settings.database_url), cooperation_events)
    feed = ChangeFeed(store, poll_seconds=settings.feed_poll_seconds)
    metrics = Metrics()
    # By positions: an import into an empty log is announced without its events.
    store.on_commit(
        lambda result: metrics.appends.inc(result.last_position - result.first_position + 1)
    )
    metrics.listening.set_function(lambda: 1 if feed.listening else 0)
    metrics.listen_reconnections.set_function(lambda: feed.reconnections)
    return Services(
        settings=settings,
        engine=store.engine,
        store=store,
        feed=feed,
        projections=Projections(store, built_in_projectors()),
        commands=Commands(store, ReadModelReferences()),
        metrics=metrics,
    )
