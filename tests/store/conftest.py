from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from events.store import EventStore
from tests.store.kinds import test_events


@pytest.fixture
def store(engine: AsyncEngine) -> EventStore:
    return EventStore(engine, test_events, max_payload_bytes=4096)
