"""Event types used only by the store's contract tests."""

from __future__ import annotations

from dataclasses import dataclass

from events.dates import PartialDate
from events.registry import EventTypes

test_events = EventTypes()


@test_events.register()
@dataclass(frozen=True)
class ThingNamed:
    name: str
    tags: list[str]


@test_events.register()
@dataclass(frozen=True)
class ThingDated:
    name: str
    since: PartialDate | None = None


def _v1_to_v2(data: dict[str, object]) -> dict[str, object]:
    # v1 kept a single label; v2 keeps a list of them.
    label = data.pop("label", None)
    return {**data, "labels": [label] if label else []}


@test_events.register(version=2, upcasters={1: _v1_to_v2})
@dataclass(frozen=True)
class ThingLabelled:
    name: str
    labels: list[str]
