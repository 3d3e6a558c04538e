"""The raw event log as GraphQL: `events(after:, first:, streamId:, types:)`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from events.model import RecordedEvent
from schema.context import Info, check_may_audit
from schema.errors import bad_input
from schema.pagination import Connection, Edge, PageInfo, Paging, page_size, wants_total


@strawberry.type
class Event:
    position: int
    stream_id: str
    stream_version: int
    event_id: str
    type: str
    schema_version: int
    data: JSON
    recorded_at: datetime
    prev_hash: str
    hash: str
    _metadata: strawberry.Private[dict[str, Any]]

    @strawberry.field(
        description="Actor, reason, source, correlation and causation ids, idempotency key"
        " (auditor and admin roles only)."
    )
    def metadata(self, info: Info) -> JSON:
        check_may_audit(info, "event metadata (who recorded what)")
        return cast(JSON, self._metadata)

    @classmethod
    def from_recorded(cls, event: RecordedEvent) -> Event:
        return cls(
            position=event.position,
            stream_id=event.stream_id,
            stream_version=event.stream_version,
            event_id=str(event.event_id),
            type=event.type,
            schema_version=event.schema_version,
            data=cast(JSON, event.data),
            _metadata=event.metadata,
            recorded_at=event.recorded_at,
            prev_hash=event.prev_hash,
            hash=event.hash,
        )


@strawberry.type
class LogQuery:
    @strawberry.field(
        description="The raw log in position order: the first events after position `after`,"
        " or the last before position `before`; each edge's cursor is its position."
    )
    async def events(
        self,
        info: Info,
        after: int = 0,
        first: int | None = None,
        before: int | None = None,
        last: int | None = None,
        stream_id: str | None = None,
        types: list[str] | None = None,
    ) -> Connection[Event]:
        if after < 0 or (before is not None and before < 1):
            raise bad_input("after is a log position (0 or more), before one of 1 or more")
        store = info.context.services.store
        paging = Paging(first=first, last=last)
        limit = page_size(info, paging)
        streams = [stream_id] if stream_id else None
        until = None if before is None else before - 1
        found = await store.read_all(
            after=after,
            until=until,
            limit=limit + 1,
            types=types,
            streams=streams,
            newest_first=paging.backward,
        )
        chosen = found[:limit][::-1] if paging.backward else found[:limit]
        edges = [Edge(cursor=str(e.position), node=Event.from_recorded(e)) for e in chosen]
        total = await store.count(types=types, streams=streams) if wants_total(info) else 0
        more = len(found) > limit
        return Connection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=before is not None if paging.backward else more,
                has_previous_page=more if paging.backward else after > 0,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            total_count=total,
        )
