"""Where many facts came from, read at once: for each, the source of its current version and
the events behind its versions, as the API's `source` and `provenance` fields answer them
(the same projection queries and rule, `made_or_ended`), for a page that lists many facts
whose other fields the SQL compiler answered."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from domain.vocabulary import ObjectKind
from projections.queries import history

Node = dict[str, Any]


@dataclass(frozen=True)
class Facts:
    """Answer nodes of one kind of object, each holding its `position` and its key in
    `key_field` (the key its versions are kept under)."""

    kind: ObjectKind
    key_field: str
    nodes: Sequence[Node]


async def add_origins(
    engine: AsyncEngine, groups: Sequence[Facts], position: int, first: int
) -> None:
    """Give each node its `source` and `provenance` (the first `first` events, and how many)
    as the record stood at `position`."""
    keys: dict[ObjectKind, set[str]] = defaultdict(set)
    for group in groups:
        keys[group.kind].update(node[group.key_field] for node in group.nodes)
    behind: dict[tuple[ObjectKind, str], list[int]] = {}
    async with engine.connect() as connection:
        for kind, some in keys.items():
            if not some:
                continue  # one read for each kind of object the page lists, none for none
            periods = await history.record_periods(connection, kind, sorted(some), position)
            for key in some:
                behind[kind, key] = history.made_or_ended(periods.get(key, ()), position)
        wanted = {made for positions in behind.values() for made in positions}
        wanted |= {node["position"] for group in groups for node in group.nodes}
        events = await history.provenance(connection, wanted)
    for group in groups:
        for node in group.nodes:
            made_by = events.get(node["position"])
            source = made_by.source if made_by else None
            node["source"] = (
                {"document": source["document"], "section": source.get("section")}
                if source
                else None
            )
            shown = [events[p] for p in behind[group.kind, node[group.key_field]] if p in events]
            node["provenance"] = {
                "totalCount": len(shown),
                "nodes": [_event(made) for made in shown[:first]],
            }


def _event(made: history.Provenance) -> Node:
    return {
        "position": made.position,
        "type": made.type,
        "recordedAt": made.recorded_at.isoformat(),
        "reason": made.reason,
    }
