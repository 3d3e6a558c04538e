"""The composition root: one place that wires the database, the log and what reads it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from events.cooperation import cooperation_events
from events.database import create_engine
from events.store import EventStore
from service.settings import Settings


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    store: EventStore

    async def close(self) -> None:
        await self.engine.dispose()


def build_services(settings: Settings) -> Services:
    engine = create_engine(settings.database_url)
    store = EventStore(engine, cooperation_events)
    return Services(settings=settings, engine=engine, store=store)
