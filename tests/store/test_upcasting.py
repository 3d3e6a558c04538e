"""Old payloads are never rewritten: upcasters lift them on read."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from events.model import RecordedEvent
from events.registry import EventTypes
from tests.store.kinds import ThingLabelled, test_events


def recorded(type_: str, version: int, data: dict[str, object]) -> RecordedEvent:
    return RecordedEvent(
        1, "thing:a", 1, uuid4(), type_, version, data, {}, datetime.now(UTC), "0" * 64, "0" * 64
    )


def test_v1_payload_is_lifted_to_the_current_version() -> None:
    old = recorded("ThingLabelled", 1, {"name": "a", "label": "x"})
    assert test_events.decode(old) == ThingLabelled("a", ["x"])
    assert test_events.decode(recorded("ThingLabelled", 1, {"name": "b", "label": None})) == (
        ThingLabelled("b", [])
    )


def test_current_payload_is_read_as_is() -> None:
    current = recorded("ThingLabelled", 2, {"name": "a", "labels": ["x", "y"]})
    assert test_events.decode(current) == ThingLabelled("a", ["x", "y"])


def test_a_version_without_its_upcaster_is_refused_at_registration() -> None:
    with pytest.raises(TypeError, match="lacks upcasters"):
        EventTypes().register(version=3, upcasters={1: dict})(ThingLabelled)
